import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The API client's own behaviour (tokens, renewal, errors) against a
// scripted fetch; the real server is exercised by the end-to-end tests.
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

function script(replies: Reply[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const r = replies.shift();
    if (!r) throw new TypeError('Failed to fetch');
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: r.headers });
  });
  return calls;
}

const tokens = (access: string) => ({ access_token: access, refresh_token: `r-${access}`, expires_in: 900, user: { username: 'derick', client: 'UnicornStore', role: 'customer' } });

let api: typeof import('./api');

beforeEach(async () => {
  sessionStorage.clear();
  vi.resetModules();
  api = await import('./api');
});
afterEach(() => vi.unstubAllGlobals());

describe('api client', () => {
  it('renews an expired access token once and repeats the call', async () => {
    const calls = script([{ status: 200, body: tokens('a1') }, { status: 401, body: { title: 'Unauthorized' } }, { status: 200, body: tokens('a2') }, { status: 200, body: { balance: 5 } }]);
    await api.signIn('derick', 'pw');
    expect(await api.get('/points?account_id=derick')).toEqual({ balance: 5 });
    expect(calls.map((c) => c.url)).toEqual(['/auth/token', '/points?account_id=derick', '/auth/refresh', '/points?account_id=derick']);
    expect((calls[3].init.headers as Record<string, string>).Authorization).toBe('Bearer a2');
    expect(JSON.parse(String(calls[2].init.body))).toEqual({ refresh_token: 'r-a1' });
  });

  it('signs out when the session cannot be renewed, so the app shows the sign-in page', async () => {
    script([{ status: 200, body: tokens('a1') }, { status: 401, body: {} }, { status: 401, body: { title: 'Unauthorized' } }]);
    await api.signIn('derick', 'pw');
    const seen: unknown[] = [];
    api.onUserChange((u) => seen.push(u));
    await expect(api.get('/points?account_id=derick')).rejects.toMatchObject({ status: 401 });
    expect(api.currentUser()).toBeNull();
    expect(seen).toEqual([null]);
  });

  it('turns problem details into messages with their fields', async () => {
    script([{ status: 400, body: { title: 'Invalid request', detail: 'bad', errors: [{ field: 'amount', message: 'amount must be a number' }] } }]);
    const err = await api.get('/x').catch((e) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(api.errorText(err)).toBe('bad (amount: amount must be a number)');
  });

  it('says when to try again after too many attempts', async () => {
    script([{ status: 429, body: { title: 'Too many requests' }, headers: { 'Retry-After': '30' } }]);
    expect(api.errorText(await api.get('/x').catch((e) => e))).toBe('Too many attempts. Try again in 30 seconds.');
  });

  it('says the store cannot be reached when it is down', async () => {
    script([]);
    const err = await api.get('/x').catch((e) => e);
    expect(err).toMatchObject({ status: 0 });
    expect(api.errorText(err)).toMatch(/cannot be reached/);
  });
});

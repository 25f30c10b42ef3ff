import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The API client's own behaviour (tokens, renewal, errors) against a
// scripted fetch; the real server is exercised by the end-to-end tests.
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

// GET /settings (where people sign in) is answered apart, as the store's
// own sign-in unless a test gives other settings.
function script(replies: Reply[], settings: unknown = { point_value: 0.01, point_ttl_days: 365 }) {
  const calls: { url: string; init: RequestInit }[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    if (url === '/settings') return new Response(JSON.stringify(settings), { status: 200 });
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
  localStorage.clear();
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

  it('says a long wait in minutes, not seconds', async () => {
    script([{ status: 429, body: { title: 'Too many requests' }, headers: { 'Retry-After': '895' } }]);
    expect(api.errorText(await api.get('/x').catch((e) => e))).toBe('Too many attempts. Try again in 15 minutes.');
  });

  it('keeps the session for a new tab or a reload, and says when the store ended it', async () => {
    script([{ status: 200, body: tokens('a1') }]);
    await api.signIn('derick', 'pw');
    vi.resetModules();
    const reloaded = await import('./api');
    expect(reloaded.currentUser()?.username).toBe('derick');
    expect(reloaded.sessionEnded()).toBe(false);
    script([{ status: 401, body: {} }, { status: 401, body: { title: 'Unauthorized' } }]);
    await expect(reloaded.get('/x')).rejects.toMatchObject({ status: 401 });
    expect(reloaded.currentUser()).toBeNull();
    expect(reloaded.sessionEnded()).toBe(true);
  });

  it('hears another tab sign out', async () => {
    script([{ status: 200, body: tokens('a1') }]);
    await api.signIn('derick', 'pw');
    const seen: unknown[] = [];
    api.onUserChange((u) => seen.push(u));
    localStorage.removeItem('unicorn.session');
    window.dispatchEvent(new StorageEvent('storage', { key: 'unicorn.session' }));
    expect(api.currentUser()).toBeNull();
    expect(seen).toEqual([null]);
    expect(api.sessionEnded()).toBe(false); // the person signed out, in the other tab
  });

  it('takes the tokens another tab renewed instead of presenting a used refresh token', async () => {
    const calls = script([{ status: 200, body: tokens('a1') }, { status: 401, body: {} }, { status: 200, body: { ok: 1 } }]);
    await api.signIn('derick', 'pw');
    // Another tab renewed: the stored session has the next tokens.
    const stored = JSON.parse(localStorage.getItem('unicorn.session')!);
    localStorage.setItem('unicorn.session', JSON.stringify({ ...stored, access: 'a2', refresh: 'r-a2', expiresAt: Date.now() + 900_000 }));
    expect(await api.get('/x')).toEqual({ ok: 1 });
    expect(calls.map((c) => c.url)).toEqual(['/auth/token', '/x', '/x']);
    expect((calls[2].init.headers as Record<string, string>).Authorization).toBe('Bearer a2');
  });

  it('keeps the session when a renewal fails for a reason other than a refusal', async () => {
    script([{ status: 200, body: tokens('a1') }, { status: 401, body: {} }, { status: 503, body: { title: 'Unavailable' } }]);
    await api.signIn('derick', 'pw');
    await expect(api.get('/x')).rejects.toMatchObject({ status: 503 });
    expect(api.currentUser()?.username).toBe('derick');
    expect(api.sessionEnded()).toBe(false);
    // The store did not refuse the refresh token: the next call renews.
    script([{ status: 401, body: {} }, { status: 200, body: tokens('a2') }, { status: 200, body: { ok: 1 } }]);
    expect(await api.get('/x')).toEqual({ ok: 1 });
  });

  it('does not sign back in when a renewal ends after a sign-out', async () => {
    const calls: string[] = [];
    let answerRefresh: (r: Response) => void = () => undefined;
    vi.stubGlobal('fetch', async (url: string) => {
      calls.push(url);
      if (url === '/settings') return new Response(JSON.stringify({ point_value: 0.01, point_ttl_days: 365 }), { status: 200 });
      if (url === '/auth/token') return new Response(JSON.stringify(tokens('a1')), { status: 200 });
      if (url === '/auth/refresh') return new Promise<Response>((ok) => (answerRefresh = ok));
      if (url === '/auth/logout') return new Response(null, { status: 204 });
      return new Response(JSON.stringify({ title: 'Unauthorized' }), { status: 401 });
    });
    await api.signIn('derick', 'pw');
    const pending = api.get('/x').catch((e) => e);
    await vi.waitFor(() => expect(calls).toContain('/auth/refresh'));
    await api.signOut();
    answerRefresh(new Response(JSON.stringify(tokens('a2')), { status: 200 }));
    await pending;
    expect(api.currentUser()).toBeNull();
    expect(localStorage.getItem('unicorn.session')).toBeNull();
  });

  it('says the store cannot be reached when it is down', async () => {
    script([]);
    const err = await api.get('/x').catch((e) => e);
    expect(err).toMatchObject({ status: 0 });
    expect(api.errorText(err)).toMatch(/cannot be reached/);
  });
});

describe('signing in at Cognito (the cloud shape)', () => {
  const cloud = { point_value: 0.01, point_ttl_days: 365, sign_in: { provider: 'cognito', region: 'eu-west-1', client_id: 'app123' } };
  const pool = 'https://cognito-idp.eu-west-1.amazonaws.com/';
  const authenticated = (id: string, refresh?: string) => ({
    status: 200,
    body: { AuthenticationResult: { IdToken: id, AccessToken: `acc-${id}`, RefreshToken: refresh, ExpiresIn: 900, TokenType: 'Bearer' } },
  });
  const me = { status: 200, body: { kind: 'user', subject: 'ada', client: 'UnicornStore', role: 'admin' } };
  const target = (c: { init: RequestInit }) => (c.init.headers as Record<string, string>)['X-Amz-Target'];
  const sent = (c: { init: RequestInit }) => JSON.parse(String(c.init.body));

  it('signs in with the user pool, asks the store who that is, and sends the ID token', async () => {
    const calls = script([authenticated('id1', 'ref1'), me, { status: 200, body: { balance: 5 } }], cloud);
    expect(await api.signIn('ada', 'pw')).toEqual({ username: 'ada', client: 'UnicornStore', role: 'admin' });
    expect(calls[0].url).toBe(pool);
    expect(target(calls[0])).toBe('AWSCognitoIdentityProviderService.InitiateAuth');
    expect(sent(calls[0])).toEqual({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'app123', AuthParameters: { USERNAME: 'ada', PASSWORD: 'pw' } });
    expect(calls[1].url).toBe('/auth/me');
    expect((calls[1].init.headers as Record<string, string>).Authorization).toBe('Bearer id1');
    await api.get('/points?account_id=ada');
    expect((calls[2].init.headers as Record<string, string>).Authorization).toBe('Bearer id1');
  });

  it('renews at the user pool and keeps the refresh token, which Cognito does not send again', async () => {
    const calls = script([authenticated('id1', 'ref1'), me, { status: 401, body: {} }, authenticated('id2'), { status: 200, body: {} }, { status: 401, body: {} }, authenticated('id3'), { status: 200, body: {} }], cloud);
    await api.signIn('ada', 'pw');
    await api.get('/orders');
    expect(sent(calls[3])).toEqual({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: 'app123', AuthParameters: { REFRESH_TOKEN: 'ref1' } });
    expect((calls[4].init.headers as Record<string, string>).Authorization).toBe('Bearer id2');
    await api.get('/orders');
    expect(sent(calls[6]).AuthParameters).toEqual({ REFRESH_TOKEN: 'ref1' });
  });

  it('asks for a new password on a first sign-in, then for a one-time code', async () => {
    const calls = script(
      [
        { status: 200, body: { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's1' } },
        { status: 200, body: { ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 's2' } },
        authenticated('id1', 'ref1'),
        me,
      ],
      cloud,
    );
    const first = await api.signIn('ada', 'temporary').catch((e) => e);
    expect(first).toBeInstanceOf(api.ChallengeNeeded);
    expect(first.kind).toBe('new-password');
    const second = await first.answer('A new passw0rd!').catch((e: unknown) => e);
    expect(second.kind).toBe('code');
    expect(sent(calls[1])).toEqual({ ChallengeName: 'NEW_PASSWORD_REQUIRED', ClientId: 'app123', Session: 's1', ChallengeResponses: { USERNAME: 'ada', NEW_PASSWORD: 'A new passw0rd!' } });
    expect(await second.answer('123456')).toMatchObject({ username: 'ada' });
    expect(sent(calls[2]).ChallengeResponses).toEqual({ USERNAME: 'ada', SOFTWARE_TOKEN_MFA_CODE: '123456' });
    expect(api.currentUser()).toMatchObject({ username: 'ada', role: 'admin' });
  });

  it('says plainly when the password is wrong or Cognito throttles', async () => {
    script([{ status: 400, body: { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' } }, { status: 400, body: { __type: 'TooManyRequestsException' } }], cloud);
    const wrong = await api.signIn('ada', 'nope').catch((e) => e);
    expect(wrong).toMatchObject({ status: 401 });
    expect(api.errorText(wrong)).toBe('Incorrect username or password.');
    expect(api.errorText(await api.signIn('ada', 'nope').catch((e) => e))).toMatch(/Too many attempts/);
    expect(api.currentUser()).toBeNull();
  });

  it('revokes the refresh token at the user pool on sign-out', async () => {
    const calls = script([authenticated('id1', 'ref1'), me, { status: 200, body: {} }], cloud);
    await api.signIn('ada', 'pw');
    await api.signOut();
    expect(target(calls[2])).toBe('AWSCognitoIdentityProviderService.RevokeToken');
    expect(sent(calls[2])).toEqual({ ClientId: 'app123', Token: 'ref1' });
    expect(api.currentUser()).toBeNull();
  });
});

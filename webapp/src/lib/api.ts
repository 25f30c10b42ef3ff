// The API client: one fetch wrapper that adds the access token, renews it
// once on a 401, and turns problem+json answers into ApiError.

export type FieldError = { field: string; message: string; position?: number };

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[];
  // problem is the whole problem+json answer, with its extension members
  // (a purchase refused for a changed price carries today's prices).
  readonly problem: Record<string, unknown>;
  constructor(status: number, title: string, detail: string, errors: FieldError[] = [], problem: Record<string, unknown> = {}) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.errors = errors;
    this.problem = problem;
  }
}

export type User = { username: string; client: string; role: 'customer' | 'marketer' | 'admin' };

type Session = { access: string; refresh: string; expiresAt: number; user: User };

const storageKey = 'unicorn.session';

let session: Session | null = load();
const listeners = new Set<(u: User | null) => void>();

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(storageKey);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function save(s: Session | null) {
  if (!s && !session) return; // already signed out: nobody to tell again
  session = s;
  if (s) sessionStorage.setItem(storageKey, JSON.stringify(s));
  else sessionStorage.removeItem(storageKey);
  listeners.forEach((fn) => fn(s?.user ?? null));
}

export function currentUser(): User | null {
  return session?.user ?? null;
}

// onUserChange calls fn when someone signs in or out (or the session ends).
export function onUserChange(fn: (u: User | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

type TokenResponse = { access_token: string; refresh_token: string; expires_in: number; user: User };

function keep(t: TokenResponse) {
  save({ access: t.access_token, refresh: t.refresh_token, expiresAt: Date.now() + t.expires_in * 1000, user: t.user });
}

export async function signIn(username: string, password: string): Promise<User> {
  const t = await request<TokenResponse>('POST', '/auth/token', { username, password }, { auth: false });
  keep(t);
  return t.user;
}

export async function signOut() {
  const s = session;
  save(null);
  if (s) {
    // Best effort: the refresh token dies on the server too.
    await request('POST', '/auth/logout', { refresh_token: s.refresh }, { auth: false }).catch(() => undefined);
  }
}

let renewing: Promise<boolean> | null = null;

// renew trades the refresh token for new tokens, once for all callers
// that saw a 401 at the same time.
function renew(): Promise<boolean> {
  if (!session) return Promise.resolve(false);
  if (!renewing) {
    const refresh = session.refresh;
    renewing = request<TokenResponse>('POST', '/auth/refresh', { refresh_token: refresh }, { auth: false })
      .then((t) => {
        keep(t);
        return true;
      })
      .catch(() => {
        save(null);
        return false;
      })
      .finally(() => {
        renewing = null;
      });
  }
  return renewing;
}

type Options = { auth?: boolean; headers?: Record<string, string>; retried?: boolean };

export type Answer<T> = { status: number; body: T; headers: Headers };

export async function send<T>(method: string, path: string, body?: unknown, opts: Options = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const auth = opts.auth ?? true;
  if (auth && session) {
    if (session.expiresAt - Date.now() < 5_000) await renew();
    if (session) headers.Authorization = `Bearer ${session.access}`;
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'The store cannot be reached', 'The store cannot be reached. Check your connection and try again.');
  }
  if (res.status === 401 && auth && session && !opts.retried) {
    if (await renew()) return send<T>(method, path, body, { ...opts, retried: true });
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const p = (typeof data === 'object' && data) || {};
    const prob = p as { title?: string; detail?: string; errors?: FieldError[] };
    if (res.status === 401 && auth) save(null);
    let detail = prob.detail ?? '';
    if (res.status === 429) {
      const wait = res.headers.get('Retry-After');
      detail = `Too many attempts. ${wait ? `Try again in ${wait} seconds.` : 'Try again later.'}`;
    }
    if (res.status >= 500 && !detail) detail = 'Something went wrong in the store. Please try again in a moment.';
    throw new ApiError(res.status, prob.title ?? res.statusText, detail, prob.errors ?? [], p as Record<string, unknown>);
  }
  return { status: res.status, body: data as T, headers: res.headers };
}

export async function request<T>(method: string, path: string, body?: unknown, opts: Options = {}): Promise<T> {
  return (await send<T>(method, path, body, opts)).body;
}

export const get = <T,>(path: string) => request<T>('GET', path);

// errorText is what to tell a person about a failed call.
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    if (fields && err.message === err.title) return fields;
    return fields && !err.message.includes(fields) ? `${err.message} (${fields})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function newKey(): string {
  return crypto.randomUUID();
}

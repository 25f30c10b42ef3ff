// The API client: one fetch wrapper that adds the access token, renews it
// once on a 401, and turns problem+json answers into ApiError. People sign
// in at the store (POST /auth/token), or at the Cognito user pool GET
// /settings names (the cloud shape).

import type { components } from './api-types';
import * as cognito from './cognito';
import { duration } from './format';

type Schemas = components['schemas'];

export type FieldError = Schemas['FieldError'];

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

// User is who is signed in, as the session keeps it.
export type User = Pick<Schemas['User'], 'username' | 'client' | 'role'>;

// A session made at Cognito keeps its app client: renewal and sign-out go
// there too.
type Session = { access: string; refresh: string; expiresAt: number; user: User; cognito?: cognito.CognitoClient };

// The session lives in localStorage: a new tab, a bookmark or a reload
// finds the person signed in, as on every shop. Tabs share it; each hears
// the others' changes (the storage event) and renewals take turns (below).
const storageKey = 'unicorn.session';

let session: Session | null = load();
const listeners = new Set<(u: User | null) => void>();

// ended says why the last session ended when the store ended it (it expired
// or was revoked), so that the sign-in page can say so; a sign-out by the
// person is not news to them.
let ended: 'expired' | null = null;

// epoch counts sign-outs (here or in another tab): a renewal that started
// before one drops its tokens rather than sign the person in again.
let epoch = 0;
// persisted: the session is in localStorage (not a private window that
// refuses it), so an empty storage means another tab signed out.
let persisted = false;

function load(): Session | null {
  try {
    const raw = localStorage.getItem(storageKey);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function tell(before: Session | null) {
  if ((before?.user.username ?? null) !== (session?.user.username ?? null) || !before !== !session) {
    listeners.forEach((fn) => fn(session?.user ?? null));
  }
}

function save(s: Session | null, why: 'expired' | null = null) {
  if (!s && !session) return; // already signed out: nobody to tell again
  const before = session;
  session = s;
  ended = s ? null : why;
  if (!s) epoch++;
  try {
    if (s) localStorage.setItem(storageKey, JSON.stringify(s));
    else localStorage.removeItem(storageKey);
    persisted = s !== null;
  } catch {
    // Storage full or refused (a private window): the session lives in
    // this tab's memory only.
  }
  tell(before);
}

if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key !== storageKey && e.key !== null) return;
    const before = session;
    session = load();
    if (!session && before) {
      ended = null; // signed out in another tab
      epoch++;
    }
    tell(before);
  });
}

// sessionEnded says whether the store ended the last session (not the
// person), for the sign-in page's message.
export function sessionEnded(): boolean {
  return ended === 'expired';
}

export function currentUser(): User | null {
  return session?.user ?? null;
}

// onUserChange calls fn when someone signs in or out (or the session ends).
export function onUserChange(fn: (u: User | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

type TokenResponse = Schemas['Tokens'];

function keep(t: TokenResponse) {
  save({ access: t.access_token, refresh: t.refresh_token, expiresAt: Date.now() + t.expires_in * 1000, user: t.user });
}

let provider: Promise<cognito.CognitoClient | null> | null = null;

// signInProvider is the Cognito app client people sign in with, or null
// when they sign in at the store itself.
export function signInProvider(): Promise<cognito.CognitoClient | null> {
  if (!provider) {
    provider = request<Schemas['Settings']>('GET', '/settings', undefined, { auth: false })
      .then((s) => (s.sign_in?.provider === 'cognito' ? { region: s.sign_in.region, client_id: s.sign_in.client_id } : null))
      .catch((err) => {
        provider = null; // ask again next time
        throw err;
      });
  }
  return provider;
}

// ChallengeNeeded: the sign-in needs one more answer (a first sign-in's
// new password, or a one-time code) before it has a session.
export class ChallengeNeeded extends Error {
  readonly kind: 'new-password' | 'code';
  readonly answer: (value: string) => Promise<User>;
  constructor(kind: 'new-password' | 'code', answer: (value: string) => Promise<User>) {
    super(kind === 'new-password' ? 'Choose a new password to finish signing in.' : 'Enter the code from your authenticator app.');
    this.kind = kind;
    this.answer = answer;
  }
}

function fromCognito(err: unknown): never {
  if (err instanceof cognito.CognitoError) throw new ApiError(err.status, 'Could not sign in', err.message);
  throw err;
}

// signedInAtCognito finishes a Cognito sign-in: tokens make a session
// (the store says who the token is: GET /auth/me); a challenge asks for
// one more answer.
async function signedInAtCognito(c: cognito.CognitoClient, r: cognito.CognitoTokens | cognito.CognitoChallenge): Promise<User> {
  if ('name' in r) {
    throw new ChallengeNeeded(r.name === 'NEW_PASSWORD_REQUIRED' ? 'new-password' : 'code', (value) =>
      cognito.respond(c, r, value).catch(fromCognito).then((next) => signedInAtCognito(c, next)),
    );
  }
  const me = await request<Schemas['Principal']>('GET', '/auth/me', undefined, {
    auth: false,
    headers: { Authorization: `Bearer ${r.idToken}` },
  });
  // An ID token is a person's: only an API key has no role.
  if (!me.role) throw new ApiError(403, 'Could not sign in', 'These credentials are not a person\'s.');
  const user: User = { username: me.subject, client: me.client, role: me.role };
  save({ access: r.idToken, refresh: r.refreshToken ?? '', expiresAt: Date.now() + r.expiresIn * 1000, user, cognito: c });
  return user;
}

export async function signIn(username: string, password: string): Promise<User> {
  const c = await signInProvider();
  if (c) {
    return signedInAtCognito(c, await cognito.passwordSignIn(c, username, password).catch(fromCognito));
  }
  const t = await request<TokenResponse>('POST', '/auth/token', { username, password }, { auth: false });
  keep(t);
  return t.user;
}

export async function signOut() {
  const s = session;
  save(null);
  if (s?.cognito) {
    await cognito.revoke(s.cognito, s.refresh).catch(() => undefined);
  } else if (s) {
    // Best effort: the refresh token dies on the server too.
    await request('POST', '/auth/logout', { refresh_token: s.refresh }, { auth: false }).catch(() => undefined);
  }
}

// A renewal ends 'renewed', 'ended' (no session: refused, or signed out)
// or 'later' (the store could not answer: the session stays).
type Renewal = 'renewed' | 'ended' | 'later';

let renewing: Promise<Renewal> | null = null;

// renew trades the refresh token for new tokens, once for all callers
// that saw a 401 at the same time. Tabs take turns (a Web Lock where the
// browser has them): the server ends a session whose refresh token is
// presented twice, so a tab first looks whether another renewed already.
function renew(): Promise<Renewal> {
  if (!session) return Promise.resolve('ended');
  if (!renewing) {
    const mine = session;
    const started = epoch;
    const turn = (fn: () => Promise<Renewal>): Promise<Renewal> =>
      typeof navigator !== 'undefined' && navigator.locks
        ? // The lock's promise settles with the callback's (TypeScript's lib types it one promise deeper).
          (navigator.locks.request('unicorn.session.renew', fn) as unknown as Promise<Renewal>)
        : fn();
    renewing = turn(async () => {
      const stored = load();
      if (epoch !== started || (persisted && !stored)) {
        // Signed out meanwhile, here or in another tab: nothing to renew.
        if (session && !stored && persisted) save(null);
        return 'ended';
      }
      if (stored && stored.refresh !== mine.refresh && stored.user.username === mine.user.username && stored.expiresAt - Date.now() > 5_000) {
        const before = session;
        session = stored; // another tab renewed
        tell(before);
        return 'renewed';
      }
      const s = stored ?? mine;
      if (s.cognito) {
        const t = await cognito.refresh(s.cognito, s.refresh);
        if (epoch !== started) return 'ended'; // signed out while it ran
        save({ ...s, access: t.idToken, expiresAt: Date.now() + t.expiresIn * 1000 });
      } else {
        const t = await request<TokenResponse>('POST', '/auth/refresh', { refresh_token: s.refresh }, { auth: false });
        if (epoch !== started) return 'ended';
        keep(t);
      }
      return 'renewed';
    })
      .catch((err) => {
        // Only a refusal ends the session; a network failure, a 429 or a
        // 5xx keeps it (for every tab) until a later renewal works.
        const status = err instanceof ApiError || err instanceof cognito.CognitoError ? err.status : 0;
        if (epoch !== started) return 'ended';
        if (status === 400 || status === 401 || status === 403) {
          save(null, 'expired');
          return 'ended';
        }
        return 'later';
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
    const renewal = await renew();
    if (renewal === 'renewed') return send<T>(method, path, body, { ...opts, retried: true });
    if (renewal === 'later') {
      throw new ApiError(503, 'Service Unavailable', 'The store could not renew your session just now. Please try again in a moment.');
    }
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
    if (res.status === 401 && auth) save(null, 'expired');
    let detail = prob.detail ?? '';
    if (res.status === 429) {
      const wait = res.headers.get('Retry-After');
      const seconds = wait !== null && /^\d+$/.test(wait) ? Number(wait) : undefined;
      detail = `Too many attempts. ${seconds !== undefined ? `Try again in ${duration(seconds)}.` : 'Try again later.'}`;
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

type Order = Schemas['Order'];

// returnOrder asks to return some of an order's lines, or (no lines) all
// that is left, which cancels it. key is the person's action: sending it
// again (a double click, a retry) makes one return. The answer is the
// order: 201 when the return's saga ended, 202 while it runs (follow GET
// /orders/{id}).
export function returnOrder(orderId: string, body: Schemas['ReturnRequest'], key: string): Promise<Answer<Order>> {
  return send<Order>('POST', `/orders/${encodeURIComponent(orderId)}/returns`, body, { headers: { 'Idempotency-Key': key } });
}

// retryOrder runs an order's saga again (an admin): for a completed order,
// the steps of the return that needs attention.
export function retryOrder(orderId: string): Promise<Answer<Order>> {
  return send<Order>('POST', `/orders/${encodeURIComponent(orderId)}/retry`);
}

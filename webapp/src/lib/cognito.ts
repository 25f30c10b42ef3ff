// Signing in at a Cognito user pool, as the store does in the cloud (GET
// /settings names the pool's region and app client). The pool's own API is
// called directly: InitiateAuth with a username and password
// (USER_PASSWORD_AUTH), RespondToAuthChallenge for a first sign-in's new
// password or a one-time code, InitiateAuth again with the refresh token,
// and RevokeToken on sign-out. The store then accepts the ID token.

export type CognitoClient = { region: string; client_id: string };

export type CognitoTokens = { idToken: string; refreshToken?: string; expiresIn: number };

// A challenge is what Cognito asks before it gives tokens.
export type CognitoChallenge = { name: 'NEW_PASSWORD_REQUIRED' | 'SOFTWARE_TOKEN_MFA'; session: string; username: string };

export class CognitoError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type AuthAnswer = {
  AuthenticationResult?: { IdToken: string; RefreshToken?: string; ExpiresIn: number };
  ChallengeName?: string;
  Session?: string;
};

// What people are told for Cognito's errors (its own messages are terse
// or name internals).
const problems: Record<string, [number, string]> = {
  NotAuthorizedException: [401, 'Incorrect username or password.'],
  UserNotFoundException: [401, 'Incorrect username or password.'],
  PasswordResetRequiredException: [403, 'Your password must be reset: ask an administrator of the store.'],
  UserNotConfirmedException: [403, 'Your account is not confirmed yet: ask an administrator of the store.'],
  TooManyRequestsException: [429, 'Too many attempts. Try again in a minute.'],
  LimitExceededException: [429, 'Too many attempts. Try again in a minute.'],
  TooManyFailedAttemptsException: [429, 'Too many attempts. Try again in a minute.'],
  CodeMismatchException: [400, 'That code is not right. Enter the current one from your authenticator app.'],
  ExpiredCodeException: [400, 'That code has expired. Enter the current one from your authenticator app.'],
};

async function call<T>(c: CognitoClient, action: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`https://cognito-idp.${c.region}.amazonaws.com/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}` },
      body: JSON.stringify(body),
    });
  } catch {
    throw new CognitoError(0, 'The sign-in service cannot be reached. Check your connection and try again.');
  }
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const type = String(data.__type ?? '').split('#').pop() ?? '';
    const [status, message] = problems[type] ?? [res.status, String(data.message ?? 'The sign-in service refused the request.')];
    // An invalid new password: Cognito's message says which rule.
    if (type === 'InvalidPasswordException' || type === 'InvalidParameterException') throw new CognitoError(400, String(data.message ?? message));
    throw new CognitoError(status, message);
  }
  return data as T;
}

function answer(a: AuthAnswer, username: string): CognitoTokens | CognitoChallenge {
  if (a.AuthenticationResult) {
    const r = a.AuthenticationResult;
    return { idToken: r.IdToken, refreshToken: r.RefreshToken, expiresIn: r.ExpiresIn };
  }
  if ((a.ChallengeName === 'NEW_PASSWORD_REQUIRED' || a.ChallengeName === 'SOFTWARE_TOKEN_MFA') && a.Session) {
    return { name: a.ChallengeName, session: a.Session, username };
  }
  throw new CognitoError(403, `Signing in needs a step this app does not offer (${a.ChallengeName ?? 'unknown'}): ask an administrator of the store.`);
}

export async function passwordSignIn(c: CognitoClient, username: string, password: string) {
  const a = await call<AuthAnswer>(c, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: c.client_id,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  return answer(a, username);
}

// respond answers a challenge: the new password, or the one-time code.
export async function respond(c: CognitoClient, ch: CognitoChallenge, value: string) {
  const responses: Record<string, string> = { USERNAME: ch.username };
  if (ch.name === 'NEW_PASSWORD_REQUIRED') responses.NEW_PASSWORD = value;
  else responses.SOFTWARE_TOKEN_MFA_CODE = value;
  const a = await call<AuthAnswer>(c, 'RespondToAuthChallenge', {
    ChallengeName: ch.name,
    ClientId: c.client_id,
    Session: ch.session,
    ChallengeResponses: responses,
  });
  return answer(a, ch.username);
}

export async function refresh(c: CognitoClient, refreshToken: string): Promise<CognitoTokens> {
  const a = await call<AuthAnswer>(c, 'InitiateAuth', {
    AuthFlow: 'REFRESH_TOKEN_AUTH',
    ClientId: c.client_id,
    AuthParameters: { REFRESH_TOKEN: refreshToken },
  });
  const t = answer(a, '');
  if (!('idToken' in t)) throw new CognitoError(401, 'The session has ended.');
  return t;
}

export async function revoke(c: CognitoClient, refreshToken: string) {
  await call(c, 'RevokeToken', { ClientId: c.client_id, Token: refreshToken });
}

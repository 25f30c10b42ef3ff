import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderUI } from '../test/render';
import { SignIn } from './SignIn';

afterEach(() => vi.unstubAllGlobals());

describe('SignIn at a Cognito user pool', () => {
  it('asks for a new password on a first sign-in, then signs in, and offers no demo users', async () => {
    const cognito: string[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url === '/settings') return json({ point_value: 0.01, point_ttl_days: 365, sign_in: { provider: 'cognito', region: 'eu-west-1', client_id: 'app' } });
      if (url === '/auth/me') return json({ kind: 'user', subject: 'ada', client: 'UnicornStore', role: 'admin' });
      const action = (init.headers as Record<string, string>)['X-Amz-Target'].split('.')[1];
      cognito.push(action);
      if (action === 'InitiateAuth') return json({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' });
      return json({ AuthenticationResult: { IdToken: 'id', RefreshToken: 'r', ExpiresIn: 900 } });
    });
    const signedIn = vi.fn();
    renderUI(<SignIn onSignedIn={signedIn} />);
    fireEvent.change(screen.getByLabelText(/^Username/), { target: { value: 'ada' } });
    fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: 'temporary' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    const fresh = await screen.findByLabelText(/^New password/);
    expect(screen.queryByText(/Demo users/)).toBeNull();
    fireEvent.change(fresh, { target: { value: 'A new passw0rd!' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(signedIn).toHaveBeenCalledWith({ username: 'ada', client: 'UnicornStore', role: 'admin' }));
    expect(cognito).toEqual(['InitiateAuth', 'RespondToAuthChallenge']);
  });
});

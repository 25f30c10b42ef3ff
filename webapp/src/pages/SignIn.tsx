import { Alert, Button, Center, Chip, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { ChallengeNeeded, errorText, signIn, signInProvider, type User } from '../lib/api';
import { useDocumentTitle } from '../lib/title';

const demoUsers = [
  { username: 'derick', what: 'a customer' },
  { username: 'marketer', what: 'runs campaigns' },
  { username: 'admin', what: 'the back office' },
];

// ended: the store ended the last session (it expired or was revoked); the
// page says so, and signing in again goes back where the person was.
export function SignIn({ onSignedIn, ended = false }: { onSignedIn: (u: User) => void; ended?: boolean }) {
  useDocumentTitle('Sign in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // A sign-in at Cognito may need one more answer: a first sign-in's new
  // password, or a one-time code.
  const [challenge, setChallenge] = useState<ChallengeNeeded>();
  const [reply, setReply] = useState('');
  // The demo users exist only where the store signs people in itself.
  const [demo, setDemo] = useState(false);
  useEffect(() => {
    signInProvider()
      .then((p) => setDemo(p === null))
      .catch(() => setDemo(false));
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await (challenge ? challenge.answer(reply.trim()) : signIn(username.trim(), password)));
    } catch (err) {
      if (err instanceof ChallengeNeeded) {
        setChallenge(err);
        setReply('');
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md" bg="grape.0">
      <Paper withBorder shadow="md" p="xl" w="100%" maw={420} component="main">
        <form onSubmit={submit} aria-label="Sign in">
          <Stack>
            <Group gap="xs">
              <img src="/favicon.svg" alt="" width={36} height={36} />
              <Title order={1} size="h2">Unicorn Store</Title>
            </Group>
            {ended && error === undefined && (
              <Alert color="blue" role="status" title="Your session ended">
                Sign in again to go on where you left off.
              </Alert>
            )}
            <Text c="dimmed" size="sm">
              Sign in to shop, follow your points, run campaigns or keep the store.
            </Text>
            {error !== undefined && (
              <Alert color="red" role="alert" title="Could not sign in">
                {errorText(error)}
              </Alert>
            )}
            {challenge === undefined && (
              <>
                <TextInput label="Username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.currentTarget.value)} autoFocus />
                <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
              </>
            )}
            {challenge?.kind === 'new-password' && (
              <PasswordInput
                label="New password"
                description={`${challenge.message} At least 12 characters, with upper- and lower-case letters, a digit and a symbol.`}
                autoComplete="new-password"
                required
                autoFocus
                value={reply}
                onChange={(e) => setReply(e.currentTarget.value)}
              />
            )}
            {challenge?.kind === 'code' && (
              <TextInput
                label="One-time code"
                description={challenge.message}
                autoComplete="one-time-code"
                inputMode="numeric"
                required
                autoFocus
                value={reply}
                onChange={(e) => setReply(e.currentTarget.value)}
              />
            )}
            <Button type="submit" loading={busy} fullWidth>
              {challenge ? 'Continue' : 'Sign in'}
            </Button>
            {demo && (
              <div>
                <Text size="xs" c="dimmed" mb={6}>
                  Demo users (their password is the one given with -demo-password, or printed by the server when it first starts):
                </Text>
                <Group gap={6}>
                  {demoUsers.map((u) => (
                    <Chip key={u.username} size="xs" checked={username === u.username} onChange={() => setUsername(u.username)}>
                      {u.username} · {u.what}
                    </Chip>
                  ))}
                </Group>
              </div>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

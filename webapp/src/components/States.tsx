// Loading, error and empty states, the same on every page.
import { Alert, Anchor, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError, errorText } from '../lib/api';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">{label}</Text>
      </Group>
    </Center>
  );
}

// headings name the causes people can act on; a retry is offered only
// where trying again may work (not for what does not exist or is not
// theirs to see).
const headings: Record<number, string> = {
  0: 'The store cannot be reached',
  403: 'Not allowed',
  404: 'Not found',
  409: 'This changed meanwhile',
  412: 'This changed meanwhile',
  429: 'Too many attempts',
};

export function ErrorNote({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const status = error instanceof ApiError ? error.status : undefined;
  const heading = title ?? (status !== undefined ? headings[status] : undefined) ?? (status !== undefined && status < 500 ? 'Cannot do that' : 'Something went wrong');
  if (status === 403 || status === 404) onRetry = undefined;
  return (
    <Alert color="red" title={heading} role="alert">
      <Stack gap="xs">
        <Text size="sm">{errorText(error)}</Text>
        {status === 404 && (
          <Text size="sm">
            <Anchor href="#/" underline="always">Go to your home page</Anchor>
          </Text>
        )}
        {onRetry && (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={onRetry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Center py="lg">
      <Text c="dimmed">{children}</Text>
    </Center>
  );
}

// Section renders a load's three states, then its content.
export function Section<T>({
  load,
  children,
  empty,
  isEmpty,
}: {
  load: { data: T | undefined; error: unknown; loading: boolean; reload: () => void };
  children: (data: T) => ReactNode;
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
}) {
  if (load.error && load.data === undefined) return <ErrorNote error={load.error} onRetry={load.reload} />;
  if (load.data === undefined) return <Loading />;
  if (empty && isEmpty?.(load.data)) return <Empty>{empty}</Empty>;
  return (
    <>
      {load.error !== undefined && <ErrorNote error={load.error} onRetry={load.reload} />}
      {children(load.data)}
    </>
  );
}

// A page that throws shows what happened and a way out, not a blank screen
// (a stale tab after a new release cannot load its page's code, say).
import { Alert, Button, Group, Text } from '@mantine/core';
import { Component, type ErrorInfo, type ReactNode } from 'react';

type State = { error?: Error };

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = {};

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.warn('page failed', error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert color="red" title="This page could not be shown" role="alert" m="md">
        <Text size="sm">{this.state.error.message}</Text>
        <Group mt="sm">
          <Button size="xs" color="red" variant="light" onClick={() => window.location.reload()}>
            Reload the store
          </Button>
        </Group>
      </Alert>
    );
  }
}

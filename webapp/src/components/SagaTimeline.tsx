// A purchase's (or a return's) saga as a customer sees it: each step with ✓, ✗, ⟳ or ↺.
import { Badge, Group, List, Text, ThemeIcon } from '@mantine/core';
import { stateMark, timeline, type StepState } from '../lib/saga';
import type { SagaStep } from '../lib/types';

const colors: Record<StepState, string> = { running: 'blue', done: 'teal', failed: 'red', retrying: 'yellow', undone: 'grape', skipped: 'gray' };
// A compensation that gave something back is done like any step; one whose
// forward step took nothing says so.
const words: Record<StepState, string> = { running: 'in progress', done: 'done', failed: 'failed', retrying: 'trying again', undone: 'done', skipped: 'nothing to give back' };

// label names the list (a purchase's or a return's steps); testId tells the
// timelines of one page apart.
export function SagaTimeline({ steps, live = false, label = 'Purchase steps', testId = 'saga' }: { steps?: SagaStep[]; live?: boolean; label?: string; testId?: string }) {
  const items = timeline(steps);
  if (items.length === 0) return <Text c="dimmed">{live ? 'Starting…' : 'No steps recorded.'}</Text>;
  return (
    <List spacing="xs" listStyleType="none" aria-label={label} aria-live={live ? 'polite' : undefined} data-testid={testId}>
      {items.map((it) => (
        <List.Item key={it.step} data-step={it.step} data-state={it.state}>
          <Group gap="sm" wrap="nowrap" align="flex-start">
            <ThemeIcon size="sm" radius="xl" color={colors[it.state]} variant={it.compensation || it.state === 'skipped' ? 'light' : 'filled'} aria-hidden>
              <span>{stateMark[it.state]}</span>
            </ThemeIcon>
            <div>
              <Group gap={6}>
                <Text size="sm" fw={500} c={it.state === 'skipped' ? 'dimmed' : undefined}>
                  {it.label}
                </Text>
                <Badge size="xs" variant="light" color={colors[it.state]}>
                  {words[it.state]}
                </Badge>
                {it.attempts > 1 && (
                  <Text size="xs" c="dimmed">
                    {it.attempts} tries
                  </Text>
                )}
              </Group>
              {it.cause && it.state !== 'done' && (
                <Text size="xs" c="dimmed">
                  {it.cause}
                </Text>
              )}
            </div>
          </Group>
        </List.Item>
      ))}
    </List>
  );
}

// What is wrong with a draft (the API's problems, or the JSON parser's),
// and what may be (warnings), listed under the editor.
import { Alert, Stack, Text } from '@mantine/core';
import type { Problem } from '../../components/JsonEditor';
import { warningText } from '../../lib/campaigns';
import type { CampaignWarning } from '../../lib/types';

export function ProblemList({ problems, checking }: { problems: Problem[]; checking: boolean }) {
  if (problems.length === 0) {
    return <Text size="sm" c={checking ? 'dimmed' : 'teal'} aria-live="polite">{checking ? 'Checking…' : '✓ No problems found'}</Text>;
  }
  return (
    <Alert color="red" p="xs" aria-live="polite" title={`${problems.length} problem${problems.length > 1 ? 's' : ''}`}>
      <Stack gap={2}>
        {problems.map((p, i) => (
          <Text size="sm" key={i} data-testid="problem" data-field={p.field}>
            {p.field && p.field !== '$json' && <code>{p.field}{p.position !== undefined ? ` (character ${p.position + 1})` : ''}: </code>}
            {p.message}
          </Text>
        ))}
      </Stack>
    </Alert>
  );
}

// WarningList shows what may be a mistake in the campaign (a field the
// store's purchase events do not have); it does not stop a save.
export function WarningList({ warnings }: { warnings: CampaignWarning[] }) {
  if (warnings.length === 0) return null;
  return (
    <Alert color="yellow" p="xs" aria-live="polite" title={`${warnings.length} warning${warnings.length > 1 ? 's' : ''}: the campaign can be saved`}>
      <Stack gap={2}>
        {warnings.map((w, i) => (
          <Text size="sm" key={i} data-testid="warning" data-field={w.field}>
            {warningText(w)}
          </Text>
        ))}
      </Stack>
    </Alert>
  );
}

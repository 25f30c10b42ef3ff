// A campaign's versions: who changed it when, what changed between any two
// versions (a line diff of their JSON), and the way back: load an old
// version into the editor, or make it current again (a new version with
// its rules and settings; the history is kept).
import { Box, Button, Group, Modal, NativeSelect, Paper, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';
import { Section } from '../../components/States';
import { diffSummary, draftText, lineDiff, type DiffLine } from '../../lib/campaigns';
import { when } from '../../lib/format';
import type { Campaign, Revision, RevisionPage } from '../../lib/types';
import { useApi } from '../../lib/useApi';
import { campaignPath, q } from './List';
import { ScrollTable } from '../../components/ScrollTable';

type Props = {
  campaign: Campaign;
  dirty: boolean;
  busy: boolean;
  onLoad: (r: Revision) => void;
  onRollback: (r: Revision) => Promise<boolean>;
};

export function Versions({ campaign, dirty, busy, onLoad, onRollback }: Props) {
  // The version in the address reloads the list after every change.
  const revs = useApi<RevisionPage>(`${campaignPath(campaign.campaign_name)}/versions?${q(campaign.client)}&v=${campaign.version}`);
  const [confirm, setConfirm] = useState<Revision>();
  return (
    <Section load={revs}>
      {(d) => {
        const live = d.items.filter((r) => !r.deleted);
        return (
          <Stack>
            <ScrollTable label="Versions, scrollable" minWidth={560}>
              <Table aria-label="Versions">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Version</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Changed</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {[...d.items].reverse().map((r) => (
                    <Table.Tr key={r.version}>
                      <Table.Td>
                        v{r.version}
                        {r.version === campaign.version && <Text span size="xs" c="dimmed"> (current)</Text>}
                      </Table.Td>
                      <Table.Td>{r.deleted ? 'deleted' : r.campaign.status ?? 'active'}</Table.Td>
                      <Table.Td>
                        {when(r.updated_at)} by {r.updated_by}
                      </Table.Td>
                      <Table.Td>
                        {!r.deleted && r.version !== campaign.version && (
                          <Group gap={4} wrap="nowrap">
                            <Button size="xs" variant="subtle" aria-label={`Load into the editor: version ${r.version}`} onClick={() => onLoad(r)}>
                              Load into the editor
                            </Button>
                            <Button size="xs" variant="subtle" color="orange" aria-label={`Make current: version ${r.version}`} disabled={busy}
                              onClick={() => setConfirm(r)}>
                              Make current
                            </Button>
                          </Group>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
            {live.length > 1 && <Diff versions={live} current={campaign.version} />}
            <Modal opened={confirm !== undefined} onClose={() => setConfirm(undefined)} title={`Make version ${confirm?.version ?? ''} current?`}>
              {confirm && (
                <Stack>
                  <Text size="sm">
                    Version {campaign.version + 1} will have the rules and settings of version {confirm.version}, status {confirm.campaign.status ?? 'active'}{' '}
                    included. Every version stays in the history.
                  </Text>
                  {dirty && <Text size="sm" c="orange.9">The unsaved edits in the editor will be replaced.</Text>}
                  <Group justify="flex-end">
                    <Button variant="default" onClick={() => setConfirm(undefined)}>Cancel</Button>
                    <Button color="orange" loading={busy}
                      onClick={() => void onRollback(confirm).then((ok) => ok && setConfirm(undefined))}>
                      Make version {confirm.version} current
                    </Button>
                  </Group>
                </Stack>
              )}
            </Modal>
          </Stack>
        );
      }}
    </Section>
  );
}

// Diff compares two versions the marketer picks: by default the one
// before the current, and the current.
function Diff({ versions, current }: { versions: Revision[]; current: number }) {
  const latest = versions.at(-1)!.version;
  const [to, setTo] = useState(String(versions.some((r) => r.version === current) ? current : latest));
  const [from, setFrom] = useState(String(versions.at(-2)!.version));
  const a = versions.find((r) => String(r.version) === from);
  const b = versions.find((r) => String(r.version) === to);
  const options = [...versions].reverse().map((r) => ({ value: String(r.version), label: `Version ${r.version}` }));
  const lines = a && b ? lineDiff(draftText(a.campaign), draftText(b.campaign)) : [];
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Title order={2} size="h4">Compare versions</Title>
        <Group align="end">
          <NativeSelect label="Older" data={options} value={from} onChange={(e) => setFrom(e.currentTarget.value)} w={160} />
          <NativeSelect label="Newer" data={options} value={to} onChange={(e) => setTo(e.currentTarget.value)} w={160} />
        </Group>
        <Text size="sm" data-testid="diff-summary" aria-live="polite">
          Version {from} → version {to}: {diffSummary(lines)}
        </Text>
        <DiffView lines={lines} label={`Changes from version ${from} to version ${to}`} />
      </Stack>
    </Paper>
  );
}

const marks: Record<DiffLine['kind'], { sign: string; bg?: string; word?: string }> = {
  same: { sign: ' ' },
  added: { sign: '+', bg: 'var(--mantine-color-teal-0)', word: 'added' },
  removed: { sign: '−', bg: 'var(--mantine-color-red-0)', word: 'removed' },
};

// DiffView lists the lines, + for added and − for removed, each also said
// in words to a screen reader.
function DiffView({ lines, label }: { lines: DiffLine[]; label: string }) {
  return (
    <Box component="ol" aria-label={label} data-testid="diff" tabIndex={0}
      style={{ listStyle: 'none', margin: 0, padding: '0.5rem 0', fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13, overflowX: 'auto',
        border: '1px solid var(--mantine-color-gray-4)', borderRadius: 4 }}>
      {lines.map((l, i) => (
        <li key={i} data-kind={l.kind} style={{ background: marks[l.kind].bg, whiteSpace: 'pre', padding: '0 0.5rem' }}>
          <span aria-hidden="true">{marks[l.kind].sign} </span>
          {marks[l.kind].word && <VisuallyHidden>{marks[l.kind].word}: </VisuallyHidden>}
          {l.text}
        </li>
      ))}
    </Box>
  );
}

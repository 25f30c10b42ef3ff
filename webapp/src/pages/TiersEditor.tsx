// The back office's tiers editor: a client's membership tiers (name, the
// points earned in the window each needs, the multiplier campaigns may
// read) and the window. A save names the version it was made against: if
// someone else saved meanwhile, the store refuses and the editor shows
// theirs.
import { ActionIcon, Alert, Button, Group, NumberInput, Paper, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorNote, Loading } from '../components/States';
import { ApiError, errorText, send } from '../lib/api';
import { when } from '../lib/format';
import { emptyRow, ifMatch, rowsOf, tierProblems, tiersBody, type TierProblems, type TierRow } from '../lib/tiers';
import type { Tiers } from '../lib/types';

type Loaded = { tiers: Tiers; etag: string | null };

const maxTiers = 10;

export function TiersEditor() {
  const [loaded, setLoaded] = useState<Loaded>();
  const [loadError, setLoadError] = useState<unknown>();
  const [rows, setRows] = useState<TierRow[]>([]);
  const [windowDays, setWindowDays] = useState<number | string>(365);
  const [problems, setProblems] = useState<TierProblems>({ rows: {}, rest: [] });
  const [note, setNote] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);

  const show = useCallback((l: Loaded) => {
    setLoaded(l);
    setRows(rowsOf(l.tiers));
    setWindowDays(l.tiers.window_days ?? 365);
    setProblems({ rows: {}, rest: [] });
  }, []);

  const load = useCallback(async () => {
    setLoadError(undefined);
    try {
      const a = await send<Tiers>('GET', '/tiers');
      show({ tiers: a.body, etag: a.headers.get('ETag') });
      return true;
    } catch (e) {
      setLoadError(e);
      return false;
    }
  }, [show]);

  useEffect(() => {
    void load();
  }, [load]);

  const edit = (i: number, change: Partial<TierRow>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...change } : r)));

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!loaded) return;
    setBusy(true);
    setNote(undefined);
    setProblems({ rows: {}, rest: [] });
    const { body, sent } = tiersBody(rows, windowDays);
    try {
      const a = await send<Tiers>('PUT', '/tiers', body, { headers: ifMatch(loaded.tiers, loaded.etag) });
      show({ tiers: a.body, etag: a.headers.get('ETag') });
      setNote({ ok: true, text: 'Tiers saved. Members see their new tier at once; a move is recorded at their next purchase or return.' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        // Theirs replace ours: the admin makes the change again on top.
        const reloaded = await load();
        setNote({ ok: false, text: `Someone else changed the tiers meanwhile, so yours were not saved.${reloaded ? ' These are theirs: make your change again.' : ''}` });
      } else {
        const p = tierProblems(err, sent);
        setProblems(p);
        const placed = Object.keys(p.rows).length > 0 || p.window !== undefined;
        setNote({ ok: false, text: p.rest.length > 0 ? p.rest.join(' ') : placed ? 'Not saved: see the fields marked below.' : errorText(err) });
      }
    } finally {
      setBusy(false);
    }
  }

  if (loadError !== undefined && !loaded) return <ErrorNote error={loadError} onRetry={() => void load()} />;
  if (!loaded) return <Loading />;

  return (
    <Paper withBorder p="md" maw={760}>
      <form onSubmit={save} aria-label="Tiers">
        <Stack>
          <Text c="dimmed" size="sm">
            Members are in the highest tier whose points they earned within the window. Campaigns may multiply their points by the tier's
            multiplier. {loaded.tiers.version === 0 ? 'This store has no tiers yet.' : `Version ${loaded.tiers.version}${loaded.tiers.updated_at ? `, saved ${when(loaded.tiers.updated_at)}` : ''}${loaded.tiers.updated_by ? ` by ${loaded.tiers.updated_by}` : ''}.`}
          </Text>
          {note && (
            <Alert color={note.ok ? 'teal' : 'red'} role={note.ok ? 'status' : 'alert'} data-testid="tiers-note">
              {note.text}
            </Alert>
          )}
          <Table aria-label="Tier levels" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Points needed</Table.Th>
                <Table.Th>Multiplier</Table.Th>
                <Table.Th><VisuallyHidden>Remove</VisuallyHidden></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r, i) => {
                const err = problems.rows[i] ?? {};
                return (
                  <Table.Tr key={i} data-testid="tier-row">
                    <Table.Td valign="top">
                      <TextInput aria-label={`Name of tier ${i + 1}`} value={r.name} onChange={(e) => edit(i, { name: e.currentTarget.value })} error={err.name} />
                    </Table.Td>
                    <Table.Td valign="top">
                      <NumberInput aria-label={`Points needed for tier ${i + 1}`} value={r.minPoints} allowDecimal={false} thousandSeparator=","
                        onChange={(v) => edit(i, { minPoints: v })} error={err.min_points} />
                    </Table.Td>
                    <Table.Td valign="top">
                      <NumberInput aria-label={`Multiplier of tier ${i + 1}`} value={r.multiplier} decimalScale={2} prefix="×"
                        onChange={(v) => edit(i, { multiplier: v })} error={err.multiplier} />
                    </Table.Td>
                    <Table.Td valign="top">
                      <ActionIcon variant="subtle" color="red" mt={6} aria-label={`Remove tier ${i + 1}`} disabled={rows.length === 1}
                        onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                        ✕
                      </ActionIcon>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
          <Group>
            <Button variant="default" size="xs" disabled={rows.length >= maxTiers} onClick={() => setRows((rs) => [...rs, emptyRow()])}>
              Add a tier
            </Button>
          </Group>
          <NumberInput label="Window (days)" description="Points earned within this many days count; 365 is a rolling year." w={240}
            value={windowDays} allowDecimal={false} onChange={setWindowDays} error={problems.window} />
          <Group>
            <Button type="submit" loading={busy}>Save tiers</Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

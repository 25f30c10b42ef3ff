// The points center: what one can spend and what is pending, the member's
// tier, lots, what expires soon, and every transaction.
import { BarChart, LineChart } from '@mantine/charts';
import { Badge, Button, Grid, Group, Paper, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useId, useState } from 'react';
import { Empty, ErrorNote, Section } from '../components/States';
import type { User } from '../lib/api';
import { count, date, shortDate, when } from '../lib/format';
import { balanceHistory, describe, effect, expiring, pendingWords } from '../lib/points';
import { multiplier, tierTitle, tierView } from '../lib/tiers';
import type { Balance, Standing, Transaction, TransactionPage } from '../lib/types';
import { useApi } from '../lib/useApi';


const today = () => new Date().toISOString().slice(0, 10);

export function PointsCenter({ user }: { user: User }) {
  const account = encodeURIComponent(user.username);
  // The lots one can spend (what expires soon is among them), however long
  // the account's history: the server pages lots, 1,000 at most.
  const balance = useApi<Balance>(`/points?account_id=${account}&status=active&limit=1000`);
  // The chart walks back from today's balance through recent history.
  const recent = useApi<TransactionPage>(`/points/transactions?account_id=${account}&limit=500`);

  return (
    <Stack>
      <Title order={1} size="h2">Points</Title>
      <TierStanding account={account} />
      <Section load={balance}>
        {(b) => {
          const soon = expiring(b.balance_entries, today());
          return (
            <Grid>
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Paper withBorder p="md" h="100%">
                  <Text c="dimmed" size="sm">Available</Text>
                  <Text fz={40} fw={700} c="grape" data-testid="points-available">{count(b.balance)}</Text>
                  <Text size="sm" c="dimmed">{b.balance === 1 ? 'point' : 'points'} to spend</Text>
                  {b.pending > 0 && (
                    <Text size="sm" mt={4} data-testid="points-pending">
                      <Text span fw={600} c="indigo">{pendingWords(b.pending, b.balance_entries)}</Text>
                      <Text span c="dimmed">: points a purchase earns become spendable when its return window ends.</Text>
                    </Text>
                  )}
                  <Stack gap={2} mt="md">
                    {soon.map((s) => (
                      <Group key={s.within} justify="space-between">
                        <Text size="sm">Expiring within {s.within} days</Text>
                        <Text size="sm" fw={600} c={s.points > 0 ? 'orange' : 'dimmed'}>{s.points.toLocaleString('en-US')}</Text>
                      </Group>
                    ))}
                  </Stack>
                </Paper>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Paper withBorder p="md" h="100%">
                  <Text fw={600} mb="sm">Balance over time</Text>
                  {recent.data && recent.data.items.length > 0 ? (
                    <LineChart h={180} data={balanceHistory(b.balance, recent.data.items)} dataKey="day" series={[{ name: 'balance', color: 'grape.6', label: 'Points' }]} curveType="stepAfter" withDots={false} />
                  ) : (
                    <Empty>No history yet.</Empty>
                  )}
                </Paper>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Paper withBorder p="md" h="100%">
                  <Text fw={600} mb="sm">Expiring soon</Text>
                  <BarChart h={180} data={soon.map((s) => ({ window: `${s.within} days`, points: s.points }))} dataKey="window" series={[{ name: 'points', color: 'orange.6', label: 'Points' }]} />
                </Paper>
              </Grid.Col>
              <Grid.Col span={12}>
                <Paper withBorder p="md">
                  <Title order={2} size="h4" mb="sm">Your points by the day they were earned</Title>
                  {b.balance_entries.length === 0 ? (
                    <Empty>No points yet: every purchase earns some.</Empty>
                  ) : (
                    <Table.ScrollContainer minWidth={480}>
                      <Table aria-label="Lots">
                        <Table.Thead>
                          <Table.Tr>
                            <Table.Th>Issued on</Table.Th>
                            <Table.Th ta="right">Issued</Table.Th>
                            <Table.Th ta="right">To spend</Table.Th>
                            <Table.Th ta="right">Pending</Table.Th>
                            <Table.Th>Expires on</Table.Th>
                            <Table.Th>Status</Table.Th>
                          </Table.Tr>
                        </Table.Thead>
                        <Table.Tbody>
                          {b.balance_entries.map((l) => (
                            <Table.Tr key={l.issued_date} c={l.status === 'expired' ? 'dimmed' : undefined} opacity={l.status === 'expired' ? 0.6 : 1}>
                              <Table.Td>{date(l.issued_date)}</Table.Td>
                              <Table.Td ta="right">{count(l.issued)}</Table.Td>
                              <Table.Td ta="right">{count(l.balance)}</Table.Td>
                              <Table.Td ta="right" data-testid="lot-pending">
                                {l.pending ? (
                                  <Text span size="sm" c="indigo">
                                    {count(l.pending)}{l.matures_on && ` until ${shortDate(l.matures_on)}`}
                                  </Text>
                                ) : (
                                  <Text span size="sm" c="dimmed">—</Text>
                                )}
                              </Table.Td>
                              <Table.Td>{date(l.expires_on)}</Table.Td>
                              <Table.Td>
                                <Badge variant="light" color={l.status === 'expired' ? 'gray' : 'teal'}>{l.status}</Badge>
                              </Table.Td>
                            </Table.Tr>
                          ))}
                        </Table.Tbody>
                      </Table>
                    </Table.ScrollContainer>
                  )}
                </Paper>
              </Grid.Col>
            </Grid>
          );
        }}
      </Section>
      <Transactions account={account} />
    </Stack>
  );
}

// TierStanding is the member's tier, what the next one needs and the
// client's tiers; nothing when the client has none (or while it loads: the
// page does not jump for a card most clients never show).
export function TierStanding({ account }: { account: string }) {
  const standing = useApi<Standing>(`/points/tier?account_id=${account}`);
  const labelId = useId();
  if (standing.error !== undefined && standing.data === undefined) {
    return <ErrorNote error={standing.error} onRetry={standing.reload} title="Your tier is unavailable" />;
  }
  const v = standing.data && tierView(standing.data);
  if (!v) return null;
  return (
    <Paper withBorder p="md" component="section" aria-label="Your tier">
      <Grid>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Text c="dimmed" size="sm">Your tier</Text>
          <Text fz={28} fw={700} c="grape" data-testid="tier-summary">{v.summary}</Text>
          <Text size="sm" c="dimmed" data-testid="tier-earned">{v.earned}</Text>
          {v.progress && (
            <Stack gap={4} mt="md">
              <Text size="sm" id={labelId}>{v.progress.label}</Text>
              <Progress.Root
                size="lg"
                role="progressbar"
                aria-labelledby={labelId}
                aria-valuemin={v.progress.min}
                aria-valuemax={v.progress.max}
                aria-valuenow={v.progress.now}
                aria-valuetext={v.progress.text}
              >
                <Progress.Section value={(100 * (v.progress.now - v.progress.min)) / (v.progress.max - v.progress.min || 1)} color="grape" withAria={false} />
              </Progress.Root>
              <Text size="xs" c="dimmed">{v.progress.text}</Text>
            </Stack>
          )}
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Table aria-label="Tiers" verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tier</Table.Th>
                <Table.Th ta="right">Points needed</Table.Th>
                <Table.Th ta="right">Multiplier</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {v.levels.map((l) => (
                <Table.Tr key={l.name} fw={l.current ? 700 : undefined} aria-current={l.current ? 'true' : undefined}>
                  <Table.Td>
                    {tierTitle(l.name)}
                    {l.current && <Badge ml={6} size="xs" variant="light" color="grape">you</Badge>}
                  </Table.Td>
                  <Table.Td ta="right">{count(l.min_points)}</Table.Td>
                  <Table.Td ta="right">{multiplier(l.multiplier)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Grid.Col>
      </Grid>
    </Paper>
  );
}

const pageSize = 10;

function Transactions({ account }: { account: string }) {
  // cursors[i] opens page i; the API pages by cursor, so going back reuses them.
  const [cursors, setCursors] = useState<string[]>(['']);
  const [page, setPage] = useState(0);
  const cursor = cursors[page];
  const txs = useApi<TransactionPage>(`/points/transactions?account_id=${account}&limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`);
  const next = txs.data?.next_cursor;

  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">Transactions</Title>
      <Section load={txs} isEmpty={(d) => d.items.length === 0 && page === 0} empty="No transactions yet.">
        {(d) => (
          <>
            <Table.ScrollContainer minWidth={480}>
              <Table aria-label="Transactions" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>What</Table.Th>
                    <Table.Th>Reference</Table.Th>
                    <Table.Th ta="right">Points</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.items.map((t) => (
                    <Table.Tr key={t.id} data-type={t.transaction_type}>
                      <Table.Td>{when(t.date_time)}</Table.Td>
                      <Table.Td>{describe(t)}</Table.Td>
                      <Table.Td>
                        <Text size="xs" c="dimmed">{t.reference ?? ''}</Text>
                      </Table.Td>
                      <Table.Td ta="right">
                        <Moved t={t} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Group justify="space-between" mt="sm">
              <Button variant="default" size="xs" disabled={page === 0} onClick={() => setPage(page - 1)}>
                ← Newer
              </Button>
              <Text size="sm" c="dimmed">Page {page + 1}</Text>
              <Button
                variant="default"
                size="xs"
                disabled={!next}
                onClick={() => {
                  setCursors((c) => [...c.slice(0, page + 1), next!]);
                  setPage(page + 1);
                }}
              >
                Older →
              </Button>
            </Group>
          </>
        )}
      </Section>
    </Paper>
  );
}

const signed = (n: number) => `${n >= 0 ? '+' : '−'}${count(Math.abs(n))}`;

// Moved is what a transaction did to the points one can spend; what it
// did only to pending points (earned, or taken back before they matured)
// says so.
function Moved({ t }: { t: Transaction }) {
  const { spendable, pending } = effect(t);
  if (spendable !== 0) {
    return <Text span size="sm" fw={600} c={spendable > 0 ? 'teal' : 'red'}>{signed(spendable)}</Text>;
  }
  if (pending !== 0) {
    return <Text span size="sm" fw={600} c="indigo">{signed(pending)} pending</Text>;
  }
  return null;
}

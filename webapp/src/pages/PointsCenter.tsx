// The points center: balance, lots, what expires soon, and every transaction.
import { BarChart, LineChart } from '@mantine/charts';
import { Badge, Button, Grid, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Empty, Section } from '../components/States';
import type { User } from '../lib/api';
import { when } from '../lib/format';
import { balanceHistory, delta, expiring, typeWords } from '../lib/points';
import type { Balance, TransactionPage } from '../lib/types';
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
      <Title order={2}>Points</Title>
      <Section load={balance}>
        {(b) => {
          const soon = expiring(b.balance_entries, today());
          return (
            <Grid>
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Paper withBorder p="md" h="100%">
                  <Text c="dimmed" size="sm">Available</Text>
                  <Text fz={40} fw={700} c="grape" data-testid="points-available">{b.balance.toLocaleString('en-US')}</Text>
                  <Text size="sm" c="dimmed">points</Text>
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
                  <Title order={4} mb="sm">Lots you can spend</Title>
                  {b.balance_entries.length === 0 ? (
                    <Empty>No points yet: every purchase earns some.</Empty>
                  ) : (
                    <Table.ScrollContainer minWidth={480}>
                      <Table aria-label="Lots">
                        <Table.Thead>
                          <Table.Tr>
                            <Table.Th>Issued on</Table.Th>
                            <Table.Th ta="right">Issued</Table.Th>
                            <Table.Th ta="right">Remaining</Table.Th>
                            <Table.Th>Expires on</Table.Th>
                            <Table.Th>Status</Table.Th>
                          </Table.Tr>
                        </Table.Thead>
                        <Table.Tbody>
                          {b.balance_entries.map((l) => (
                            <Table.Tr key={l.issued_date} c={l.status === 'expired' ? 'dimmed' : undefined} opacity={l.status === 'expired' ? 0.6 : 1}>
                              <Table.Td>{l.issued_date}</Table.Td>
                              <Table.Td ta="right">{l.issued.toLocaleString('en-US')}</Table.Td>
                              <Table.Td ta="right">{l.balance.toLocaleString('en-US')}</Table.Td>
                              <Table.Td>{l.expires_on}</Table.Td>
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
      <Title order={4} mb="sm">Transactions</Title>
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
                  {d.items.map((t) => {
                    const n = delta(t);
                    return (
                      <Table.Tr key={t.id}>
                        <Table.Td>{when(t.date_time)}</Table.Td>
                        <Table.Td>{typeWords[t.transaction_type] ?? t.transaction_type}</Table.Td>
                        <Table.Td>
                          <Text size="xs" c="dimmed">{t.reference ?? ''}</Text>
                        </Table.Td>
                        <Table.Td ta="right" c={n >= 0 ? 'teal' : 'red'} fw={600}>
                          {n >= 0 ? '+' : '−'}
                          {Math.abs(n).toLocaleString('en-US')}
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
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

// The points center: what one can spend and what it is worth, what is
// pending, the member's tier, when points expire, how to earn them, the
// lots and every transaction with the order it belongs to.
import { Badge, Grid, Paper, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useId } from 'react';
import { ErrorNote, Loading, Section } from '../components/States';
import type { User } from '../lib/api';
import { count, date, shortDate } from '../lib/format';
import { expiringWithin, expiryByDate, pendingWords, worthWords } from '../lib/points';
import { multiplier, tierTitle, tierView } from '../lib/tiers';
import { useDocumentTitle } from '../lib/title';
import type { Balance, Settings, Standing, Transaction, TransactionPage } from '../lib/types';
import { useApi, type Loaded } from '../lib/useApi';
import { Card } from './points/Card';
import { BalanceChart, ExpiringChart, soonDays } from './points/Charts';
import { Expiry } from './points/Expiry';
import { HowToEarn } from './points/HowToEarn';
import { ScrollTable } from '../components/ScrollTable';
import { Transactions } from './points/Transactions';

const today = () => new Date().toISOString().slice(0, 10);
const noTransactions: Transaction[] = [];

export function PointsCenter({ user }: { user: User }) {
  useDocumentTitle('Points');
  const account = encodeURIComponent(user.username);
  // The lots one can spend (what expires soon is among them), however long
  // the account's history: the server pages lots, 1,000 at most.
  const balance = useApi<Balance>(`/points?account_id=${account}&status=active&limit=1000`);
  // The chart walks back from today's balance through recent history.
  const recent = useApi<TransactionPage>(`/points/transactions?account_id=${account}&limit=500`);
  const standing = useApi<Standing>(`/points/tier?account_id=${account}`);
  // What a point is worth and how long it lasts; without it the page only
  // leaves those out.
  const settings = useApi<Settings>('/settings');

  return (
    <Stack>
      <Title order={1} size="h2">Points</Title>
      <TierStanding standing={standing} />
      <Section load={balance}>
        {(b) => {
          const days = expiryByDate(b.balance_entries, today());
          return (
            <Grid>
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Card title="Your points">
                  <Text c="dimmed" size="sm">Available</Text>
                  <Text fz={40} fw={700} c="grape" data-testid="points-available">{count(b.balance)}</Text>
                  {settings.data ? (
                    <Text size="sm" data-testid="points-worth">{worthWords(b.balance, settings.data.point_value)}</Text>
                  ) : (
                    <Text size="sm" c="dimmed">{b.balance === 1 ? 'point' : 'points'} to spend</Text>
                  )}
                  {b.pending > 0 && (
                    <Text size="sm" mt={4} data-testid="points-pending">
                      <Text span fw={600} c="indigo">{pendingWords(b.pending, b.balance_entries)}</Text>
                      <Text span c="dimmed">: points a purchase earns become spendable when its return window ends.</Text>
                    </Text>
                  )}
                </Card>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Card title="Balance over time">
                  {recent.data ? (
                    <BalanceChart balance={b.balance} txs={recent.data.items} />
                  ) : recent.error !== undefined ? (
                    <ErrorNote error={recent.error} onRetry={recent.reload} title="Your history is unavailable" />
                  ) : (
                    <Loading />
                  )}
                </Card>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Card title="Expiring soon">
                  <ExpiringChart days={expiringWithin(days, today(), soonDays)} />
                </Card>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 6 }}>
                <Card title="When your points expire">
                  <Expiry days={days} />
                </Card>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 6 }}>
                <Card title="How to earn points">
                  <HowToEarn standing={standing.data} settings={settings.data} />
                </Card>
              </Grid.Col>
              <Grid.Col span={12}>
                <Card title="Your points by the day they were earned">
                  {b.balance_entries.length === 0 ? (
                    <Text c="dimmed">No points yet: every purchase earns some.</Text>
                  ) : (
                    <Lots b={b} />
                  )}
                </Card>
              </Grid.Col>
            </Grid>
          );
        }}
      </Section>
      <Card title="Transactions">
        <Transactions account={account} known={recent.data?.items ?? noTransactions} />
      </Card>
    </Stack>
  );
}

// Lots are the points by the day they were earned: issued, left to spend,
// pending until when, and when they expire.
function Lots({ b }: { b: Balance }) {
  return (
    <ScrollTable label="Lots, scrollable" minWidth={560}>
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
    </ScrollTable>
  );
}

// TierStanding is the member's tier, what the next one needs and the
// client's tiers; nothing when the client has none (or while it loads: the
// page does not jump for a card most clients never show).
export function TierStanding({ standing }: { standing: Loaded<Standing> }) {
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


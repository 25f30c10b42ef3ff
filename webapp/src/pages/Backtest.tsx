// The campaign editor's backtest: the campaign in the editor tried against
// the client's completed purchases of the last days. The controls sit
// beside Simulate; the report, with its per-day table and the customers
// most affected, below the editor. Nothing is saved or spent.
import { BarChart } from '@mantine/charts';
import { Alert, Button, Group, List, Paper, SegmentedControl, Stack, Table, Text, Title } from '@mantine/core';
import { useRef, useState } from 'react';
import { parseProblem } from '../components/JsonEditor';
import { request, type FieldError } from '../lib/api';
import {
  backtestBody, backtestDays, busyDays, campaignText, emptyText, notes, periodText, refusal, signed, totalText, type BacktestDays,
} from '../lib/backtest';
import { count, date, shortDate } from '../lib/format';
import type { BacktestResult, Campaign } from '../lib/types';

type Run = { result: BacktestResult; days: number; text: string };

export type BacktestState = {
  days: BacktestDays;
  setDays: (d: BacktestDays) => void;
  start: () => Promise<void>;
  running: boolean;
  run?: Run;
  error?: string;
};

// useBacktest runs backtests of the editor's text: of a new campaign, or
// (saved) of what the text changes in the saved one. The draft's problems
// go to onProblems, for the editor to mark.
export function useBacktest({ client, text, saved, onProblems }: {
  client: string;
  text: string;
  saved?: Campaign;
  onProblems: (p: FieldError[]) => void;
}): BacktestState {
  const [days, setDays] = useState<BacktestDays>(30);
  const [running, setRunning] = useState(false);
  const [run, setRun] = useState<Run>();
  const [error, setError] = useState<string>();
  // Only the last backtest started is shown.
  const latest = useRef(0);

  async function start() {
    const ticket = ++latest.current;
    setError(undefined);
    const bad = parseProblem(text);
    if (bad) {
      onProblems([bad]);
      setRun(undefined);
      setError('Cannot backtest: the campaign is not valid JSON.');
      return;
    }
    const { body, prefix } = backtestBody(client, days, JSON.parse(text), saved);
    setRunning(true);
    try {
      const result = await request<BacktestResult>('POST', '/campaigns/backtest', body);
      if (ticket === latest.current) setRun({ result, days, text });
    } catch (e) {
      if (ticket !== latest.current) return;
      const r = refusal(e, prefix, saved);
      if (r.problems.length > 0) onProblems(r.problems);
      setRun(undefined);
      setError(r.text);
    } finally {
      if (ticket === latest.current) setRunning(false);
    }
  }

  return { days, setDays, start, running, run, error };
}

// BacktestControls: how many days, and the button.
export function BacktestControls({ bt }: { bt: BacktestState }) {
  return (
    <Paper withBorder p="sm">
      <Stack gap="xs">
        <Title order={2} size="h5">Backtest</Title>
        <Text size="sm" c="dimmed">
          What this campaign would have given the store's completed purchases, beside what they were given. Nothing is saved or spent.
        </Text>
        <Group gap="sm" align="center">
          <SegmentedControl aria-label="Purchases of the last" size="xs" value={String(bt.days)}
            onChange={(v) => bt.setDays(Number(v) as BacktestDays)}
            data={backtestDays.map((d) => ({ value: String(d), label: `${d} days` }))} />
          <Button variant="light" loading={bt.running} onClick={() => void bt.start()}>
            Backtest
          </Button>
        </Group>
        {bt.error && (
          <Alert color="red" p="xs" role="alert" data-testid="backtest-error">
            {bt.error}
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}

// BacktestReport shows the last backtest's answer (nothing before one).
export function BacktestReport({ bt, text }: { bt: BacktestState; text: string }) {
  if (!bt.run) return null;
  const { result: r, days } = bt.run;
  return (
    <Paper withBorder p="md" mt="md" data-testid="backtest" aria-busy={bt.running}>
      <Stack gap="sm">
        <Title order={2} size="h4">Backtest of the last {days} days</Title>
        {bt.run.text !== text && (
          <Text size="sm" c="orange.9" data-testid="backtest-stale">The campaign was edited since this backtest: run it again to see the change.</Text>
        )}
        {r.purchases_read === 0 ? (
          <Stack gap={4} data-testid="backtest-empty">
            <Text fw={600}>{emptyText(days)}</Text>
            <Text size="sm" c="dimmed">
              There is nothing to try the campaign on. Only purchases completed since the store began keeping its purchase history count.
            </Text>
          </Stack>
        ) : (
          <>
            <div>
              <Text fw={700} size="lg" data-testid="backtest-total">{totalText(r.total)}</Text>
              <Text size="sm">{campaignText(r)}</Text>
              <Text size="sm" c="dimmed">{periodText(r, days)}</Text>
            </div>
            {/* An image named in words; the per-day table says the same to a keyboard. */}
            <div role="img" aria-label={`Bar chart of the points given and the points the campaign would give per day over the last ${days} days: ${totalText(r.total)}.`}>
              <BarChart h={180} data={r.per_day.map((d) => ({ day: shortDate(d.day), Given: d.given, 'Would give': d.would_give }))} dataKey="day"
                withLegend valueFormatter={count} accessibilityLayer={false}
                series={[{ name: 'Given', color: 'gray.5' }, { name: 'Would give', color: 'grape.6' }]} />
            </div>
            <PerDay result={r} />
            <Customers result={r} />
          </>
        )}
        <List size="sm" spacing={2} data-testid="backtest-notes">
          {notes(r).map((n) => (
            <List.Item key={n}>{n}</List.Item>
          ))}
        </List>
      </Stack>
    </Paper>
  );
}

function PerDay({ result: r }: { result: BacktestResult }) {
  return (
    <Table.ScrollContainer type="native" minWidth={560} tabIndex={0} role="region" aria-label="Points per day, scrollable">
      <Table captionSide="top" verticalSpacing={4} striped>
        <Table.Caption>Points per day (UTC), on the days with purchases</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Day</Table.Th>
            <Table.Th ta="right">Orders</Table.Th>
            <Table.Th ta="right">Given</Table.Th>
            <Table.Th ta="right">Would give</Table.Th>
            <Table.Th ta="right">Difference</Table.Th>
            <Table.Th ta="right">This campaign</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {busyDays(r.per_day).map((d) => (
            <Table.Tr key={d.day} data-testid="backtest-day">
              <Table.Td>{date(d.day)}</Table.Td>
              <Table.Td ta="right">{count(d.orders)}</Table.Td>
              <Table.Td ta="right">{count(d.given)}</Table.Td>
              <Table.Td ta="right">{count(d.would_give)}</Table.Td>
              <Table.Td ta="right" fw={600}>{signed(d.difference)}</Table.Td>
              <Table.Td ta="right">{r.new ? count(d.campaign_would_give) : `${count(d.campaign_given)} → ${count(d.campaign_would_give)}`}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function Customers({ result: r }: { result: BacktestResult }) {
  if (r.customers.length === 0) return null;
  return (
    <Table.ScrollContainer type="native" minWidth={480} tabIndex={0} role="region" aria-label="Customers most affected, scrollable">
      <Table captionSide="top" verticalSpacing={4}>
        <Table.Caption>The {r.customers.length === 1 ? 'customer' : `${r.customers.length} customers`} whose points would change most</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Customer</Table.Th>
            <Table.Th ta="right">Orders</Table.Th>
            <Table.Th ta="right">Given</Table.Th>
            <Table.Th ta="right">Would give</Table.Th>
            <Table.Th ta="right">Difference</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {r.customers.map((c) => (
            <Table.Tr key={c.username} data-testid="backtest-customer">
              <Table.Td>{c.username}</Table.Td>
              <Table.Td ta="right">{count(c.orders)}</Table.Td>
              <Table.Td ta="right">{count(c.given)}</Table.Td>
              <Table.Td ta="right">{count(c.would_give)}</Table.Td>
              <Table.Td ta="right" fw={600}>{signed(c.difference)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

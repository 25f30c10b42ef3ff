// The points page's charts. Each is an image named by what it shows in
// words (its svg is not focusable: the words and the tables below say the
// same to a keyboard or a screen reader), and its tooltip groups digits.
import { BarChart, LineChart } from '@mantine/charts';
import { Text } from '@mantine/core';
import { count, shortDate } from '../../lib/format';
import { balanceHistory, balanceLabel, expiringLabel, type ExpiryDay } from '../../lib/points';
import type { Transaction } from '../../lib/types';

// The window of the expiring-soon chart, in days.
export const soonDays = 90;

export function BalanceChart({ balance, txs }: { balance: number; txs: Transaction[] }) {
  const history = balanceHistory(balance, txs);
  if (history.length === 0) return <Text c="dimmed" data-testid="balance-none">No history yet: your balance shows here once you earn points.</Text>;
  return (
    <div role="img" aria-label={balanceLabel(history)}>
      <LineChart
        h={180}
        data={history.map((d) => ({ day: shortDate(d.day), balance: d.balance }))}
        dataKey="day"
        series={[{ name: 'balance', color: 'grape.6', label: 'Points' }]}
        curveType="stepAfter"
        withDots={false}
        valueFormatter={count}
        yAxisProps={{ allowDecimals: false }}
        accessibilityLayer={false}
      />
    </div>
  );
}

// ExpiringChart is a bar per day that points expire on within the window,
// each bar that day's points; in words when nothing expires (an empty
// chart's 0 to 4 axis says nothing).
export function ExpiringChart({ days }: { days: ExpiryDay[] }) {
  if (days.length === 0) {
    return (
      <Text c="dimmed" data-testid="expiring-none">
        Nothing expires in the next {soonDays} days.
      </Text>
    );
  }
  return (
    <div role="img" aria-label={expiringLabel(days, soonDays)}>
      <BarChart
        h={180}
        data={days.map((d) => ({ day: shortDate(d.on), points: d.points }))}
        dataKey="day"
        series={[{ name: 'points', color: 'orange.6', label: 'Points' }]}
        valueFormatter={count}
        yAxisProps={{ allowDecimals: false }}
        maxBarWidth={48}
        accessibilityLayer={false}
      />
    </div>
  );
}

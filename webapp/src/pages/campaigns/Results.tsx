// One campaign's results over a date range the marketer picks: the points
// it awarded and on how many orders, per day, and its budget's use. The
// API answers every campaign's awards of the last days; the range and the
// campaign are picked here.
import { BarChart } from '@mantine/charts';
import { Group, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Section } from '../../components/States';
import { campaignResults, daysBack, isoDay } from '../../lib/campaigns';
import { count, date, shortDate } from '../../lib/format';
import type { Campaign, CampaignAwards } from '../../lib/types';
import { useApi } from '../../lib/useApi';
import { BudgetBar, q } from './List';
import { ScrollTable } from '../../components/ScrollTable';

const ymd = /^\d{4}-\d{2}-\d{2}$/;

export function Results({ campaign }: { campaign: Campaign }) {
  const today = isoDay();
  const [from, setFrom] = useState(isoDay(29));
  const [to, setTo] = useState(today);
  const fromError = !ymd.test(from) ? 'Choose a start date.' : ymd.test(to) && from > to ? 'The start is after the end.' : undefined;
  const toError = !ymd.test(to) ? 'Choose an end date.' : undefined;
  // The API reaches back a year at most.
  const tooOld = ymd.test(from) && from < isoDay(365);
  const days = ymd.test(from) ? daysBack(from, today) : 30;
  const awards = useApi<CampaignAwards>(`/analytics/campaigns?${q(campaign.client)}&days=${days}`);
  return (
    <Stack>
      <Paper withBorder p="md">
        <Stack gap="sm">
          <Title order={2} size="h4">Budget</Title>
          <BudgetBar campaign={campaign} wide />
        </Stack>
      </Paper>
      <Paper withBorder p="md">
        <Stack gap="sm">
          <Title order={2} size="h4">Points awarded</Title>
          <Group align="start">
            <TextInput type="date" label="From" value={from} max={today} onChange={(e) => setFrom(e.currentTarget.value)} w={180} error={fromError} />
            <TextInput type="date" label="To" value={to} max={today} onChange={(e) => setTo(e.currentTarget.value)} w={180} error={toError} />
          </Group>
          {tooOld && <Text size="sm" c="dimmed">The store answers a year of awards at most: the results start {date(isoDay(365))}.</Text>}
          {!fromError && !toError && (
            <Section load={awards}>
              {(d) => <Period campaign={campaign} awards={d} from={from} to={to} />}
            </Section>
          )}
        </Stack>
      </Paper>
    </Stack>
  );
}

function Period({ campaign, awards, from, to }: { campaign: Campaign; awards: CampaignAwards; from: string; to: string }) {
  const r = campaignResults(awards.items, campaign.campaign_name, from, to);
  const range = `${date(from)} to ${date(to)}`;
  if (r.days.length === 0) {
    return <Text c="dimmed" data-testid="results-empty">{campaign.campaign_name} awarded no points from {range}.</Text>;
  }
  return (
    <Stack gap="sm" data-testid="results">
      <SimpleGrid cols={{ base: 1, xs: 3 }}>
        <Figure label="Points" value={count(r.points)} />
        <Figure label="Orders" value={count(r.orders)} />
        <Figure label="Points per order" value={count(Math.round(r.points / Math.max(1, r.orders)))} />
      </SimpleGrid>
      <div role="img" aria-label={`Bar chart of the points ${campaign.campaign_name} awarded per day from ${range}: ${count(r.points)} points on ${count(r.orders)} orders.`}>
        <BarChart h={200} data={r.days.map((d) => ({ day: shortDate(d.day), Points: d.points }))} dataKey="day" valueFormatter={count}
          accessibilityLayer={false} series={[{ name: 'Points', color: 'grape.6' }]} />
      </div>
      <ScrollTable label="Points per day, scrollable" minWidth={360}>
        <Table captionSide="top" verticalSpacing={4} striped>
          <Table.Caption>Points per day (UTC), on the days with awards</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Day</Table.Th>
              <Table.Th ta="right">Orders</Table.Th>
              <Table.Th ta="right">Points</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {r.days.map((d) => (
              <Table.Tr key={d.day}>
                <Table.Td>{date(d.day)}</Table.Td>
                <Table.Td ta="right">{count(d.orders)}</Table.Td>
                <Table.Td ta="right">{count(d.points)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
    </Stack>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="sm" c="dimmed">{label}</Text>
      <Text fw={700} size="xl" data-testid={`results-${label.toLowerCase().replace(/ /g, '-')}`}>{value}</Text>
    </div>
  );
}

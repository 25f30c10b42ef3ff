// The campaign list: search by name or description, archived campaigns
// behind a switch, each budget's use as a bar, and what the campaigns
// awarded per day.
import { BarChart } from '@mantine/charts';
import { Alert, Anchor, Badge, Button, Group, Paper, Progress, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Section } from '../../components/States';
import type { User } from '../../lib/api';
import { budgetUse, isArchived, matches, pivot, schedule } from '../../lib/campaigns';
import { count, shortDate } from '../../lib/format';
import { useDocumentTitle } from '../../lib/title';
import type { Campaign, CampaignAwards, CampaignPage } from '../../lib/types';
import { useApi } from '../../lib/useApi';
import { dropHandoff, peekHandoff } from './handoff';
import { ScrollTable } from '../../components/ScrollTable';

export const q = (client: string) => `client=${encodeURIComponent(client)}`;
export const campaignPath = (name: string) => `/campaigns/${encodeURIComponent(name)}`;

export function CampaignList({ user }: { user: User }) {
  useDocumentTitle('Campaigns');
  const list = useApi<CampaignPage>(`/campaigns?${q(user.client)}`);
  const [search, setSearch] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  const [notice, setNotice] = useState(() => peekHandoff('list')?.notice);
  useEffect(() => dropHandoff('list'), []);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">Campaigns</Title>
        <Button component="a" href="#/campaigns/new">
          New campaign
        </Button>
      </Group>
      {notice && (
        <Alert color={notice.ok ? 'teal' : 'red'} role="status" withCloseButton closeButtonLabel="Dismiss" onClose={() => setNotice(undefined)} data-testid="campaigns-notice">
          {notice.text}
        </Alert>
      )}
      <Section load={list} isEmpty={(d) => d.items.length === 0} empty="No campaigns yet: purchases earn no points until one is active.">
        {(d) => {
          const archived = d.items.filter((c) => isArchived(c)).length;
          const shown = d.items.filter((c) => (showArchived || !isArchived(c)) && matches(c, search));
          return (
            <Stack gap="sm">
              <Group align="end" gap="md">
                <TextInput label="Search campaigns" placeholder="Name or description" value={search} onChange={(e) => setSearch(e.currentTarget.value)}
                  type="search" w={{ base: '100%', xs: 280 }} />
                <Switch label={`Show archived (${count(archived)})`} checked={showArchived} onChange={(e) => setShowArchived(e.currentTarget.checked)} mb={8} />
              </Group>
              {shown.length === 0 ? (
                <Text c="dimmed" data-testid="campaigns-none">
                  {search.trim() ? `No campaign matches “${search.trim()}”${!showArchived && archived > 0 ? ' (archived campaigns are hidden)' : ''}.` : 'Every campaign is archived: switch on “Show archived” to see them.'}
                </Text>
              ) : (
                <CampaignTable items={shown} />
              )}
            </Stack>
          );
        }}
      </Section>
      <AwardsChart user={user} />
    </Stack>
  );
}

function CampaignTable({ items }: { items: Campaign[] }) {
  return (
    <ScrollTable minWidth={720} label="Campaigns, scrollable">
      <Table highlightOnHover aria-label="Campaigns">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Schedule</Table.Th>
            <Table.Th ta="right">Priority</Table.Th>
            <Table.Th>Budget</Table.Th>
            <Table.Th>Version</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((c) => (
            <Table.Tr key={c.campaign_name} data-testid="campaign-row">
              <Table.Td>
                <Anchor href={`#${campaignPath(c.campaign_name)}`}>{c.campaign_name}</Anchor>
                {c.description && <Text size="xs" c="dimmed" lineClamp={1}>{c.description}</Text>}
              </Table.Td>
              <Table.Td>
                <StatusBadge campaign={c} />
              </Table.Td>
              <Table.Td>{schedule(c)}</Table.Td>
              <Table.Td ta="right">{count(c.priority ?? 0)}</Table.Td>
              <Table.Td>
                <BudgetBar campaign={c} />
              </Table.Td>
              <Table.Td>
                v{c.version} <Text span size="xs" c="dimmed">by {c.updated_by}</Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

export function StatusBadge({ campaign: c, size = 'md', testId }: { campaign: Campaign; size?: 'md' | 'lg'; testId?: string }) {
  if (isArchived(c)) {
    return <Badge color="gray" variant="outline" size={size} data-testid={testId}>archived</Badge>;
  }
  return (
    <Badge color={c.status === 'active' ? 'teal' : 'gray'} variant="light" size={size} data-testid={testId}>
      {c.status}
    </Badge>
  );
}

// BudgetBar is what a campaign's budget has given so far, of all of it.
export function BudgetBar({ campaign: c, wide = false }: { campaign: Campaign; wide?: boolean }) {
  const use = budgetUse(c);
  if (!use) return <Text size="sm">no limit</Text>;
  const words = `${count(use.awarded)} of ${count(use.budget)} points given`;
  return (
    <Stack gap={4} miw={wide ? undefined : 140} data-testid="budget">
      <Progress.Root size={wide ? 'lg' : 'md'}>
        <Progress.Section value={use.percent} color={use.percent >= 100 ? 'red' : use.percent >= 80 ? 'orange' : 'grape'}
          aria-label={`Budget of ${c.campaign_name}: ${words}`} />
      </Progress.Root>
      <Text size="xs">{words}{use.percent >= 100 ? ': spent' : ''}</Text>
    </Stack>
  );
}

const palette = ['grape.6', 'teal.6', 'orange.6', 'blue.6', 'pink.6', 'lime.6', 'indigo.6', 'red.6'];

function AwardsChart({ user }: { user: User }) {
  const days = 30;
  const awards = useApi<CampaignAwards>(`/analytics/campaigns?${q(user.client)}&days=${days}`);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">Points awarded per campaign per day (last {days} days)</Title>
      <Section load={awards} isEmpty={(d) => d.items.length === 0} empty="No points awarded in this period.">
        {(d) => {
          const { rows, campaigns } = pivot(d.items, d.since, new Date().toISOString().slice(0, 10));
          const total = d.items.reduce((n, i) => n + i.points, 0);
          const label = `Bar chart of the points each campaign awarded per day over the last ${days} days: ${count(total)} points in all, ${campaigns
            .map((c) => `${c} ${count(d.items.filter((i) => i.campaign_name === c).reduce((n, i) => n + i.points, 0))}`)
            .join(', ')}.`;
          return (
            <div role="img" aria-label={label}>
              <BarChart h={260} data={rows.map((r) => ({ ...r, day: shortDate(String(r.day)) }))} dataKey="day" type="stacked" withLegend
                valueFormatter={count} accessibilityLayer={false}
                series={campaigns.map((c, i) => ({ name: c, color: palette[i % palette.length] }))} />
            </div>
          );
        }}
      </Section>
    </Paper>
  );
}

// The campaign center: campaigns of the marketer's client, what they award
// per day, and an editor that checks a draft with the API as it is typed,
// simulates it on a sample purchase and backtests it on past ones.
import { BarChart } from '@mantine/charts';
import { Alert, Anchor, Badge, Button, Grid, Group, Paper, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useRef, useState } from 'react';
import { Breakdown } from '../components/Breakdown';
import { JsonEditor, parseProblem, type Problem } from '../components/JsonEditor';
import { Section } from '../components/States';
import { ApiError, errorText, request, send, type User } from '../lib/api';
import { draftText, mergePatch, newDraftText, pivot, problemsOf, schedule, warningText, withStatus } from '../lib/campaigns';
import { when } from '../lib/format';
import { go } from '../lib/route';
import type { Campaign, CampaignAwards, CampaignPage, CampaignWarning, Evaluation, RevisionPage, Validation } from '../lib/types';
import { useApi } from '../lib/useApi';
import { BacktestControls, BacktestReport, useBacktest } from './Backtest';

export function Campaigns({ user, name }: { user: User; name?: string }) {
  if (name === 'new') return <CampaignEditor user={user} key="new" />;
  if (name) return <CampaignEditor user={user} name={name} key={name} />;
  return <CampaignList user={user} />;
}

const q = (client: string) => `client=${encodeURIComponent(client)}`;

function CampaignList({ user }: { user: User }) {
  const list = useApi<CampaignPage>(`/campaigns?${q(user.client)}`);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">Campaigns</Title>
        <Button component="a" href="#/campaigns/new">
          New campaign
        </Button>
      </Group>
      <Section load={list} isEmpty={(d) => d.items.length === 0} empty="No campaigns yet: purchases earn no points until one is active.">
        {(d) => (
          <Table.ScrollContainer minWidth={640}>
            <Table highlightOnHover aria-label="Campaigns">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Schedule</Table.Th>
                  <Table.Th ta="right">Priority</Table.Th>
                  <Table.Th ta="right">Budget</Table.Th>
                  <Table.Th>Version</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map((c) => (
                  <Table.Tr key={c.campaign_name}>
                    <Table.Td>
                      <Anchor href={`#/campaigns/${encodeURIComponent(c.campaign_name)}`}>{c.campaign_name}</Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={c.status === 'active' ? 'teal' : 'gray'} variant="light">{c.status}</Badge>
                    </Table.Td>
                    <Table.Td>{schedule(c)}</Table.Td>
                    <Table.Td ta="right">{c.priority ?? 0}</Table.Td>
                    <Table.Td ta="right">{c.budget ? `${(c as Campaign & { awarded?: number }).awarded ?? 0} / ${c.budget}` : 'no limit'}</Table.Td>
                    <Table.Td>
                      v{c.version} <Text span size="xs" c="dimmed">by {c.updated_by}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Section>
      <AwardsChart user={user} />
    </Stack>
  );
}

function AwardsChart({ user }: { user: User }) {
  const days = 30;
  const awards = useApi<CampaignAwards>(`/analytics/campaigns?${q(user.client)}&days=${days}`);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">Points awarded per campaign per day (last {days} days)</Title>
      <Section load={awards} isEmpty={(d) => d.items.length === 0} empty="No points awarded in this period.">
        {(d) => {
          const { rows, campaigns } = pivot(d.items, d.since, new Date().toISOString().slice(0, 10));
          const palette = ['grape.6', 'teal.6', 'orange.6', 'blue.6', 'pink.6', 'lime.6', 'indigo.6', 'red.6'];
          return (
            <BarChart h={260} data={rows} dataKey="day" type="stacked" withLegend
              series={campaigns.map((c, i) => ({ name: c, color: palette[i % palette.length] }))} />
          );
        }}
      </Section>
    </Paper>
  );
}

const sampleEvent = JSON.stringify({ amount: 1700, total: 1700, quantity: 2, username: 'derick', points_redeemed: 0 }, null, 2);

function CampaignEditor({ user, name }: { user: User; name?: string }) {
  const saved = useApi<Campaign>(name ? `/campaigns/${encodeURIComponent(name)}?${q(user.client)}` : null);
  const [text, setText] = useState(() => (name ? '' : newDraftText(user.client)));
  const [event, setEvent] = useState(sampleEvent);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [warnings, setWarnings] = useState<CampaignWarning[]>([]);
  const [eventProblems, setEventProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [simulation, setSimulation] = useState<Evaluation>();
  const [notice, setNotice] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const [debounced] = useDebouncedValue(text, 500);
  const [debouncedEvent] = useDebouncedValue(event, 500);
  const current = saved.data;
  const backtest = useBacktest({ client: user.client, text, saved: current, onProblems: setProblems });

  // The saved campaign replaces the editor's text when the text is what was
  // loaded or was just saved; otherwise the marketer's unsaved edits stay and
  // only the status follows an activation or a pause.
  const baseline = useRef('');
  const replaceNext = useRef(true);
  const typed = useRef(text);
  typed.current = text;
  useEffect(() => {
    if (!current) return;
    const fresh = draftText(current);
    const t = typed.current;
    setText(replaceNext.current || t === baseline.current ? fresh : withStatus(t, current.status));
    baseline.current = fresh;
    replaceNext.current = false;
  }, [current]);

  // check asks the API what is wrong with the draft, and what may be
  // (nothing is saved).
  async function check(draft: string): Promise<{ problems: Problem[]; warnings: CampaignWarning[] }> {
    const bad = parseProblem(draft);
    if (bad) return { problems: [bad], warnings: [] };
    const v = await request<Validation>('POST', '/campaigns/validate', JSON.parse(draft));
    return { problems: v.errors, warnings: v.warnings ?? [] };
  }

  // Check the draft as it is typed.
  useEffect(() => {
    if (!debounced) return;
    let stale = false;
    setChecking(true);
    check(debounced)
      .then((r) => {
        if (stale) return;
        setProblems(r.problems);
        setWarnings(r.warnings);
      })
      .catch((e) => !stale && setNotice({ ok: false, text: `Could not check the campaign: ${errorText(e)}` }))
      .finally(() => !stale && setChecking(false));
    return () => {
      stale = true;
    };
    // check only reads its argument
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  useEffect(() => setEventProblems(debouncedEvent ? [parseProblem(debouncedEvent)].filter((p) => p !== null) : []), [debouncedEvent]);

  // ready checks the draft now (the typed-ahead check may be behind) and
  // says why it cannot be used yet.
  async function ready(what: string): Promise<boolean> {
    const { problems: p, warnings: w } = await check(text);
    setProblems(p);
    setWarnings(w);
    if (p.length === 0) return true;
    setNotice({ ok: false, text: `${what}: the campaign has ${p.length === 1 ? 'a problem' : `${p.length} problems`}, marked in the editor.` });
    return false;
  }

  async function simulate() {
    setNotice(undefined);
    setSimulation(undefined);
    try {
      const badEvent = parseProblem(event);
      if (badEvent) {
        setEventProblems([badEvent]);
        return setNotice({ ok: false, text: 'Cannot simulate: the sample purchase is not valid JSON.' });
      }
      if (!(await ready('Cannot simulate'))) return;
      setSimulation(await request<Evaluation>('POST', '/campaigns/simulate', { client: user.client, event: JSON.parse(event), campaign: JSON.parse(text) }));
    } catch (e) {
      const p = problemsOf(e, 'campaign.');
      setEventProblems(p.other);
      setNotice({ ok: false, text: `Cannot simulate: ${errorText(e)}` });
    }
  }

  async function save(change?: Record<string, unknown>) {
    setNotice(undefined);
    setBusy(true);
    try {
      if (!change && !(await ready('Not saved'))) return;
      if (!current) {
        const res = await send<Campaign>('POST', '/campaigns', JSON.parse(text));
        setWarnings(res.body.warnings ?? []);
        setNotice({ ok: true, text: `Saved ${res.body.campaign_name} (version ${res.body.version}).` });
        go(`/campaigns/${encodeURIComponent(res.body.campaign_name)}`);
        return;
      }
      const body = change ?? mergePatch(JSON.parse(draftText(current)), JSON.parse(text));
      const res = await send<Campaign>('PATCH', `/campaigns/${encodeURIComponent(current.campaign_name)}?${q(current.client)}`, body, {
        headers: { 'If-Match': `"${current.version}"` },
      });
      setWarnings(res.body.warnings ?? []);
      setNotice({ ok: true, text: change ? `Campaign ${res.body.status === 'active' ? 'activated' : 'paused'} (version ${res.body.version}).` : `Saved version ${res.body.version}.` });
      replaceNext.current = !change;
      saved.reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        setNotice({ ok: false, text: 'Someone changed this campaign meanwhile. Reload it to see their version, then apply your change again.' });
      } else {
        const p = problemsOf(e, '');
        if (p.draft.length > 0 && !change) setProblems(p.draft);
        setNotice({ ok: false, text: `Not saved: ${errorText(e)}` });
      }
    } finally {
      setBusy(false);
    }
  }

  if (name && !current) return <Section load={saved}>{() => null}</Section>;
  return (
    <Stack>
      <Anchor href="#/campaigns">← All campaigns</Anchor>
      <Group justify="space-between">
        <Title order={1} size="h2">{current ? current.campaign_name : 'New campaign'}</Title>
        {current && (
          <Group gap="xs">
            <Badge color={current.status === 'active' ? 'teal' : 'gray'} size="lg" variant="light" data-testid="campaign-status">
              {current.status}
            </Badge>
            <Text size="sm" c="dimmed">version {current.version}</Text>
            {current.status === 'active' ? (
              <Button variant="default" loading={busy} onClick={() => void save({ status: 'paused' })}>Pause</Button>
            ) : (
              <Button color="teal" loading={busy} onClick={() => void save({ status: 'active' })}>Activate</Button>
            )}
          </Group>
        )}
      </Group>
      {notice && (
        <Alert color={notice.ok ? 'teal' : 'red'} role={notice.ok ? 'status' : 'alert'} withCloseButton onClose={() => setNotice(undefined)} data-testid="campaign-notice">
          {notice.text}
        </Alert>
      )}
      <Tabs defaultValue="edit" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="edit">Rules</Tabs.Tab>
          {current && <Tabs.Tab value="versions">Versions</Tabs.Tab>}
        </Tabs.List>
        <Tabs.Panel value="edit" pt="md">
          <Grid>
            <Grid.Col span={{ base: 12, md: 7 }}>
              <Stack gap="xs">
                <Text fw={600}>Campaign (JSON)</Text>
                <JsonEditor label="campaign" value={text} onChange={setText} problems={problems} minHeight="22rem" />
                <ProblemList problems={problems} checking={checking} />
                <WarningList warnings={warnings} />
                <Group>
                  <Button onClick={() => void save()} loading={busy}>
                    {current ? 'Save changes' : 'Create campaign'}
                  </Button>
                </Group>
              </Stack>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 5 }}>
              <Stack gap="xs">
                <Text fw={600}>Sample purchase</Text>
                <JsonEditor label="sample purchase" value={event} onChange={setEvent} problems={eventProblems.map((p) => ({ ...p, field: p.field.replace(/^event\.?/, '') }))} minHeight="10rem" />
                {eventProblems.length > 0 && <ProblemList problems={eventProblems} checking={false} />}
                <Group>
                  <Button variant="light" onClick={() => void simulate()}>
                    Simulate
                  </Button>
                </Group>
                {simulation && (
                  <Paper withBorder p="sm" data-testid="simulation">
                    <Text fw={600} mb="xs">
                      This purchase would earn {simulation.total.toLocaleString('en-US')} points
                    </Text>
                    <Breakdown lines={simulation.breakdown} total={simulation.total} />
                  </Paper>
                )}
                <BacktestControls bt={backtest} />
              </Stack>
            </Grid.Col>
          </Grid>
          <BacktestReport bt={backtest} text={text} />
        </Tabs.Panel>
        {current && (
          <Tabs.Panel value="versions" pt="md">
            <Versions campaign={current} onLoad={(t) => setText(t)} />
          </Tabs.Panel>
        )}
      </Tabs>
    </Stack>
  );
}

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

function Versions({ campaign, onLoad }: { campaign: Campaign; onLoad: (text: string) => void }) {
  const revs = useApi<RevisionPage>(`/campaigns/${encodeURIComponent(campaign.campaign_name)}/versions?${q(campaign.client)}&v=${campaign.version}`);
  return (
    <Section load={revs}>
      {(d) => (
        <Table aria-label="Versions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Changed</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {[...d.items].reverse().map((r) => (
              <Table.Tr key={r.version}>
                <Table.Td>v{r.version}</Table.Td>
                <Table.Td>{r.deleted ? 'deleted' : r.campaign.status}</Table.Td>
                <Table.Td>
                  {when(r.updated_at)} by {r.updated_by}
                </Table.Td>
                <Table.Td>
                  {!r.deleted && r.version !== campaign.version && (
                    <Button size="xs" variant="subtle" onClick={() => onLoad(draftText(r.campaign))}>
                      Load into the editor
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Section>
  );
}


// The campaign editor: the campaign as JSON (or as a form), checked with
// the API as it is typed, simulated on a sample purchase (with the active
// campaigns, or alone) and backtested on past ones; its versions, its
// results, and what can be done to it as a whole. An unsaved draft is kept
// in the browser until it is saved or discarded, and leaving with one asks
// first.
import { Alert, Anchor, Button, Grid, Group, Paper, SegmentedControl, Stack, Tabs, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { Breakdown } from '../../components/Breakdown';
import { JsonEditor, parseProblem, type Problem } from '../../components/JsonEditor';
import { RuleBuilder } from '../../components/RuleBuilder';
import { Section } from '../../components/States';
import { ApiError, currentUser, errorText, request, send, type User } from '../../lib/api';
import {
  draftText, forgetDraft, keepDraft, keptDraft, mergePatch, newDraftText, problemsOf, sameDraft, withChanges, type KeptDraft,
} from '../../lib/campaigns';
import { count, when } from '../../lib/format';
import { go, useLeaveGuard } from '../../lib/route';
import { useDocumentTitle } from '../../lib/title';
import type { Campaign, CampaignWarning, Evaluation, Revision, Validation } from '../../lib/types';
import { useApi } from '../../lib/useApi';
import { BacktestControls, BacktestReport, useBacktest } from '../Backtest';
import { CampaignActions } from './Actions';
import { dropHandoff, handOff, peekHandoff, type Notice, type Simulated } from './handoff';
import { campaignPath, q, StatusBadge } from './List';
import { ProblemList, WarningList } from './Problems';
import { Results } from './Results';
import { Versions } from './Versions';

const sampleEvent = JSON.stringify({ amount: 1700, total: 1700, quantity: 2, username: 'derick', points_redeemed: 0 }, null, 2);

export function CampaignEditor({ user, name }: { user: User; name?: string }) {
  const key = name ?? 'new'; // where its handoff and its kept draft are
  const [handoff] = useState(() => peekHandoff(key));
  useEffect(() => dropHandoff(key), [key]);
  const saved = useApi<Campaign>(name ? `${campaignPath(name)}?${q(user.client)}` : null);
  const current = saved.data;
  useDocumentTitle(name ? `Campaign ${name}` : 'New campaign');

  const template = useMemo(() => newDraftText(user.client), [user.client]);
  // The draft this person left unsaved here before, if any.
  const [kept] = useState<KeptDraft | null>(() => keptDraft(user.username, key));
  const [text, setText] = useState(() => (name ? '' : kept?.text ?? template));
  // baseline is what the text is compared with: the saved campaign, or
  // for a new one the template ('' until the saved campaign is here).
  const [baseline, setBaseline] = useState(() => (name ? '' : template));
  const [restored, setRestored] = useState<KeptDraft | undefined>(() => (!name && kept && !sameDraft(template, kept.text) ? kept : undefined));
  const [event, setEvent] = useState(handoff?.event ?? sampleEvent);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [warnings, setWarnings] = useState<CampaignWarning[]>([]);
  const [eventProblems, setEventProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [withActive, setWithActive] = useState(handoff?.withActive ?? true);
  const [simulation, setSimulation] = useState<Simulated | undefined>(handoff?.simulation);
  const [simError, setSimError] = useState<string>();
  const [notice, setNotice] = useState<Notice | undefined>(handoff?.notice);
  const [busy, setBusy] = useState(false);
  const [tab, setTab] = useState<string | null>('edit');
  const [view, setView] = useState<'json' | 'form'>('json');
  const [leaving, setLeaving] = useState(false);
  const [debounced] = useDebouncedValue(text, 500);
  const [debouncedEvent] = useDebouncedValue(event, 500);
  const backtest = useBacktest({ client: user.client, text, saved: current, onProblems: setProblems });

  const loaded = baseline !== '';
  const dirty = loaded && !sameDraft(baseline, text);
  useLeaveGuard(dirty && !leaving);

  // The saved campaign replaces the editor's text when the text is what was
  // loaded, or was just saved; otherwise the marketer's unsaved edits stay
  // and only what a button changed (status, schedule) follows. On the first
  // load, a draft kept from before comes back instead, and says so.
  const first = useRef(true);
  const replaceNext = useRef(false);
  const lastChange = useRef<Record<string, unknown>>(undefined);
  const base = useRef(baseline);
  const typed = useRef(text);
  typed.current = text;
  useEffect(() => {
    if (!current) return;
    const fresh = draftText(current);
    const t = typed.current;
    let next: string;
    if (first.current) {
      first.current = false;
      const k = kept && !sameDraft(fresh, kept.text) ? kept : undefined;
      next = k?.text ?? fresh;
      setRestored(k);
    } else if (replaceNext.current || sameDraft(t, base.current)) {
      next = fresh;
    } else {
      next = withChanges(t, lastChange.current ?? { status: current.status });
    }
    setText(next);
    base.current = fresh;
    setBaseline(fresh);
    replaceNext.current = false;
    lastChange.current = undefined;
    // kept is read once, on the first load
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [current]);

  // Keep the unsaved draft in the browser, so that it outlives the session;
  // forget it once it is saved or undone.
  useEffect(() => {
    if (!loaded) return;
    if (dirty) keepDraft(user.username, key, { text, version: current?.version, at: new Date().toISOString() });
    else forgetDraft(user.username, key);
  }, [loaded, dirty, text, current?.version, user.username, key]);
  // Leaving the editor while signed in (the leave guard asked, and the
  // person chose to lose their edits) forgets the draft; a session that
  // ends keeps it for the next.
  useEffect(
    () => () => {
      if (currentUser() && window.location.hash !== `#/campaigns/${encodeURIComponent(key)}`) forgetDraft(user.username, key);
    },
    [user.username, key],
  );

  // A notice about the draft (it cannot be simulated or saved as it is)
  // and a failed simulation are stale once the draft or the purchase change.
  useEffect(() => {
    setSimError(undefined);
    setNotice((n) => (n?.aboutDraft ? undefined : n));
  }, [text, event]);

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
  // says why it cannot be used yet (undefined: it can).
  async function ready(what: string): Promise<string | undefined> {
    const { problems: p, warnings: w } = await check(text);
    setProblems(p);
    setWarnings(w);
    if (p.length === 0) return undefined;
    return `${what}: the campaign has ${p.length === 1 ? 'a problem' : `${p.length} problems`}, marked in the editor.`;
  }

  async function simulate() {
    setSimError(undefined);
    setSimulation(undefined);
    try {
      const badEvent = parseProblem(event);
      if (badEvent) {
        setEventProblems([badEvent]);
        return setSimError('Cannot simulate: the sample purchase is not valid JSON.');
      }
      const why = await ready('Cannot simulate');
      if (why) return setSimError(why);
      const result = await request<Evaluation>('POST', '/campaigns/simulate', {
        client: user.client, event: JSON.parse(event), campaign: JSON.parse(text), with_active: withActive,
      });
      setSimulation({ result, text, event, withActive });
    } catch (e) {
      const p = problemsOf(e, 'campaign.');
      if (p.draft.length > 0) setProblems(p.draft);
      setEventProblems(p.other);
      setSimError(`Cannot simulate: ${errorText(e)}`);
    }
  }

  // leave moves elsewhere without the leave guard's question: what it
  // would lose is saved, or deleted on purpose.
  function leave(to: string) {
    flushSync(() => setLeaving(true));
    go(to);
  }

  async function create() {
    setNotice(undefined);
    setBusy(true);
    try {
      const why = await ready('Not saved');
      if (why) return setNotice({ ok: false, text: why, aboutDraft: true });
      const res = await send<Campaign>('POST', '/campaigns', JSON.parse(text));
      const c = res.body;
      forgetDraft(user.username, 'new');
      // The editor of the new campaign takes over the notice, the sample
      // purchase and the simulation.
      // The simulation was of this draft: it is of the saved campaign (the
      // same, with the defaults the store filled in).
      const sim = simulation && sameDraft(simulation.text, text) ? { ...simulation, text: draftText(c) } : simulation;
      handOff(c.campaign_name, { notice: { ok: true, text: `Created ${c.campaign_name} (version ${c.version}).` }, event, simulation: sim, withActive });
      leave(campaignPath(c.campaign_name));
    } catch (e) {
      const p = problemsOf(e, '');
      if (p.draft.length > 0) setProblems(p.draft);
      setNotice({ ok: false, text: `Not saved: ${errorText(e)}`, aboutDraft: p.draft.length > 0 });
    } finally {
      setBusy(false);
    }
  }

  // change PATCHes the saved campaign (made against the version on
  // screen) and says done. replace: the editor then shows the saved
  // campaign (a save, a rollback); otherwise unsaved edits stay and only
  // the change follows.
  async function change(patch: Record<string, unknown>, done: (c: Campaign) => string, replace = false, refused = 'Not saved'): Promise<boolean> {
    if (!current) return false;
    setNotice(undefined);
    setBusy(true);
    try {
      const res = await send<Campaign>('PATCH', `${campaignPath(current.campaign_name)}?${q(current.client)}`, patch, {
        headers: { 'If-Match': `"${current.version}"` },
      });
      setWarnings(res.body.warnings ?? []);
      replaceNext.current = replace;
      lastChange.current = replace ? undefined : patch;
      saved.set(res.body);
      setRestored(undefined);
      setNotice({ ok: true, text: done(res.body) });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        setNotice({ ok: false, text: 'Someone changed this campaign meanwhile. Reload it to see their version, then apply your change again.' });
      } else {
        const p = problemsOf(e, '');
        if (p.draft.length > 0 && replace) setProblems(p.draft);
        setNotice({ ok: false, text: `${refused}: ${errorText(e)}` });
      }
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function save() {
    if (!current) return create();
    setNotice(undefined);
    setBusy(true);
    const why = await ready('Not saved').catch((e: unknown) => `Not saved: ${errorText(e)}`);
    setBusy(false);
    if (why) return setNotice({ ok: false, text: why, aboutDraft: true });
    await change(mergePatch(JSON.parse(draftText(current)), JSON.parse(text)), (c) => `Saved version ${c.version}.`, true);
  }

  function discard() {
    setText(current ? draftText(current) : template);
    setRestored(undefined);
    forgetDraft(user.username, key);
    setNotice(undefined);
  }

  function load(r: Revision) {
    setText(draftText(r.campaign));
    setTab('edit');
    setNotice({ ok: true, text: `Version ${r.version} is in the editor: “Save changes” makes it the next version, “Discard changes” puts version ${current?.version ?? ''} back.` });
  }

  if (name && !current) return <Section load={saved}>{() => null}</Section>;
  const stale = simulation && (simulation.text !== text || simulation.event !== event);
  return (
    <Stack>
      <Anchor href="#/campaigns">← All campaigns</Anchor>
      <Group justify="space-between" align="start">
        <Stack gap={6}>
          <Title order={1} size="h2">{current ? current.campaign_name : 'New campaign'}</Title>
          {current && (
            <Group gap="xs">
              <StatusBadge campaign={current} size="lg" testId="campaign-status" />
              <Text size="sm" c="dimmed">version {current.version}, {when(current.updated_at)} by {current.updated_by}</Text>
            </Group>
          )}
        </Stack>
        {current && (
          <CampaignActions campaign={current} busy={busy} change={(p, done) => change(p, done)}
            onDuplicated={(copy) => {
              handOff(copy.campaign_name, { notice: { ok: true, text: `Copied ${current.campaign_name} to ${copy.campaign_name} (paused).` } });
              go(campaignPath(copy.campaign_name));
            }}
            onDeleted={() => {
              forgetDraft(user.username, key);
              handOff('list', { notice: { ok: true, text: `Deleted ${current.campaign_name}. Its versions stay in the history.` } });
              leave('/campaigns');
            }} />
        )}
      </Group>
      {restored && (
        <Alert color="blue" role="status" data-testid="draft-restored" title="Your unsaved draft is back">
          <Stack gap="xs">
            <Text size="sm">
              These are the edits you left unsaved on {when(restored.at)}
              {current && restored.version !== undefined && restored.version !== current.version
                ? `, made on version ${restored.version}: the campaign is at version ${current.version} now, so compare before you save.`
                : '.'}
            </Text>
            <Group>
              <Button size="xs" variant="light" color="red" onClick={discard}>Discard draft</Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {notice && (
        <Alert color={notice.ok ? 'teal' : 'red'} role={notice.ok ? 'status' : 'alert'} withCloseButton closeButtonLabel="Dismiss"
          onClose={() => setNotice(undefined)} data-testid="campaign-notice">
          {notice.text}
        </Alert>
      )}
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="edit">Rules</Tabs.Tab>
          {current && <Tabs.Tab value="versions">Versions</Tabs.Tab>}
          {current && <Tabs.Tab value="results">Results</Tabs.Tab>}
        </Tabs.List>
        <Tabs.Panel value="edit" pt="md">
          <Grid>
            <Grid.Col span={{ base: 12, md: 7 }}>
              <Stack gap="xs">
                <Group justify="space-between">
                  <Title order={2} size="h5">Campaign</Title>
                  <SegmentedControl size="xs" aria-label="Edit the campaign as" value={view} onChange={(v) => setView(v as 'json' | 'form')}
                    data={[{ value: 'json', label: 'JSON' }, { value: 'form', label: 'Form' }]} />
                </Group>
                {view === 'json' ? (
                  <JsonEditor label="campaign" value={text} onChange={setText} problems={problems} minHeight="22rem" />
                ) : (
                  <RuleBuilder value={text} onChange={setText} problems={problems} lockName={!!current} />
                )}
                <ProblemList problems={problems} checking={checking} />
                <WarningList warnings={warnings} />
                <Group>
                  <Button onClick={() => void save()} loading={busy} disabled={!!current && !dirty}>
                    {current ? 'Save changes' : 'Create campaign'}
                  </Button>
                  {current && !dirty && <Text size="sm" c="dimmed">No changes to save</Text>}
                  {dirty && (
                    <Button variant="subtle" onClick={discard}>
                      Discard changes
                    </Button>
                  )}
                </Group>
              </Stack>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 5 }}>
              <Stack gap="xs">
                <Title order={2} size="h5">Sample purchase</Title>
                <JsonEditor label="sample purchase" value={event} onChange={setEvent} problems={eventProblems.map((p) => ({ ...p, field: p.field.replace(/^event\.?/, '') }))} minHeight="10rem" />
                {eventProblems.length > 0 && <ProblemList problems={eventProblems} checking={false} />}
                <SegmentedControl size="xs" fullWidth aria-label="Simulate the campaign" value={withActive ? 'with' : 'alone'}
                  onChange={(v) => setWithActive(v === 'with')}
                  data={[{ value: 'with', label: 'with the active campaigns' }, { value: 'alone', label: 'alone' }]} />
                <Group>
                  <Button variant="light" onClick={() => void simulate()}>
                    Simulate
                  </Button>
                </Group>
                {simError && (
                  <Alert color="red" p="xs" role="alert" data-testid="simulate-error">
                    {simError}
                  </Alert>
                )}
                {simulation && <SimulationView sim={simulation} stale={!!stale} />}
                <BacktestControls bt={backtest} />
              </Stack>
            </Grid.Col>
          </Grid>
          <BacktestReport bt={backtest} text={text} />
        </Tabs.Panel>
        {current && (
          <Tabs.Panel value="versions" pt="md">
            <Versions campaign={current} dirty={dirty} busy={busy} onLoad={load}
              onRollback={(r) => change(mergePatch(JSON.parse(draftText(current)), JSON.parse(draftText(r.campaign))),
                (c) => `Version ${r.version} is current again, as version ${c.version}.`, true, 'Not rolled back')} />
          </Tabs.Panel>
        )}
        {current && (
          <Tabs.Panel value="results" pt="md">
            <Results campaign={current} />
          </Tabs.Panel>
        )}
      </Tabs>
    </Stack>
  );
}

function SimulationView({ sim, stale }: { sim: Simulated; stale: boolean }) {
  const r = sim.result;
  return (
    <Paper withBorder p="sm" data-testid="simulation">
      <Text fw={600}>
        This purchase would earn {count(r.total)} points
      </Text>
      <Text size="sm" c="dimmed" mb="xs">
        {sim.withActive ? 'The campaign with the active campaigns, as if it were active now.' : 'The campaign alone, as if it were active now.'}
      </Text>
      {stale && <Text size="sm" c="orange.9" mb="xs">The campaign or the purchase changed since: simulate again to see the change.</Text>}
      <Breakdown lines={r.breakdown} total={r.total} />
    </Paper>
  );
}

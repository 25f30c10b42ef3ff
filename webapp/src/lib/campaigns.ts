// Campaign drafts as the editor holds them, and the awards chart's data.
import { ApiError, type FieldError } from './api';
import type { AwardDay, Campaign, CampaignWarning } from './types';

const draftFields = ['client', 'campaign_name', 'description', 'status', 'starts_at', 'ends_at', 'priority', 'rounding', 'max_points_per_purchase', 'budget', 'rules'] as const;

// draftText is the editable part of a saved campaign, as pretty JSON.
export function draftText(c: Partial<Campaign>): string {
  const d: Record<string, unknown> = {};
  for (const f of draftFields) if (c[f] !== undefined && c[f] !== '') d[f] = c[f];
  return JSON.stringify(d, null, 2);
}

export function newDraftText(client: string): string {
  return JSON.stringify(
    {
      client,
      campaign_name: 'weekend-bonus',
      description: '1 point for every 20 spent over 50',
      status: 'paused',
      priority: 10,
      rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 50 }, action: { command: 'issue', formula: '$.amount / 20' } }],
    },
    null,
    2,
  );
}

// mergePatch turns the edited draft into a JSON merge patch of the saved
// one: fields the marketer deleted are sent as null so they go away.
export function mergePatch(saved: Record<string, unknown>, edited: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...edited };
  for (const k of Object.keys(saved)) if (!(k in edited) && (draftFields as readonly string[]).includes(k)) patch[k] = null;
  return patch;
}

// withStatus sets the status in a draft the marketer is editing, keeping the
// rest of their unsaved changes (text that is not a JSON object is left as
// it is).
export function withStatus(text: string, status: string): string {
  return withChanges(text, { status });
}

// withChanges applies a change made elsewhere (activate, pause, archive: a
// JSON merge patch of top-level fields, null removes one) to the draft the
// marketer is editing, keeping the rest of their unsaved changes.
export function withChanges(text: string, patch: Record<string, unknown>): string {
  try {
    const d = JSON.parse(text);
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return text;
    const out: Record<string, unknown> = { ...d };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
    return JSON.stringify(out, null, 2);
  } catch {
    return text;
  }
}

// canonical writes a JSON value with its object keys sorted, so that two
// drafts that differ only in key order or spacing compare equal.
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

// sameDraft says whether the editor's text is the same campaign as base:
// equal as JSON (spacing and key order aside), or, when either is not
// JSON, equal as text.
export function sameDraft(base: string, text: string): boolean {
  if (base === text) return true;
  try {
    return canonical(JSON.parse(base)) === canonical(JSON.parse(text));
  } catch {
    return false;
  }
}

// A line of a diff: in both versions, only in the newer (added) or only in
// the older (removed).
export type DiffLine = { kind: 'same' | 'added' | 'removed'; text: string };

// lineDiff compares two texts line by line (the longest common subsequence
// of their lines), for the versions' diff. Campaign drafts are short; past
// maxCells the table would be too big, and the diff is the whole of each.
export function lineDiff(before: string, after: string, maxCells = 4_000_000): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  // Common head and tail first: most changes touch a few lines.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const out: DiffLine[] = a.slice(0, head).map((text) => ({ kind: 'same', text }));
  if (x.length * y.length > maxCells) {
    out.push(...x.map((text) => ({ kind: 'removed' as const, text })), ...y.map((text) => ({ kind: 'added' as const, text })));
  } else {
    // lcs[i][j]: the longest common subsequence of x[i:] and y[j:].
    const lcs = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
    for (let i = x.length - 1; i >= 0; i--) {
      for (let j = y.length - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) {
        out.push({ kind: 'same', text: x[i] });
        i++;
        j++;
      } else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
        out.push({ kind: 'removed', text: x[i++] }); // removals first, as diff tools show them
      } else {
        out.push({ kind: 'added', text: y[j++] });
      }
    }
  }
  out.push(...a.slice(a.length - tail).map((text) => ({ kind: 'same' as const, text })));
  return out;
}

// diffSummary says in words how much a diff changes.
export function diffSummary(lines: DiffLine[]): string {
  const added = lines.filter((l) => l.kind === 'added').length;
  const removed = lines.filter((l) => l.kind === 'removed').length;
  if (added === 0 && removed === 0) return 'No difference: the two versions have the same rules and settings.';
  const n = (k: number, what: string) => `${k.toLocaleString('en-US')} line${k === 1 ? '' : 's'} ${what}`;
  return `${n(added, 'added')}, ${n(removed, 'removed')}.`;
}

// An archived campaign is one the marketer put away: paused, and its
// schedule over. It can never run as it is, so the list hides it unless
// asked. (The campaign model has no archive flag: status and schedule say
// it.)
export function isArchived(c: Pick<Campaign, 'status' | 'ends_at'>, now = new Date()): boolean {
  return c.status === 'paused' && !!c.ends_at && Date.parse(c.ends_at) <= now.getTime();
}

// archivePatch pauses a campaign and ends its schedule now (a start still
// to come goes, or the schedule would end before it starts).
export function archivePatch(c: Pick<Campaign, 'starts_at'>, now = new Date()): Record<string, unknown> {
  const patch: Record<string, unknown> = { status: 'paused', ends_at: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z') };
  if (c.starts_at && Date.parse(c.starts_at) >= now.getTime()) patch.starts_at = null;
  return patch;
}

// unarchivePatch takes the end off the schedule: the campaign stays paused
// until someone activates it.
export const unarchivePatch: Record<string, unknown> = { ends_at: null };

// matches says whether a campaign is one a search asks for: by name or
// description, any case.
export function matches(c: Pick<Campaign, 'campaign_name' | 'description'>, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return c.campaign_name.toLowerCase().includes(q) || (c.description ?? '').toLowerCase().includes(q);
}

// budgetUse is how much of a campaign's budget it has given (none: no
// budget), as the percent of a progress bar (at most 100).
export function budgetUse(c: Pick<Campaign, 'budget' | 'awarded'>): { awarded: number; budget: number; percent: number } | null {
  if (!c.budget) return null;
  const awarded = c.awarded ?? 0;
  return { awarded, budget: c.budget, percent: Math.min(100, (awarded / c.budget) * 100) };
}

// An unsaved draft kept in the browser (localStorage), per person and
// campaign ("new" for a campaign not created yet), so it outlives the
// session: version is the saved campaign's it was made on.
export type KeptDraft = { text: string; version?: number; at: string };

// JSON of the pair: a name may hold any separator ("a.b" + "c" and "a" + "b.c" differ).
export const draftKey = (username: string, name: string) => `unicorn.campaign-draft:${JSON.stringify([username, name])}`;

export function keptDraft(username: string, name: string): KeptDraft | null {
  try {
    const raw = localStorage.getItem(draftKey(username, name));
    if (!raw) return null;
    const d = JSON.parse(raw) as KeptDraft;
    return typeof d.text === 'string' && typeof d.at === 'string' ? d : null;
  } catch {
    return null; // storage refused or a value from elsewhere: nothing kept
  }
}

export function keepDraft(username: string, name: string, d: KeptDraft) {
  try {
    localStorage.setItem(draftKey(username, name), JSON.stringify(d));
  } catch {
    // full or refused: the draft lives on in the editor only
  }
}

export function forgetDraft(username: string, name: string) {
  try {
    localStorage.removeItem(draftKey(username, name));
  } catch {
    // refused: nothing to forget
  }
}

// The analytics of one campaign: its days of awards within a date range
// (YYYY-MM-DD, both included).
export type CampaignResults = { days: AwardDay[]; points: number; orders: number };

export function campaignResults(items: AwardDay[], name: string, from: string, to: string): CampaignResults {
  const days = items.filter((i) => i.campaign_name === name && i.day >= from && i.day <= to).sort((a, b) => a.day.localeCompare(b.day));
  return { days, points: days.reduce((n, d) => n + d.points, 0), orders: days.reduce((n, d) => n + d.orders, 0) };
}

// daysBack is the days= an analytics request needs to reach back to from
// (today included), within what the API allows (1 to 366).
export function daysBack(from: string, today: string): number {
  const d = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
  return Math.min(366, Math.max(1, Number.isFinite(d) ? d : 30));
}

// isoDay is a day as the API writes it (UTC), n days before today.
export function isoDay(n = 0, today = new Date()): string {
  return new Date(today.getTime() - n * 86_400_000).toISOString().slice(0, 10);
}

// pivot gives one row per day with a column per campaign, for a stacked
// bar chart; days without awards are filled with zeros.
export function pivot(items: AwardDay[], since: string, until: string): { rows: Record<string, string | number>[]; campaigns: string[] } {
  const campaigns = [...new Set(items.map((i) => i.campaign_name))].sort();
  const byDay = new Map<string, Record<string, string | number>>();
  for (let t = Date.parse(`${since}T00:00:00Z`); t <= Date.parse(`${until}T00:00:00Z`); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    byDay.set(day, Object.fromEntries([['day', day], ...campaigns.map((c) => [c, 0])]));
  }
  for (const i of items) {
    const row = byDay.get(i.day) ?? Object.fromEntries([['day', i.day], ...campaigns.map((c) => [c, 0])]);
    row[i.campaign_name] = Number(row[i.campaign_name]) + i.points;
    byDay.set(i.day, row);
  }
  return { rows: [...byDay.values()].sort((a, b) => String(a.day).localeCompare(String(b.day))), campaigns };
}

export function schedule(c: Campaign): string {
  const d = (s?: string) => (s ? new Date(s).toLocaleDateString('en-US', { dateStyle: 'medium' }) : '');
  if (!c.starts_at && !c.ends_at) return 'always';
  if (!c.ends_at) return `from ${d(c.starts_at)}`;
  if (!c.starts_at) return `until ${d(c.ends_at)}`;
  return `${d(c.starts_at)} – ${d(c.ends_at)}`;
}

// warningText says a warning with where it is, as the problem list does.
export function warningText(w: CampaignWarning): string {
  if (!w.field) return w.message;
  return `${w.field}${w.position !== undefined ? ` (character ${w.position + 1})` : ''}: ${w.message}`;
}

// problemsOf splits an API error into the draft's problems and the rest.
// prefix is the request field that held the draft ("campaign.", "patch.";
// "" when the draft was the whole body): a problem under it is the draft's,
// at the field the editor knows, and one at the prefix itself is the
// draft's as a whole.
export function problemsOf(err: unknown, prefix: string): { draft: FieldError[]; other: FieldError[] } {
  if (!(err instanceof ApiError) || err.errors.length === 0) return { draft: [], other: [] };
  const draft: FieldError[] = [];
  const other: FieldError[] = [];
  for (const e of err.errors) {
    if (prefix === '') draft.push(e);
    else if (e.field === prefix.slice(0, -1)) draft.push({ ...e, field: '' });
    else if (e.field.startsWith(prefix)) draft.push({ ...e, field: e.field.slice(prefix.length) });
    else other.push(e);
  }
  return { draft, other };
}

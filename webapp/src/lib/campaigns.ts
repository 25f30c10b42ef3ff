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
  try {
    const d = JSON.parse(text);
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return text;
    return JSON.stringify({ ...d, status }, null, 2);
  } catch {
    return text;
  }
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

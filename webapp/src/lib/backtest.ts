// Backtests: what the campaign in the editor would have given the client's
// completed purchases of the last days. The body a backtest sends (a new
// campaign, or a change to a saved one), where a refused backtest's
// problems go, and the answer in words.
import { ApiError, errorText, type FieldError } from './api';
import { draftText, problemsOf } from './campaigns';
import { count, date, when } from './format';
import type { Backtest, BacktestDay, BacktestPoints, BacktestResult, Campaign } from './types';

// The windows a marketer chooses from (the API takes 1 to 90 days).
export const backtestDays = [7, 30, 90] as const;
export type BacktestDays = (typeof backtestDays)[number];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// changes is the JSON merge patch that turns saved into edited: the fields
// the marketer changed or added, and null for those they deleted. Arrays
// and objects go whole (a merge patch replaces an array), so a problem the
// API finds in them names the same place as in the editor.
export function changes(saved: Record<string, unknown>, edited: unknown): unknown {
  if (!isObject(edited)) return edited; // the API says a change is an object
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(edited)) if (JSON.stringify(v) !== JSON.stringify(saved[k])) patch[k] = v;
  for (const k of Object.keys(saved)) if (!(k in edited)) patch[k] = null;
  return patch;
}

// backtestBody is what a backtest sends: the draft as a new campaign, or,
// for a saved campaign, its name and what the draft changes (nothing: the
// campaign as it is). prefix is where the API puts the draft's problems.
export function backtestBody(client: string, days: number, draft: unknown, saved?: Campaign): { body: Backtest; prefix: string } {
  if (!saved) return { body: { client, days, campaign: draft }, prefix: 'campaign.' };
  const patch = changes(JSON.parse(draftText(saved)), draft);
  const changed = !isObject(patch) || Object.keys(patch).length > 0;
  return {
    body: { client: saved.client, days, campaign_name: saved.campaign_name, ...(changed ? { patch: patch as Backtest['patch'] } : {}) },
    prefix: 'patch.',
  };
}

// BacktestRefusal is a refused backtest: what to tell the marketer, and
// the draft's problems, which the editor marks at their place.
export type BacktestRefusal = { text: string; problems: FieldError[] };

// refusal says why a backtest was refused. A 4xx says what the store
// said, never just that something went wrong.
export function refusal(err: unknown, prefix: string, saved?: Pick<Campaign, 'campaign_name' | 'client'>): BacktestRefusal {
  if (err instanceof ApiError && err.status === 404 && saved) {
    return { text: `Cannot backtest: ${saved.client} has no campaign named “${saved.campaign_name}” any more (it may have been deleted meanwhile).`, problems: [] };
  }
  const { draft, other } = problemsOf(err, prefix);
  if (draft.length > 0) {
    const rest = other.map((e) => `${e.field}: ${e.message}`).join('; ');
    return {
      text: `Cannot backtest: the campaign has ${draft.length === 1 ? 'a problem' : `${draft.length} problems`}, marked in the editor.${rest ? ` Also: ${rest}.` : ''}`,
      problems: draft,
    };
  }
  return { text: `Cannot backtest: ${errorText(err)}`, problems: [] };
}

const points = (n: number) => `${count(n)} ${n === 1 ? 'point' : 'points'}`;
const orders = (n: number) => `${count(n)} ${n === 1 ? 'order' : 'orders'}`;

// signed writes a difference of points: +260, −40, or no change.
export const signed = (n: number) => (n > 0 ? `+${count(n)}` : n < 0 ? `−${count(-n)}` : '±0');

// totalText: "Would have given 1,240 points on 38 orders vs 980 given: +260".
export function totalText(t: BacktestPoints): string {
  return `Would have given ${points(t.would_give)} on ${orders(t.orders)} vs ${count(t.given)} given: ${signed(t.difference)}`;
}

// campaignText is the campaign tried's own part.
export function campaignText(r: BacktestResult): string {
  const part = `${points(r.total.campaign_would_give)} of them from “${r.campaign_name}”`;
  return r.new ? `${part}, a new campaign.` : `${part}, which gave ${points(r.total.campaign_given)} as saved.`;
}

// emptyText is what a backtest with no purchase to try says.
export const emptyText = (days: number) => `No completed purchases in the last ${count(days)} ${days === 1 ? 'day' : 'days'}.`;

// periodText: which purchases were read.
export function periodText(r: BacktestResult, days: number): string {
  return `${count(r.purchases_read)} completed ${r.purchases_read === 1 ? 'purchase' : 'purchases'} of the last ${count(days)} days (since ${date(r.from.slice(0, 10))}, UTC).`;
}

// notes are what the marketer must know to read the numbers honestly.
export function notes(r: BacktestResult): string[] {
  const out: string[] = [];
  if (r.truncated) {
    const bound = r.stopped_by === 'time' ? 'it ran out of time' : r.stopped_by === 'purchases' ? `it read the most purchases one backtest reads (${count(r.purchases_read)})` : 'it reached a limit';
    out.push(`Stopped early: ${bound}. Only purchases up to ${when(r.to)} are counted; try fewer days.`);
  }
  if (!r.budgets_applied) out.push('Budgets are not applied: every campaign gives as if its budget had room, and no budget is spent.');
  out.push('The campaign tried counts as active over the whole period, whatever its status and schedule.');
  return out;
}

// busyDays are the days with purchases, which the per-day table lists
// (the chart shows every day).
export const busyDays = (days: BacktestDay[]) => days.filter((d) => d.orders > 0);

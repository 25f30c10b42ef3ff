// Membership tiers: where a member stands, as the points center shows it,
// and the back office's editor of a client's tiers (its rows, the body it
// sends and where a refused save's problems go).
import { ApiError } from './api';
import { count } from './format';
import type { NewTiers, Standing, TierLevel, Tiers } from './types';

// tierTitle is a tier's name as a heading shows it: "silver" → "Silver".
export const tierTitle = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

// multiplier is how a tier's multiplier reads: ×1.25.
export const multiplier = (m: number) => `×${m}`;

const pointsWord = (n: number) => `${count(n)} ${n === 1 ? 'point' : 'points'}`;

export type Progress = {
  // label names the bar; text is its value in words.
  label: string;
  text: string;
  min: number;
  max: number;
  now: number;
};

export type TierView = {
  title: string;
  // summary: "Silver · 3,800 more points to Gold", or that it is the top.
  summary: string;
  // earned: "1,200 points earned in the last 365 days".
  earned: string;
  // progress toward the next tier (none at the top).
  progress?: Progress;
  levels: (TierLevel & { current: boolean })[];
};

// tierView is a member's standing in words, or null when the client has
// no tiers (then the page says nothing about them).
export function tierView(s: Standing): TierView | null {
  if (!s.tier || s.tiers.length === 0) return null;
  const title = tierTitle(s.tier);
  const earned = s.window_days
    ? `${pointsWord(s.earned)} earned in the last ${count(s.window_days)} days`
    : `${pointsWord(s.earned)} earned`;
  const levels = s.tiers.map((t) => ({ ...t, current: t.name === s.tier }));
  if (!s.next) return { title, summary: `${title} · the top tier`, earned, levels };
  const next = tierTitle(s.next.name);
  const max = s.next.min_points;
  return {
    title,
    summary: `${title} · ${count(s.next.needs)} more ${s.next.needs === 1 ? 'point' : 'points'} to ${next}`,
    earned,
    progress: {
      label: `Points toward ${next}`,
      text: `${count(Math.min(s.earned, max))} of ${pointsWord(max)}`,
      min: 0,
      max,
      now: Math.min(s.earned, max),
    },
    levels,
  };
}

// A row of the tiers editor, as the admin types it.
export type TierRow = { name: string; minPoints: number | string; multiplier: number | string };
export type TierField = 'name' | 'min_points' | 'multiplier';

export const emptyRow = (): TierRow => ({ name: '', minPoints: '', multiplier: 1 });

// rowsOf are a client's tiers as the editor's rows (one empty row for a
// client without, to start from).
export function rowsOf(t: Tiers): TierRow[] {
  if (t.tiers.length === 0) return [{ name: 'member', minPoints: 0, multiplier: 1 }];
  return t.tiers.map((l) => ({ name: l.name, minPoints: l.min_points, multiplier: l.multiplier }));
}

const blank = (r: TierRow) => r.name.trim() === '' && r.minPoints === '' && (r.multiplier === '' || r.multiplier === 1);

// A number the admin typed goes as typed: a word the store cannot read is
// its to refuse, at the field (the server names tiers[i].min_points).
const numberOf = (v: number | string): number | string => (typeof v === 'number' ? v : v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

// tiersBody is what the editor sends: the rows not left blank, with sent[i]
// the row that became tiers[i] (a problem with tiers[i] goes to that row).
export function tiersBody(rows: TierRow[], windowDays: number | string): { body: NewTiers; sent: number[] } {
  const sent = rows.flatMap((r, i) => (blank(r) ? [] : [i]));
  const tiers = sent.map((i) => {
    const r = rows[i];
    return {
      name: r.name.trim(),
      min_points: numberOf(r.minPoints) as number,
      ...(r.multiplier === '' ? {} : { multiplier: numberOf(r.multiplier) as number }),
    };
  });
  const w = numberOf(windowDays);
  return { body: { tiers, ...(w === '' ? {} : { window_days: w as number }) }, sent };
}

export type TierProblems = {
  // rows: a row's problems by field.
  rows: Record<number, Partial<Record<TierField, string>>>;
  window?: string;
  // rest: what concerns no one field (the tiers as a whole).
  rest: string[];
};

const fieldPath = /^tiers\[(\d+)\]\.(name|min_points|multiplier)$/;

// tierProblems places a refused save's field errors next to the fields
// they name.
export function tierProblems(err: unknown, sent: number[]): TierProblems {
  const out: TierProblems = { rows: {}, rest: [] };
  if (!(err instanceof ApiError)) return out;
  for (const e of err.errors) {
    const m = fieldPath.exec(e.field);
    const row = m ? sent[Number(m[1])] : undefined;
    if (m && row !== undefined) {
      out.rows[row] = { ...out.rows[row], [m[2]]: e.message };
    } else if (e.field === 'window_days') {
      out.window = e.message;
    } else {
      out.rest.push(e.message);
    }
  }
  return out;
}

// ifMatch is the If-Match header a save sends: the version the editor
// loaded (none for a client that has no tiers yet: the first save makes
// them).
export function ifMatch(t: Pick<Tiers, 'version'>, etag: string | null): Record<string, string> {
  if (etag) return { 'If-Match': etag };
  return t.version > 0 ? { 'If-Match': `"${t.version}"` } : {};
}

// The back office's webhooks console: the events an endpoint may subscribe
// to, the body that registers one, where a refused registration's problems
// go, and the delivery log in words.
import { ApiError, errorText } from './api';
import { count, when } from './format';
import type { NewWebhookEndpoint, WebhookDelivery, WebhookEvent } from './types';

// webhookEvents are the event types, in the API's order, as an admin
// reads them.
export const webhookEvents: { type: WebhookEvent; label: string }[] = [
  { type: 'points.expiring', label: 'A member\'s points expire soon' },
  { type: 'points.expired', label: 'A member\'s points expired' },
  { type: 'points.matured', label: 'Pending points became spendable' },
  { type: 'tier.changed', label: 'A member moved to another tier' },
  { type: 'order.completed', label: 'An order was completed' },
  { type: 'order.returned', label: 'Items of an order were returned' },
];

// The form of a new endpoint, as the admin fills it in.
export type EndpointForm = { url: string; events: string[]; expiringDays: number | string };

export const emptyForm = (): EndpointForm => ({ url: '', events: ['order.completed'], expiringDays: '' });

// endpointBody is what registering sends: how many days ahead only with
// points.expiring (empty: the store's default), as typed (a word the store
// cannot read is its to refuse, at the field).
export function endpointBody(f: EndpointForm): NewWebhookEndpoint {
  const days = typeof f.expiringDays === 'string' && f.expiringDays.trim() !== '' && Number.isFinite(Number(f.expiringDays)) ? Number(f.expiringDays) : f.expiringDays;
  return {
    url: f.url.trim(),
    events: webhookEvents.map((e) => e.type).filter((t) => f.events.includes(t)),
    ...(f.events.includes('points.expiring') && days !== '' ? { expiring_days: days as number } : {}),
  };
}

export type EndpointField = 'url' | 'events' | 'expiring_days';

export type EndpointProblems = {
  fields: Partial<Record<EndpointField, string>>;
  // rest: what concerns no one field (20 endpoints already, …).
  rest: string[];
};

// endpointProblems places a refused registration's field errors next to
// the inputs they name (events[2] is the events' group).
export function endpointProblems(err: unknown): EndpointProblems {
  const out: EndpointProblems = { fields: {}, rest: [] };
  if (!(err instanceof ApiError)) return out;
  for (const e of err.errors) {
    const field = e.field.replace(/\[\d+\]$/, '');
    if (field === 'url' || field === 'events' || field === 'expiring_days') {
      out.fields[field] = out.fields[field] ? `${out.fields[field]}; ${e.message}` : e.message;
    } else {
      out.rest.push(e.field ? `${e.field}: ${e.message}` : e.message);
    }
  }
  return out;
}

// changedMeanwhile says what a refused removal or rotation means.
export function endpointRefusal(err: unknown, what: 'removed' | 'rotated'): string {
  if (err instanceof ApiError && err.status === 412) {
    return `Someone changed this endpoint meanwhile, so it was not ${what}. The list shows it as it is now: try again.`;
  }
  if (err instanceof ApiError && err.status === 404) return 'This endpoint no longer exists: someone removed it meanwhile.';
  return errorText(err);
}

// ifMatch is the version a removal or rotation is made against.
export const ifMatch = (e: { version: number }) => ({ 'If-Match': `"${e.version}"` });

export const pageSize = 20;

// deliveriesPath is a page of the log, of one endpoint or all.
export function deliveriesPath(endpointId: string, cursor: string | undefined, limit: number): string {
  const q = new URLSearchParams();
  if (endpointId) q.set('endpoint_id', endpointId);
  if (cursor) q.set('cursor', cursor);
  q.set('limit', String(Math.min(100, Math.max(1, limit))));
  return `/webhooks/deliveries?${q}`;
}

// appendPage adds a page to the deliveries shown, each once.
export function appendPage(shown: WebhookDelivery[], page: WebhookDelivery[]): WebhookDelivery[] {
  const seen = new Set(shown.map((d) => d.id));
  return [...shown, ...page.filter((d) => !seen.has(d.id))];
}

// dueSoon says whether a delivery is pending with an attempt due within a
// minute: the log is read again for it. One whose endpoint keeps failing
// waits longer and longer between attempts (up to about 3 days in all):
// the admin refreshes for it.
export const dueSoon = (d: WebhookDelivery, now = Date.now()) =>
  d.status === 'pending' && (!d.next_attempt_at || Date.parse(d.next_attempt_at) - now < 60_000);

export const statusColor: Record<WebhookDelivery['status'], string> = { pending: 'yellow', delivered: 'teal', failed: 'red' };

// attemptsText says how the delivery was tried: "2 attempts, last answered
// HTTP 503", and when it is tried next.
export function attemptsText(d: WebhookDelivery): string {
  const parts: string[] = [];
  if (d.attempts === 0) parts.push('Not tried yet');
  else parts.push(`${count(d.attempts)} ${d.attempts === 1 ? 'attempt' : 'attempts'}`);
  if (d.last_status !== undefined && d.last_status > 0) parts.push(`last answered HTTP ${d.last_status}`);
  if (d.last_error) parts.push(`last error: ${d.last_error}`);
  let out = parts.join(', ');
  if (d.status === 'pending' && d.next_attempt_at) out += `; next try ${when(d.next_attempt_at)}`;
  if (d.replays > 0) out += ` (sent again ${d.replays === 1 ? 'once' : `${count(d.replays)} times`})`;
  return out;
}

// replayRefusal says why a delivery was not sent again.
export function replayRefusal(err: unknown): string {
  if (err instanceof ApiError && err.status === 409) return 'This delivery is still being tried: send it again once it is delivered or has failed.';
  if (err instanceof ApiError && err.status === 404) return 'This delivery is no longer in the log.';
  return errorText(err);
}

import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import type { WebhookDelivery } from './types';
import { appendPage, attemptsText, deliveriesPath, dueSoon, endpointBody, endpointProblems, endpointRefusal, ifMatch, replayRefusal, webhookEvents } from './webhooks';

const delivery = (d: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: 'we-1:ev-1', endpoint_id: 'we-1', event_id: 'ev-1', event_type: 'order.completed', status: 'delivered', attempts: 1, last_status: 204,
  replays: 0, created_at: '2026-11-30T10:00:00Z', updated_at: '2026-11-30T10:00:01Z', payload: { id: 'ev-1' }, ...d,
});

describe('registering an endpoint', () => {
  it('knows every event type the API does, in its order', () => {
    expect(webhookEvents.map((e) => e.type)).toEqual(['points.expiring', 'points.expired', 'points.matured', 'tier.changed', 'order.completed', 'order.returned']);
  });

  it('sends the URL trimmed, the events in the API\'s order, and the days ahead only with points.expiring', () => {
    expect(endpointBody({ url: ' https://hooks.example.com/u ', events: ['order.returned', 'order.completed'], expiringDays: 10 })).toEqual({
      url: 'https://hooks.example.com/u', events: ['order.completed', 'order.returned'],
    });
    expect(endpointBody({ url: 'https://h.example.com', events: ['points.expiring'], expiringDays: '14' })).toEqual({
      url: 'https://h.example.com', events: ['points.expiring'], expiring_days: 14,
    });
    expect(endpointBody({ url: 'https://h.example.com', events: ['points.expiring'], expiringDays: '' })).toEqual({ url: 'https://h.example.com', events: ['points.expiring'] });
  });

  it('places a refused registration\'s problems at the inputs they name', () => {
    const err = new ApiError(400, 'Invalid request', '', [
      { field: 'url', message: 'an https URL' },
      { field: 'events[1]', message: 'unknown event type' },
      { field: 'expiring_days', message: 'from 1 to 60 days' },
      { field: '', message: 'the body is not JSON' },
    ]);
    expect(endpointProblems(err)).toEqual({
      fields: { url: 'an https URL', events: 'unknown event type', expiring_days: 'from 1 to 60 days' },
      rest: ['the body is not JSON'],
    });
    expect(endpointProblems(new Error('offline'))).toEqual({ fields: {}, rest: [] });
  });
});

describe('changing an endpoint', () => {
  it('names the version it was made against, and says what a refusal means', () => {
    expect(ifMatch({ version: 4 })).toEqual({ 'If-Match': '"4"' });
    expect(endpointRefusal(new ApiError(412, 'Changed meanwhile', 'at version 5, not 4'), 'removed')).toBe(
      'Someone changed this endpoint meanwhile, so it was not removed. The list shows it as it is now: try again.',
    );
    expect(endpointRefusal(new ApiError(404, 'Not found', ''), 'rotated')).toBe('This endpoint no longer exists: someone removed it meanwhile.');
  });
});

describe('the delivery log', () => {
  it('reads a page of one endpoint or all', () => {
    expect(deliveriesPath('', undefined, 20)).toBe('/webhooks/deliveries?limit=20');
    expect(deliveriesPath('we 1', 'c/2', 500)).toBe('/webhooks/deliveries?endpoint_id=we+1&cursor=c%2F2&limit=100');
  });

  it('adds a page without showing a delivery twice', () => {
    const a = delivery({ id: 'a' });
    const b = delivery({ id: 'b' });
    expect(appendPage([a], [a, b]).map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('says how a delivery was tried', () => {
    expect(attemptsText(delivery())).toBe('1 attempt, last answered HTTP 204');
    expect(attemptsText(delivery({ status: 'pending', attempts: 0, last_status: undefined }))).toBe('Not tried yet');
    expect(attemptsText(delivery({ status: 'pending', attempts: 3, last_status: 503, next_attempt_at: '2026-11-30T10:05:00Z', replays: 2 }))).toMatch(
      /^3 attempts, last answered HTTP 503; next try Nov 30, 2026, .+ \(sent again 2 times\)$/,
    );
    expect(attemptsText(delivery({ status: 'failed', attempts: 12, last_status: undefined, last_error: 'connection refused' }))).toBe(
      '12 attempts, last error: connection refused',
    );
  });

  it('waits for a pending delivery whose attempt is due within a minute', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(dueSoon(delivery({ status: 'pending', attempts: 0 }), now)).toBe(true);
    expect(dueSoon(delivery({ status: 'pending', attempts: 2, next_attempt_at: '2026-11-30T10:00:30Z' }), now)).toBe(true);
    expect(dueSoon(delivery({ status: 'pending', attempts: 6, next_attempt_at: '2026-11-30T11:00:00Z' }), now)).toBe(false);
    expect(dueSoon(delivery(), now)).toBe(false);
  });

  it('says why a delivery cannot be sent again', () => {
    expect(replayRefusal(new ApiError(409, 'Conflict', 'the delivery is pending'))).toBe(
      'This delivery is still being tried: send it again once it is delivered or has failed.',
    );
    expect(replayRefusal(new ApiError(403, 'Forbidden', 'admins only'))).toBe('admins only');
  });
});

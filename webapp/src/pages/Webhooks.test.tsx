import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebhookDelivery, WebhookEndpoint } from '../lib/types';
import { renderUI } from '../test/render';
import { Deliveries, Webhooks } from './Webhooks';

afterEach(() => vi.unstubAllGlobals());

type Call = { method: string; url: string; headers: Record<string, string>; body?: unknown };

function serve(answer: (c: Call) => Response) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const c: Call = { method: init.method ?? 'GET', url, headers: (init.headers ?? {}) as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    return answer(c);
  });
  return calls;
}

const answer = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  });

const at = '2026-11-30T10:00:00Z';
const endpoint = (e: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id: 'we-1', url: 'https://hooks.example.com/unicorn', events: ['order.completed'], expiring_days: 7, active: true, created_at: at, updated_at: at, version: 1, ...e,
});
const delivery = (d: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: 'we-1:ev-1', endpoint_id: 'we-1', event_id: 'ev-1', event_type: 'order.completed', status: 'delivered', attempts: 1, last_status: 204,
  last_attempt_at: at, replays: 0, created_at: at, updated_at: at, payload: { id: 'ev-1', type: 'order.completed', data: { order_id: 'o-1' } }, ...d,
});

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const input = (label: string | RegExp) => screen.getByLabelText(label) as HTMLInputElement;
const path = (c: Call) => c.url.split('?')[0];

describe('the webhooks console', () => {
  it('registers an endpoint, with problems at their field, then shows its secret once', async () => {
    let endpoints: WebhookEndpoint[] = [];
    const calls = serve((c) => {
      if (c.method === 'GET' && path(c) === '/webhooks/endpoints') return answer(200, { items: endpoints });
      if (c.method === 'GET') return answer(200, { items: [] });
      const body = c.body as { url: string; events: string[] };
      if (body.url.startsWith('http://')) {
        return answer(400, { title: 'Invalid request', status: 400, errors: [{ field: 'url', message: 'an https URL' }] });
      }
      endpoints = [endpoint({ url: body.url, events: body.events as WebhookEndpoint['events'] })];
      return answer(201, { ...endpoints[0], secret });
    });
    renderUI(<Webhooks />);
    await screen.findByText('No endpoints yet: add one to have the store send it events.');

    fireEvent.change(input(/^URL/), { target: { value: 'http://hooks.example.com/unicorn' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /tier\.changed/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    await waitFor(() => expect(input(/^URL/).getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('an https URL')).toBeTruthy();
    expect(screen.getByTestId('endpoint-error').textContent).toBe('Not added: see the fields marked below.');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ url: 'http://hooks.example.com/unicorn', events: ['tier.changed', 'order.completed'] });

    fireEvent.change(input(/^URL/), { target: { value: 'https://hooks.example.com/unicorn' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    const shown = await screen.findByTestId('webhook-secret');
    expect(within(shown).getByLabelText('Signing secret')).toHaveProperty('value', secret);
    expect(shown.textContent).toMatch(/you will not see it again/);
    const row = await screen.findByTestId('webhook-endpoint');
    expect(row.textContent).toMatch(/https:\/\/hooks\.example\.com\/unicorn/);
    // The form starts again; the secret goes once the admin says it is saved.
    expect(input(/^URL/).value).toBe('');
    fireEvent.click(within(shown).getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByTestId('webhook-secret')).toBeNull();
    expect(screen.queryByDisplayValue(secret)).toBeNull();
  });

  it('removes an endpoint after a confirmation, against the version it showed, and says when it changed meanwhile', async () => {
    let removed = false;
    const calls = serve((c) => {
      if (c.method === 'GET' && path(c) === '/webhooks/endpoints') return answer(200, { items: removed ? [] : [endpoint({ version: 3 })] });
      if (c.method === 'GET') return answer(200, { items: [] });
      if (c.method === 'POST') return answer(412, { title: 'Changed meanwhile', status: 412, detail: 'at version 4, not 3' });
      removed = true;
      return answer(204);
    });
    renderUI(<Webhooks />);
    fireEvent.click(await screen.findByRole('button', { name: 'Rotate secret of https://hooks.example.com/unicorn' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Rotate secret' }));
    expect((await screen.findByTestId('webhooks-note')).textContent).toBe(
      'Someone changed this endpoint meanwhile, so it was not rotated. The list shows it as it is now: try again.',
    );
    expect(screen.queryByTestId('webhook-secret')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Remove https://hooks.example.com/unicorn' }));
    fireEvent.click(within(await screen.findByRole('dialog', { name: 'Remove this endpoint?' })).getByRole('button', { name: 'Remove endpoint' }));
    await screen.findByText('https://hooks.example.com/unicorn removed: it is sent nothing more.');
    await screen.findByText('No endpoints yet: add one to have the store send it events.');
    const changes = calls.filter((c) => c.method !== 'GET');
    expect(changes.map((c) => [c.method, c.url, c.headers['If-Match']])).toEqual([
      ['POST', '/webhooks/endpoints/we-1/secret', '"3"'],
      ['DELETE', '/webhooks/endpoints/we-1', '"3"'],
    ]);
  });

  it('shows a rotated secret once', async () => {
    serve((c) => {
      if (c.method === 'GET' && path(c) === '/webhooks/endpoints') return answer(200, { items: [endpoint()] });
      if (c.method === 'GET') return answer(200, { items: [] });
      return answer(200, { ...endpoint({ version: 2 }), secret });
    });
    renderUI(<Webhooks />);
    fireEvent.click(await screen.findByRole('button', { name: 'Rotate secret of https://hooks.example.com/unicorn' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Rotate secret' }));
    const shown = await screen.findByTestId('webhook-secret');
    expect(shown.textContent).toMatch(/^The new signing secret/);
    expect(within(shown).getByLabelText('Signing secret')).toHaveProperty('value', secret);
  });
});

describe('the delivery log', () => {
  const two = [endpoint(), endpoint({ id: 'we-2', url: 'https://other.example.com/in' })];

  it('filters by endpoint, loads more, opens a payload and sends a delivery again', async () => {
    const first = delivery();
    const older = delivery({ id: 'we-1:ev-0', event_id: 'ev-0', event_type: 'order.returned', status: 'failed', attempts: 12, last_status: 500 });
    const calls = serve((c) => {
      const q = new URL(c.url, 'http://store').searchParams;
      if (c.method === 'POST') return answer(202, { ...first, status: 'pending', replays: 1 });
      if (q.get('cursor') === 'next') return answer(200, { items: [older] });
      return answer(200, { items: [first], next_cursor: 'next' });
    });
    renderUI(<Deliveries endpoints={two} refreshEvery={60_000} />);
    await screen.findByRole('table', { name: 'Deliveries' });
    fireEvent.change(screen.getByLabelText('Deliveries to'), { target: { value: 'we-1' } });
    await waitFor(() => expect(calls.at(-1)!.url).toBe('/webhooks/deliveries?endpoint_id=we-1&limit=20'));
    fireEvent.click(await screen.findByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByTestId('delivery')).toHaveLength(2));
    expect(calls.at(-1)!.url).toBe('/webhooks/deliveries?endpoint_id=we-1&cursor=next&limit=20');
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    const rows = screen.getAllByTestId('delivery');
    expect(rows.map((r) => within(r).getByTestId('delivery-status').textContent)).toEqual(['delivered', 'failed']);
    expect(rows[1].textContent).toMatch(/12 attempts, last answered HTTP 500/);

    const open = within(rows[0]).getByRole('button', { name: 'Payload' });
    expect(open.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(open);
    expect(open.getAttribute('aria-expanded')).toBe('true');
    expect(document.getElementById(open.getAttribute('aria-controls')!)!.textContent).toMatch(/"order_id": "o-1"/);

    fireEvent.click(within(rows[0]).getByRole('button', { name: 'Send again' }));
    await screen.findByText('Sending order.completed ev-1 again to https://hooks.example.com/unicorn.');
    expect(within(screen.getAllByTestId('delivery')[0]).getByTestId('delivery-status').textContent).toBe('pending');
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/webhooks/deliveries/we-1%3Aev-1/replay']);
  });

  it('reads the log again while a delivery is pending, until it is not', async () => {
    let reads = 0;
    serve(() => {
      reads++;
      return answer(200, { items: [delivery(reads < 3 ? { status: 'pending', attempts: 0, last_status: undefined } : {})] });
    });
    renderUI(<Deliveries endpoints={two} refreshEvery={5} />);
    await waitFor(() => expect(screen.getByTestId('delivery-status').textContent).toBe('delivered'));
    const settled = reads;
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toBe(settled);
  });

  it('says why a delivery still being tried is not sent again', async () => {
    serve((c) => (c.method === 'POST'
      ? answer(409, { title: 'Conflict', status: 409, detail: 'the delivery is pending' })
      : answer(200, { items: [delivery()] })));
    renderUI(<Deliveries endpoints={two} refreshEvery={60_000} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Send again' }));
    expect((await screen.findByRole('alert')).textContent).toBe('This delivery is still being tried: send it again once it is delivered or has failed.');
  });
});

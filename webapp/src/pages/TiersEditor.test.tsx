import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Tiers } from '../lib/types';
import { renderUI } from '../test/render';
import { TiersEditor } from './TiersEditor';

afterEach(() => vi.unstubAllGlobals());

type Call = { method: string; url: string; headers: Record<string, string>; body?: unknown };

function serve(answer: (c: Call, calls: Call[]) => Response) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const c: Call = { method: init.method ?? 'GET', url, headers: (init.headers ?? {}) as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    return answer(c, calls);
  });
  return calls;
}

const answer = (status: number, body: unknown, etag?: string) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...(etag ? { ETag: etag } : {}) },
  });

const v2: Tiers = {
  client: 'UnicornStore', window_days: 365, version: 2, updated_at: '2026-12-01T10:00:00Z', updated_by: 'boss',
  tiers: [{ name: 'member', min_points: 0, multiplier: 1 }, { name: 'silver', min_points: 1000, multiplier: 1.25 }],
};

const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;

describe('the tiers editor', () => {
  it('saves against the version it loaded and shows each problem next to its field', async () => {
    const calls = serve((c) =>
      c.method === 'GET'
        ? answer(200, v2, '"2"')
        : answer(400, { title: 'Invalid request', status: 400, errors: [{ field: 'tiers[1].multiplier', message: 'a multiplier is from 0 to 10 with at most 2 decimals' }] }),
    );
    renderUI(<TiersEditor />);
    await waitFor(() => expect(input('Name of tier 2').value).toBe('silver'));
    fireEvent.change(input('Multiplier of tier 2'), { target: { value: '×20' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save tiers' }));

    await waitFor(() => expect(input('Multiplier of tier 2').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('a multiplier is from 0 to 10 with at most 2 decimals')).toBeTruthy();
    expect(input('Multiplier of tier 1').getAttribute('aria-invalid')).not.toBe('true');
    expect(input('Name of tier 2').getAttribute('aria-invalid')).not.toBe('true');
    expect(screen.getByRole('alert').textContent).toBe('Not saved: see the fields marked below.');
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.headers['If-Match']).toBe('"2"');
    expect(put.body).toEqual({ window_days: 365, tiers: [{ name: 'member', min_points: 0, multiplier: 1 }, { name: 'silver', min_points: 1000, multiplier: 20 }] });
  });

  it('adds a tier and saves it, then works on the version saved', async () => {
    const v3: Tiers = { ...v2, version: 3, tiers: [...v2.tiers, { name: 'gold', min_points: 5000, multiplier: 1.5 }] };
    const calls = serve((c) => (c.method === 'GET' ? answer(200, v2, '"2"') : answer(200, v3, '"3"')));
    renderUI(<TiersEditor />);
    await waitFor(() => expect(input('Name of tier 2').value).toBe('silver'));
    fireEvent.click(screen.getByRole('button', { name: 'Add a tier' }));
    fireEvent.change(input('Name of tier 3'), { target: { value: 'gold' } });
    fireEvent.change(input('Points needed for tier 3'), { target: { value: '5000' } });
    fireEvent.change(input('Multiplier of tier 3'), { target: { value: '×1.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save tiers' }));
    await screen.findByText(/^Tiers saved\./);
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.body)).toEqual([
      { window_days: 365, tiers: [...v2.tiers, { name: 'gold', min_points: 5000, multiplier: 1.5 }] },
    ]);
    fireEvent.click(screen.getByRole('button', { name: 'Save tiers' }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(2));
    expect(calls.filter((c) => c.method === 'PUT')[1].headers['If-Match']).toBe('"3"');
  });

  it('says when someone else changed the tiers meanwhile, and shows theirs', async () => {
    const theirs: Tiers = { ...v2, version: 3, updated_by: 'alice', tiers: [{ name: 'basic', min_points: 0, multiplier: 1 }] };
    let saved = false;
    serve((c) => {
      if (c.method === 'PUT') {
        saved = true;
        return answer(412, { title: 'Changed meanwhile', status: 412, detail: 'the tiers of UnicornStore are at version 3, not 2' });
      }
      return saved ? answer(200, theirs, '"3"') : answer(200, v2, '"2"');
    });
    renderUI(<TiersEditor />);
    await waitFor(() => expect(input('Name of tier 2').value).toBe('silver'));
    fireEvent.change(input('Points needed for tier 2'), { target: { value: '800' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save tiers' }));
    const note = await screen.findByRole('alert');
    expect(note.textContent).toBe('Someone else changed the tiers meanwhile, so yours were not saved. These are theirs: make your change again.');
    await waitFor(() => expect(input('Name of tier 1').value).toBe('basic'));
    expect(screen.queryByLabelText('Name of tier 2')).toBeNull();
    expect(screen.getByText(/Version 3, saved .* by alice\./)).toBeTruthy();
  });

  it('starts a store without tiers from one tier and makes them without If-Match', async () => {
    const calls = serve((c) => (c.method === 'GET' ? answer(200, { client: 'UnicornStore', tiers: [], version: 0 }) : answer(200, { ...v2, version: 1 }, '"1"')));
    renderUI(<TiersEditor />);
    await screen.findByText(/This store has no tiers yet\./);
    expect(input('Name of tier 1').value).toBe('member');
    fireEvent.click(screen.getByRole('button', { name: 'Save tiers' }));
    await screen.findByText(/^Tiers saved\./);
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.headers['If-Match']).toBeUndefined();
    expect(put.body).toEqual({ window_days: 365, tiers: [{ name: 'member', min_points: 0, multiplier: 1 }] });
  });
});

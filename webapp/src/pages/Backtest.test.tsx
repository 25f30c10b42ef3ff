import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FieldError } from '../lib/api';
import type { BacktestResult, Campaign } from '../lib/types';
import { renderUI } from '../test/render';
import { BacktestControls, BacktestReport, useBacktest } from './Backtest';

afterEach(() => vi.unstubAllGlobals());

// jsdom lays nothing out: the chart would only warn that it has no size.
// The per-day table says the same.
vi.mock('@mantine/charts', () => ({ BarChart: () => null }));

type Call = { method: string; url: string; body?: unknown };

function serve(answer: (c: Call) => Response) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const c: Call = { method: init.method ?? 'GET', url, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    return answer(c);
  });
  return calls;
}

const answer = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });

// Editor stands for the campaign editor: its text, and the problems it marks.
function Editor({ initial, saved }: { initial: string; saved?: Campaign }) {
  const [text, setText] = useState(initial);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const bt = useBacktest({ client: 'UnicornStore', text, saved, onProblems: setProblems });
  return (
    <>
      <textarea aria-label="campaign" value={text} onChange={(e) => setText(e.currentTarget.value)} />
      <ul aria-label="Problems">
        {problems.map((p, i) => (
          <li key={i}>{`${p.field}: ${p.message}`}</li>
        ))}
      </ul>
      <BacktestControls bt={bt} />
      <BacktestReport bt={bt} text={text} />
    </>
  );
}

const draft = JSON.stringify({ client: 'UnicornStore', campaign_name: 'double', rules: [{ action: { command: 'issue', formula: '$.amount / 10' } }] });

const day = (d: string, orders: number, given: number, would: number) => ({
  day: d, orders, given, would_give: would, difference: would - given, campaign_given: 0, campaign_would_give: would - given,
});

const result: BacktestResult = {
  client: 'UnicornStore', campaign_name: 'double', new: true, from: '2026-11-24T00:00:00Z', to: '2026-11-30T12:00:00Z',
  per_day: [day('2026-11-28', 1, 65, 130), day('2026-11-29', 0, 0, 0), day('2026-11-30', 1, 129, 258)],
  total: { orders: 2, given: 194, would_give: 388, difference: 194, campaign_given: 0, campaign_would_give: 194 },
  customers: [{ username: 'derick', orders: 2, given: 194, would_give: 388, difference: 194 }],
  purchases_read: 2, truncated: false, budgets_applied: false, note: 'Nothing is written.',
};

describe('the backtest of the campaign editor', () => {
  it('tries the draft on the days chosen and shows the totals, a table per day and the customers', async () => {
    const calls = serve(() => answer(200, result));
    renderUI(<Editor initial={draft} />);
    fireEvent.click(screen.getByRole('radio', { name: '7 days' }));
    fireEvent.click(screen.getByRole('button', { name: 'Backtest' }));

    const report = await screen.findByTestId('backtest');
    expect(calls).toEqual([{ method: 'POST', url: '/campaigns/backtest', body: { client: 'UnicornStore', days: 7, campaign: JSON.parse(draft) } }]);
    expect(within(report).getByRole('heading').textContent).toBe('Backtest of the last 7 days');
    expect(screen.getByTestId('backtest-total').textContent).toBe('Would have given 388 points on 2 orders vs 194 given: +194');
    const perDay = screen.getByRole('table', { name: 'Points per day (UTC), on the days with purchases' });
    const rows = within(perDay).getAllByRole('row').slice(1).map((r) => within(r).getAllByRole('cell').map((c) => c.textContent));
    expect(rows).toEqual([
      ['Nov 28, 2026', '1', '65', '130', '+65', '65'],
      ['Nov 30, 2026', '1', '129', '258', '+129', '129'],
    ]);
    const customers = screen.getByRole('table', { name: 'The customer whose points would change most' });
    expect(within(customers).getByRole('row', { name: /derick/ }).textContent).toBe('derick2194388+194');
    expect(screen.getByTestId('backtest-notes').textContent).toMatch(/Budgets are not applied/);

    // An edit after the backtest says the report is of the draft before.
    expect(screen.queryByTestId('backtest-stale')).toBeNull();
    fireEvent.change(screen.getByLabelText('campaign'), { target: { value: draft.replace('/ 10', '/ 5') } });
    expect(screen.getByTestId('backtest-stale')).toBeTruthy();
  });

  it('says plainly when there were no purchases to try it on', async () => {
    serve(() => answer(200, { ...result, per_day: [], customers: [], purchases_read: 0, total: { orders: 0, given: 0, would_give: 0, difference: 0, campaign_given: 0, campaign_would_give: 0 } }));
    renderUI(<Editor initial={draft} />);
    fireEvent.click(screen.getByRole('button', { name: 'Backtest' }));
    expect((await screen.findByTestId('backtest-empty')).textContent).toMatch(/^No completed purchases in the last 30 days\./);
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('marks the draft\'s problems in the editor, at the fields the editor knows', async () => {
    serve(() => answer(400, { title: 'Invalid campaign', status: 400, errors: [{ field: 'campaign.rules[0].action.formula', message: 'unknown name bonus', position: 12 }] }));
    renderUI(<Editor initial={draft} />);
    fireEvent.click(screen.getByRole('button', { name: 'Backtest' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Cannot backtest: the campaign has a problem, marked in the editor.');
    expect(within(screen.getByRole('list', { name: 'Problems' })).getByRole('listitem').textContent).toBe('rules[0].action.formula: unknown name bonus');
    expect(screen.queryByTestId('backtest')).toBeNull();
  });

  it('sends a saved campaign\'s change as a patch, and says when the campaign is gone', async () => {
    const saved = { client: 'UnicornStore', campaign_name: '1', status: 'active', rules: [{ action: { command: 'issue', formula: '$.amount / 10' } }], version: 2 } as Campaign;
    const calls = serve(() => answer(404, { title: 'Not found', status: 404, detail: 'no campaign 1' }));
    renderUI(<Editor initial={JSON.stringify({ client: 'UnicornStore', campaign_name: '1', status: 'active', rules: [{ action: { command: 'issue', formula: '$.amount / 5' } }] })} saved={saved} />);
    fireEvent.click(screen.getByRole('button', { name: 'Backtest' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Cannot backtest: UnicornStore has no campaign named “1” any more (it may have been deleted meanwhile).');
    expect(calls[0].body).toEqual({ client: 'UnicornStore', days: 30, campaign_name: '1', patch: { rules: [{ action: { command: 'issue', formula: '$.amount / 5' } }] } });
  });

  it('does not send a draft that is not JSON', async () => {
    const calls = serve(() => answer(200, result));
    renderUI(<Editor initial={'{"campaign_name": '} />);
    fireEvent.click(screen.getByRole('button', { name: 'Backtest' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Cannot backtest: the campaign is not valid JSON.'));
    expect(within(screen.getByRole('list', { name: 'Problems' })).getByRole('listitem').textContent).toMatch(/^\$json: Not valid JSON/);
    expect(calls).toEqual([]);
  });
});

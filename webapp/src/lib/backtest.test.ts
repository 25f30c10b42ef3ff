import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { backtestBody, busyDays, campaignText, changes, emptyText, notes, periodText, refusal, signed, totalText } from './backtest';
import type { BacktestResult, Campaign } from './types';

const saved: Campaign = {
  client: 'UnicornStore', campaign_name: '1', description: 'A point for every 10.00 you spend', status: 'active', priority: 0, rounding: 'floor',
  rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 0 }, action: { command: 'issue', formula: '$.amount / 10' } }],
  version: 3, updated_at: '2026-11-20T10:00:00Z', updated_by: 'marketer',
} as Campaign;

const result = (r: Partial<BacktestResult> = {}): BacktestResult => ({
  client: 'UnicornStore', campaign_name: 'double', new: true, from: '2026-11-01T00:00:00Z', to: '2026-11-30T12:00:00Z',
  per_day: [
    { day: '2026-11-29', orders: 0, given: 0, would_give: 0, difference: 0, campaign_given: 0, campaign_would_give: 0 },
    { day: '2026-11-30', orders: 38, given: 980, would_give: 1240, difference: 260, campaign_given: 0, campaign_would_give: 260 },
  ],
  total: { orders: 38, given: 980, would_give: 1240, difference: 260, campaign_given: 0, campaign_would_give: 260 },
  customers: [], purchases_read: 38, truncated: false, budgets_applied: false, note: 'Nothing is written.', ...r,
});

describe('the body of a backtest', () => {
  it('sends a new campaign as the draft', () => {
    const draft = { campaign_name: 'double', rules: [] };
    expect(backtestBody('UnicornStore', 30, draft)).toEqual({ body: { client: 'UnicornStore', days: 30, campaign: draft }, prefix: 'campaign.' });
  });

  it('sends a change to a saved campaign as a merge patch of what changed', () => {
    const edited = JSON.parse(JSON.stringify({ ...saved, version: undefined, updated_at: undefined, updated_by: undefined }));
    edited.rules[0].action.formula = '$.amount / 5';
    delete edited.description;
    const { body, prefix } = backtestBody('UnicornStore', 7, edited, saved);
    expect(prefix).toBe('patch.');
    expect(body).toEqual({
      client: 'UnicornStore', days: 7, campaign_name: '1',
      // The rules go whole (a merge patch replaces an array); the deleted description as null.
      patch: { rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 0 }, action: { command: 'issue', formula: '$.amount / 5' } }], description: null },
    });
  });

  it('tries a saved campaign as it is when nothing changed, and leaves a draft that is no object for the store to refuse', () => {
    const same = JSON.parse(JSON.stringify({ ...saved, version: undefined, updated_at: undefined, updated_by: undefined }));
    expect(backtestBody('UnicornStore', 90, same, saved).body).toEqual({ client: 'UnicornStore', days: 90, campaign_name: '1' });
    expect(backtestBody('UnicornStore', 90, [1], saved).body.patch).toEqual([1]);
    expect(changes({ a: 1, b: [1] }, { a: 1, b: [1, 2], c: 'x' })).toEqual({ b: [1, 2], c: 'x' });
  });
});

describe('a refused backtest', () => {
  it('puts the draft\'s problems at the editor\'s fields', () => {
    const err = new ApiError(400, 'Invalid campaign', '', [
      { field: 'campaign.rules[0].action.formula', message: 'unknown name bonus', position: 12 },
      { field: 'campaign', message: 'a campaign is an object' },
      { field: 'days', message: 'days is a whole number from 1 to 90' },
    ]);
    expect(refusal(err, 'campaign.')).toEqual({
      text: 'Cannot backtest: the campaign has 2 problems, marked in the editor. Also: days: days is a whole number from 1 to 90.',
      problems: [{ field: 'rules[0].action.formula', message: 'unknown name bonus', position: 12 }, { field: '', message: 'a campaign is an object' }],
    });
    const patch = new ApiError(400, 'Invalid campaign', '', [{ field: 'patch.campaign_name', message: 'campaign_name cannot change: create a new campaign instead' }]);
    expect(refusal(patch, 'patch.', saved)).toEqual({
      text: 'Cannot backtest: the campaign has a problem, marked in the editor.',
      problems: [{ field: 'campaign_name', message: 'campaign_name cannot change: create a new campaign instead' }],
    });
  });

  it('says a saved campaign is gone, and what the store said otherwise', () => {
    expect(refusal(new ApiError(404, 'Not found', 'campaign 1 not found'), 'patch.', saved).text).toBe(
      'Cannot backtest: UnicornStore has no campaign named “1” any more (it may have been deleted meanwhile).',
    );
    expect(refusal(new ApiError(403, 'Forbidden', 'marketers and admins only'), 'campaign.').text).toBe('Cannot backtest: marketers and admins only');
    expect(refusal(new ApiError(429, 'Too Many Requests', 'Too many attempts. Try again in 3 seconds.'), 'campaign.').text).toBe(
      'Cannot backtest: Too many attempts. Try again in 3 seconds.',
    );
  });
});

describe('a backtest in words', () => {
  it('says what would have been given against what was', () => {
    expect(totalText(result().total)).toBe('Would have given 1,240 points on 38 orders vs 980 given: +260');
    expect(totalText({ orders: 1, given: 65, would_give: 1, difference: -64, campaign_given: 0, campaign_would_give: 0 })).toBe(
      'Would have given 1 point on 1 order vs 65 given: −64',
    );
    expect(signed(0)).toBe('±0');
    expect(campaignText(result())).toBe('260 points of them from “double”, a new campaign.');
    expect(campaignText(result({ new: false, campaign_name: '1', total: { ...result().total, campaign_given: 980, campaign_would_give: 1240 } }))).toBe(
      '1,240 points of them from “1”, which gave 980 points as saved.',
    );
    expect(periodText(result(), 30)).toBe('38 completed purchases of the last 30 days (since Nov 1, 2026, UTC).');
    expect(emptyText(30)).toBe('No completed purchases in the last 30 days.');
  });

  it('says honestly what the numbers leave out', () => {
    expect(notes(result())).toEqual([
      'Budgets are not applied: every campaign gives as if its budget had room, and no budget is spent.',
      'The campaign tried counts as active over the whole period, whatever its status and schedule.',
    ]);
    const [time] = notes(result({ truncated: true, stopped_by: 'time' }));
    expect(time).toMatch(/^Stopped early: it ran out of time\. Only purchases up to Nov 30, 2026, .* are counted; try fewer days\.$/);
    expect(notes(result({ truncated: true, stopped_by: 'purchases', purchases_read: 20000 }))[0]).toMatch(/^Stopped early: it read the most purchases one backtest reads \(20,000\)\./);
  });

  it('lists the days with purchases', () => {
    expect(busyDays(result().per_day).map((d) => d.day)).toEqual(['2026-11-30']);
  });
});

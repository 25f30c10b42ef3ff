import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { ifMatch, multiplier, rowsOf, tierProblems, tiersBody, tierView } from './tiers';
import type { Standing } from './types';

const levels = [
  { name: 'member', min_points: 0, multiplier: 1 },
  { name: 'silver', min_points: 1000, multiplier: 1.25 },
  { name: 'gold', min_points: 5000, multiplier: 1.5 },
];

const standing = (s: Partial<Standing> = {}): Standing => ({
  account_id: 'derick', tier: 'silver', multiplier: 1.25, earned: 1200, window_days: 365,
  next: { name: 'gold', min_points: 5000, needs: 3800 }, tiers: levels, ...s,
});

describe('a member\'s tier', () => {
  it('says the tier, what the next needs and how far along the member is', () => {
    const v = tierView(standing())!;
    expect(v.summary).toBe('Silver · 3,800 more points to Gold');
    expect(v.earned).toBe('1,200 points earned in the last 365 days');
    expect(v.progress).toEqual({ label: 'Points toward Gold', text: '1,200 of 5,000 points', min: 0, max: 5000, now: 1200 });
    expect(v.levels.map((l) => [l.name, l.current])).toEqual([['member', false], ['silver', true], ['gold', false]]);
  });

  it('has no bar at the top tier, and nothing at all without tiers', () => {
    const top = tierView(standing({ tier: 'gold', multiplier: 1.5, earned: 6200, next: undefined }))!;
    expect(top.summary).toBe('Gold · the top tier');
    expect(top.progress).toBeUndefined();
    expect(tierView(standing({ tier: 'member', earned: 999, next: { name: 'silver', min_points: 1000, needs: 1 } }))!.summary).toBe('Member · 1 more point to Silver');
    expect(tierView({ account_id: 'derick', multiplier: 1, earned: 300, tiers: [] })).toBeNull();
  });

  it('writes a multiplier as a factor', () => {
    expect(levels.map((l) => multiplier(l.multiplier))).toEqual(['×1', '×1.25', '×1.5']);
  });
});

describe('the tiers editor', () => {
  it('starts a client without tiers from one tier everyone is in', () => {
    expect(rowsOf({ client: 'UnicornStore', tiers: [], version: 0 })).toEqual([{ name: 'member', minPoints: 0, multiplier: 1 }]);
    expect(rowsOf({ client: 'UnicornStore', tiers: levels, version: 2, window_days: 365 })[1]).toEqual({ name: 'silver', minPoints: 1000, multiplier: 1.25 });
  });

  it('sends the rows not left blank, as numbers, and remembers which row each became', () => {
    const { body, sent } = tiersBody(
      [
        { name: ' member ', minPoints: 0, multiplier: 1 },
        { name: '', minPoints: '', multiplier: 1 }, // left blank
        { name: 'silver', minPoints: '1000', multiplier: '1.25' },
        { name: 'gold', minPoints: 'lots', multiplier: '' }, // the store refuses a word, at the field
      ],
      '180',
    );
    expect(body).toEqual({
      window_days: 180,
      tiers: [{ name: 'member', min_points: 0, multiplier: 1 }, { name: 'silver', min_points: 1000, multiplier: 1.25 }, { name: 'gold', min_points: 'lots' }],
    });
    expect(sent).toEqual([0, 2, 3]);
  });

  it('places a refused save\'s problems at the rows and fields they name', () => {
    const err = new ApiError(400, 'Invalid request', '', [
      { field: 'tiers[1].multiplier', message: 'a multiplier is from 0 to 10 with at most 2 decimals' },
      { field: 'tiers[2].name', message: 'two tiers are named "silver"' },
      { field: 'window_days', message: 'a window is 1 to 730 days' },
      { field: 'tiers', message: 'the lowest tier needs 0 points, so that every member is in one' },
    ]);
    expect(tierProblems(err, [0, 2, 3])).toEqual({
      rows: { 2: { multiplier: 'a multiplier is from 0 to 10 with at most 2 decimals' }, 3: { name: 'two tiers are named "silver"' } },
      window: 'a window is 1 to 730 days',
      rest: ['the lowest tier needs 0 points, so that every member is in one'],
    });
    expect(tierProblems(new Error('offline'), [0])).toEqual({ rows: {}, rest: [] });
  });

  it('saves against the version it loaded', () => {
    expect(ifMatch({ version: 3 }, '"3"')).toEqual({ 'If-Match': '"3"' });
    expect(ifMatch({ version: 3 }, null)).toEqual({ 'If-Match': '"3"' });
    expect(ifMatch({ version: 0 }, null)).toEqual({}); // no tiers yet: the first save makes them
  });
});

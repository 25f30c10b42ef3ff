import { describe, expect, it } from 'vitest';
import {
  archivePatch, budgetUse, campaignResults, daysBack, diffSummary, draftKey, draftText, forgetDraft, isArchived, isoDay, keepDraft, keptDraft, lineDiff,
  matches, mergePatch, newDraftText, pivot, sameDraft, warningText, withChanges, withStatus,
} from './campaigns';

describe('campaign drafts', () => {
  it('edits only the draft’s fields and sends deleted ones as null', () => {
    const saved = JSON.parse(draftText({ client: 'c', campaign_name: 'n', status: 'active', budget: 100, rules: [], version: 3, updated_by: 'm' }));
    expect(saved).toEqual({ client: 'c', campaign_name: 'n', status: 'active', budget: 100, rules: [] });
    expect(mergePatch(saved, { client: 'c', campaign_name: 'n', status: 'paused', rules: [1] })).toEqual({
      client: 'c', campaign_name: 'n', status: 'paused', rules: [1], budget: null,
    });
  });

  it('edits the public description with the rest', () => {
    const saved = JSON.parse(draftText({ client: 'c', campaign_name: 'n', description: '1 point per 10 spent', rules: [], warnings: [] }));
    expect(saved).toEqual({ client: 'c', campaign_name: 'n', description: '1 point per 10 spent', rules: [] });
    expect(mergePatch(saved, { client: 'c', campaign_name: 'n', rules: [] })).toEqual({ client: 'c', campaign_name: 'n', rules: [], description: null });
    expect(JSON.parse(newDraftText('c')).description).toBeTruthy();
  });

  it('says where a warning is', () => {
    expect(warningText({ field: 'rules[0].action.formula', position: 0, message: '$.amont: no such field' })).toBe('rules[0].action.formula (character 1): $.amont: no such field');
    expect(warningText({ field: '', message: 'x' })).toBe('x');
  });

  it('changes the status of an edited draft and keeps the edits', () => {
    const edited = '{"campaign_name":"n","status":"paused","priority":7}';
    expect(JSON.parse(withStatus(edited, 'active'))).toEqual({ campaign_name: 'n', status: 'active', priority: 7 });
    expect(withStatus('{"campaign_name": ', 'active')).toBe('{"campaign_name": ');
    expect(withStatus('[1]', 'active')).toBe('[1]');
  });

  it('pivots awards into a row per day with a column per campaign', () => {
    const { rows, campaigns } = pivot(
      [
        { day: '2026-11-20', campaign_name: 'b', points: 5, orders: 1 },
        { day: '2026-11-20', campaign_name: 'a', points: 170, orders: 1 },
        { day: '2026-11-22', campaign_name: 'a', points: 10, orders: 2 },
      ],
      '2026-11-20',
      '2026-11-22',
    );
    expect(campaigns).toEqual(['a', 'b']);
    expect(rows).toEqual([
      { day: '2026-11-20', a: 170, b: 5 },
      { day: '2026-11-21', a: 0, b: 0 },
      { day: '2026-11-22', a: 10, b: 0 },
    ]);
  });
});

describe('versions, archive, search, budgets and analytics', () => {
  it('compares drafts as JSON', () => {
    expect(sameDraft('{"a":1,"b":[1,2]}', '{\n  "b": [1, 2],\n  "a": 1\n}')).toBe(true);
    expect(sameDraft('{"a":1}', '{"a":2}')).toBe(false);
    expect(sameDraft('{"a":1}', '{"a":')).toBe(false);
    expect(sameDraft('{"a":', '{"a":')).toBe(true);
  });

  it('diffs two versions line by line', () => {
    const d = lineDiff('{\n  "priority": 1,\n  "status": "paused"\n}', '{\n  "priority": 2,\n  "status": "paused",\n  "budget": 10\n}');
    expect(d).toEqual([
      { kind: 'same', text: '{' },
      { kind: 'removed', text: '  "priority": 1,' },
      { kind: 'removed', text: '  "status": "paused"' },
      { kind: 'added', text: '  "priority": 2,' },
      { kind: 'added', text: '  "status": "paused",' },
      { kind: 'added', text: '  "budget": 10' },
      { kind: 'same', text: '}' },
    ]);
    expect(diffSummary(d)).toBe('3 lines added, 2 lines removed.');
    expect(diffSummary(lineDiff('a\nb', 'a\nb'))).toMatch(/^No difference/);
    // A line kept in the middle stays a common line.
    expect(lineDiff('a\nx\nb', 'a\ny\nx\nz\nb').map((l) => `${l.kind[0]}${l.text}`)).toEqual(['sa', 'ay', 'sx', 'az', 'sb']);
    // Past the bound, the whole of each.
    expect(lineDiff('a\nb', 'c\nd', 1).map((l) => l.kind)).toEqual(['removed', 'removed', 'added', 'added']);
  });

  it('archives by pausing and ending the schedule', () => {
    const now = new Date('2026-11-20T10:00:00.250Z');
    expect(archivePatch({}, now)).toEqual({ status: 'paused', ends_at: '2026-11-20T10:00:00Z' });
    expect(archivePatch({ starts_at: '2026-12-01T00:00:00Z' }, now)).toEqual({ status: 'paused', ends_at: '2026-11-20T10:00:00Z', starts_at: null });
    expect(isArchived({ status: 'paused', ends_at: '2026-11-20T10:00:00Z' }, now)).toBe(true);
    expect(isArchived({ status: 'active', ends_at: '2026-11-20T10:00:00Z' }, now)).toBe(false);
    expect(isArchived({ status: 'paused', ends_at: '2026-12-20T10:00:00Z' }, now)).toBe(false);
    expect(isArchived({ status: 'paused' }, now)).toBe(false);
    expect(JSON.parse(withChanges('{"status":"active","ends_at":"x","priority":3}', { status: 'paused', ends_at: null }))).toEqual({ status: 'paused', priority: 3 });
  });

  it('searches by name and description', () => {
    const c = { campaign_name: 'Weekend-Bonus', description: 'Double points on Saturdays' };
    expect(matches(c, 'weekend')).toBe(true);
    expect(matches(c, ' saturdays ')).toBe(true);
    expect(matches(c, 'sunday')).toBe(false);
    expect(matches({ campaign_name: 'x' }, 'y')).toBe(false);
    expect(matches({ campaign_name: 'x' }, '')).toBe(true);
  });

  it('measures a budget', () => {
    expect(budgetUse({})).toBeNull();
    expect(budgetUse({ budget: 1000, awarded: 250 })).toEqual({ awarded: 250, budget: 1000, percent: 25 });
    expect(budgetUse({ budget: 100, awarded: 150 })?.percent).toBe(100);
    expect(budgetUse({ budget: 100 })?.awarded).toBe(0);
  });

  it('keeps one campaign’s days within a range', () => {
    const items = [
      { day: '2026-11-22', campaign_name: 'a', points: 10, orders: 2 },
      { day: '2026-11-20', campaign_name: 'a', points: 170, orders: 1 },
      { day: '2026-11-20', campaign_name: 'b', points: 5, orders: 1 },
      { day: '2026-11-10', campaign_name: 'a', points: 7, orders: 1 },
    ];
    const r = campaignResults(items, 'a', '2026-11-15', '2026-11-22');
    expect(r.days.map((d) => d.day)).toEqual(['2026-11-20', '2026-11-22']);
    expect([r.points, r.orders]).toEqual([180, 3]);
    expect(daysBack('2026-11-15', '2026-11-22')).toBe(8);
    expect(daysBack('2020-01-01', '2026-11-22')).toBe(366);
    expect(daysBack('2026-12-01', '2026-11-22')).toBe(1);
    expect(isoDay(1, new Date('2026-11-22T05:00:00Z'))).toBe('2026-11-21');
  });

  it('keeps a draft per person and campaign', () => {
    keepDraft('ann', 'x', { text: '{}', version: 2, at: '2026-11-20T10:00:00Z' });
    expect(keptDraft('ann', 'x')).toEqual({ text: '{}', version: 2, at: '2026-11-20T10:00:00Z' });
    expect(keptDraft('bob', 'x')).toBeNull();
    localStorage.setItem(draftKey('ann', 'y'), 'not json');
    expect(keptDraft('ann', 'y')).toBeNull();
    forgetDraft('ann', 'x');
    expect(keptDraft('ann', 'x')).toBeNull();
  });
});

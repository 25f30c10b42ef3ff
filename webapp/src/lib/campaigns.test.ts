import { describe, expect, it } from 'vitest';
import { draftText, mergePatch, newDraftText, pivot, warningText, withStatus } from './campaigns';

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

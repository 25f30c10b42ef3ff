import { describe, expect, it } from 'vitest';
import {
  newComparison,
  newRule,
  printJson,
  scheduleProblem,
  toForm,
  toJson,
  withOperator,
  type CampaignForm,
  type Comparison,
  type RuleForm,
} from './ruleModel';

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

// The demo's campaign (cmd/unicorn/demo.go), as the console shows it.
const seed = pretty({
  client: 'UnicornStore',
  campaign_name: '1',
  description: 'A point for every 10.00 you spend',
  status: 'active',
  priority: 0,
  rounding: 'floor',
  rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 100 }, action: { command: 'issue', formula: '$.amount/10' } }],
});

function form(text: string): CampaignForm {
  const p = toForm(text);
  if (!p.ok) throw new Error(p.reason);
  return p.form;
}

const withRule = (f: CampaignForm, i: number, change: (r: RuleForm) => RuleForm): CampaignForm => ({
  ...f,
  rules: f.rules.map((r, j) => (j === i ? change(r) : r)),
});

const withComparison = (f: CampaignForm, i: number, k: number, change: (c: Comparison) => Comparison) =>
  withRule(f, i, (r) => ({ ...r, comparisons: r.comparisons.map((c, j) => (j === k ? change(c) : c)) }));

describe('reading a campaign into the form', () => {
  it('reads the demo campaign', () => {
    const f = form(seed);
    expect(f.name).toBe('1');
    expect(f.description).toBe('A point for every 10.00 you spend');
    expect(f.startsAt).toBe('');
    expect(f.rules).toHaveLength(1);
    expect(f.rules[0]).toMatchObject({ editable: true, formula: '$.amount/10', grouped: false });
    expect(f.rules[0].comparisons[0]).toMatchObject({ path: '$.amount', operator: 'numeric_greater_than', value: '100', ownPath: false });
  });

  it('says why it cannot read text that is not JSON', () => {
    const p = toForm('{"client": "UnicornStore",, }');
    expect(p.ok).toBe(false);
    expect(!p.ok && p.reason).toMatch(/^The JSON is not valid/);
  });

  it.each([
    ['[1, 2]', 'The campaign must be a JSON object.'],
    ['{"campaign_name": 7, "rules": []}', 'campaign_name must be text.'],
    ['{"rules": {"a": 1}}', 'rules must be a list of rules.'],
    ['{"rules": "not json"}', 'rules is text that does not hold a JSON list of rules.'],
    ['{"rules": [{"action": {"command": "issue", "formula": "$.amount"}}, 3]}', 'Rule 2: a rule must be a JSON object.'],
    ['{"rules": [{"action": {"command": "issue", "formula": 10}}]}', 'Rule 1: its formula must be text.'],
  ])('says what of %s it cannot show', (text, reason) => {
    expect(toForm(text)).toEqual({ ok: false, reason });
  });

  it('keeps a condition it cannot show as it is, with its formula still editable', () => {
    const text = pretty({
      rules: [{ variable: '$.customer.tier', condition: { not: { rule: 'string_equals', value: 'gold' } }, action: { command: 'issue', formula: '$.amount/20' } }],
    });
    const f = form(text);
    expect(f.rules[0].editable).toBe(false);
    const out = JSON.parse(toJson(withRule(f, 0, (r) => ({ ...r, formula: '$.amount/5' }))));
    expect(out.rules[0]).toEqual({ variable: '$.customer.tier', condition: { not: { rule: 'string_equals', value: 'gold' } }, action: { command: 'issue', formula: '$.amount/5' } });
  });

  it('reads dates in UTC and keeps one it cannot read', () => {
    const f = form(pretty({ starts_at: '2026-12-01T01:00:00+01:00', ends_at: 'next week', rules: [] }));
    expect(f.startsAt).toBe('2026-12-01T00:00');
    expect(f.endsAt).toBe('');
    expect(f.endsAtUnread).toBe('next week');
  });
});

describe('round trips', () => {
  it.each([
    ['the demo campaign', seed],
    ['the new-campaign draft', pretty({ client: 'UnicornStore', campaign_name: 'weekend-bonus', description: '1 point for every 20 spent over 50', status: 'paused', priority: 10, rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 50 }, action: { command: 'issue', formula: '$.amount / 20' } }] })],
    ['fields in any order, unknown ones, exact numbers', `{
  "rules": [
    {
      "action": {
        "formula": "$.amount / 100 * $.customer.tier_multiplier",
        "command": "issue",
        "note": "kept"
      },
      "condition": {
        "any": [
          {
            "variable": "$.customer.tier",
            "rule": "string_in",
            "value": [
              "silver",
              "gold"
            ]
          },
          {
            "variable": "$.amount",
            "rule": "numeric_between",
            "value": [
              100.50,
              1e3
            ]
          },
          {
            "variable": "$.items[?(@.product_id == \\"1\\")]",
            "rule": "is_present"
          }
        ]
      }
    }
  ],
  "budget": 1234567890123456789,
  "x-owner": {
    "team": "growth"
  },
  "campaign_name": "tiers"
}`],
    ['seed 003’s rules as text', pretty({ campaign_name: '1', rules: '[ {"variable": "$.amount", "condition": {"rule": "numeric_greater_than", "value": 100}, "action": {"command": "issue", "formula": "$.amount/10"}} ]' })],
    ['a campaign without rules', pretty({ campaign_name: 'x' })],
  ])('keeps %s as it was', (_, text) => {
    expect(toJson(form(text))).toBe(text);
  });

  it('keeps rules it does not edit as written when something else changes', () => {
    const rules = '[{"condition": {"any": [{"rule": "is_present"}], "variable": "$.amount"}}, {"action": {"command": "issue"}}]';
    const text = pretty({ campaign_name: 'a', rules });
    expect(JSON.parse(toJson({ ...form(text), name: 'b' }))).toEqual({ campaign_name: 'b', rules });
  });

  it('prints as JSON.stringify does, with 2 spaces', () => {
    const v = { a: [1, { b: null, c: [] }, 'x"y'], d: {}, e: true, 'f\u2028': -0.5 };
    expect(printJson(v)).toBe(pretty(v));
    expect(printJson(v, '')).toBe(JSON.stringify(v));
  });
});

describe('editing', () => {
  it('changes the name and keeps every other field in its place', () => {
    const text = pretty({ client: 'UnicornStore', campaign_name: 'a', 'x-note': { keep: [1, 2] }, priority: 3, rules: [] });
    const out = toJson({ ...form(text), name: 'b' });
    expect(out).toBe(pretty({ client: 'UnicornStore', campaign_name: 'b', 'x-note': { keep: [1, 2] }, priority: 3, rules: [] }));
  });

  it('puts a new description and dates where a person would write them', () => {
    const text = pretty({ client: 'UnicornStore', campaign_name: 'a', status: 'paused', priority: 3, rules: [] });
    const out = toJson({ ...form(text), description: 'Double points', startsAt: '2026-12-01T00:00', endsAt: '2026-12-24T18:30' });
    expect(Object.keys(JSON.parse(out))).toEqual(['client', 'campaign_name', 'description', 'status', 'starts_at', 'ends_at', 'priority', 'rules']);
    expect(JSON.parse(out)).toMatchObject({ starts_at: '2026-12-01T00:00:00Z', ends_at: '2026-12-24T18:30:00Z' });
  });

  it('removes a date that is cleared and keeps one that is not touched', () => {
    const text = pretty({ starts_at: '2026-12-01T01:00:00+01:00', ends_at: '2027-01-01T00:00:00Z', rules: [] });
    const out = JSON.parse(toJson({ ...form(text), endsAt: '' }));
    expect(out).toEqual({ starts_at: '2026-12-01T01:00:00+01:00', rules: [] });
  });

  it('changes the path where seed 003 keeps it: the rule’s variable', () => {
    const out = JSON.parse(toJson(withComparison(form(seed), 0, 0, (c) => ({ ...c, path: '$.total' }))));
    expect(out.rules[0]).toEqual({ variable: '$.total', condition: { rule: 'numeric_greater_than', value: 100 }, action: { command: 'issue', formula: '$.amount/10' } });
  });

  it('writes a number as typed, and text that is not a number as text (the server says so)', () => {
    let out = JSON.parse(toJson(withComparison(form(seed), 0, 0, (c) => ({ ...c, value: '100.50' }))));
    expect(out.rules[0].condition.value).toBe(100.5);
    const text = toJson(withComparison(form(seed), 0, 0, (c) => ({ ...c, value: '100.50' })));
    expect(text).toContain('"value": 100.50');
    out = JSON.parse(toJson(withComparison(form(seed), 0, 0, (c) => ({ ...c, value: '1,5' }))));
    expect(out.rules[0].condition.value).toBe('1,5');
    // read back, the form shows what was typed
    expect(form(pretty(out)).rules[0].comparisons[0].value).toBe('1,5');
  });

  it('groups conditions when one is added and ungroups when one is left', () => {
    const two = withRule(form(seed), 0, (r) => ({ ...r, grouped: true, comparisons: [...r.comparisons, { ...newComparison('$.customer.tier'), operator: 'string_equals', value: 'gold' }] }));
    const text = toJson(two);
    expect(JSON.parse(text).rules[0]).toEqual({
      variable: '$.amount',
      condition: { all: [{ rule: 'numeric_greater_than', value: 100 }, { variable: '$.customer.tier', rule: 'string_equals', value: 'gold' }] },
      action: { command: 'issue', formula: '$.amount/10' },
    });
    const again = form(text);
    expect(again.rules[0].comparisons.map((c) => c.path)).toEqual(['$.amount', '$.customer.tier']);
    const any = toJson(withRule(again, 0, (r) => ({ ...r, combine: 'any' })));
    expect(Object.keys(JSON.parse(any).rules[0].condition)).toEqual(['any']);
    const one = toJson(withRule(again, 0, (r) => ({ ...r, grouped: false, comparisons: r.comparisons.slice(1) })));
    expect(JSON.parse(one).rules[0]).toEqual({
      variable: '$.amount',
      condition: { variable: '$.customer.tier', rule: 'string_equals', value: 'gold' },
      action: { command: 'issue', formula: '$.amount/10' },
    });
  });

  it('drops the condition of a rule that applies to every purchase', () => {
    const out = JSON.parse(toJson(withRule(form(seed), 0, (r) => ({ ...r, comparisons: [] }))));
    expect(out.rules[0]).toEqual({ action: { command: 'issue', formula: '$.amount/10' } });
  });

  it('adds and removes rules', () => {
    const f = form(seed);
    const added = JSON.parse(toJson({ ...f, rules: [...f.rules, newRule()] }));
    expect(added.rules[1]).toEqual({ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: '' }, action: { command: 'issue', formula: '$.amount / 10' } });
    const removed = JSON.parse(toJson({ ...f, rules: [] }));
    expect(removed.rules).toEqual([]);
  });

  it('keeps seed 003’s rules as text when it edits them', () => {
    const text = pretty({ campaign_name: '1', rules: JSON.stringify([{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 100 }, action: { command: 'issue', formula: '$.amount/10' } }]) });
    const out = JSON.parse(toJson(withRule(form(text), 0, (r) => ({ ...r, formula: '$.amount/5' }))));
    expect(typeof out.rules).toBe('string');
    expect(JSON.parse(out.rules)[0].action.formula).toBe('$.amount/5');
  });

  it('carries the value over when the operator changes', () => {
    const c = { ...newComparison(), value: '50' };
    const between = withOperator(c, 'numeric_between');
    expect([between.low, between.high]).toEqual(['50', '']);
    expect(withOperator(between, 'numeric_less_than').value).toBe('50');
    expect(withOperator({ ...newComparison(), operator: 'string_equals', value: 'gold' }, 'string_in').list).toEqual(['gold']);
    const out = JSON.parse(toJson(withComparison(form(seed), 0, 0, (x) => ({ ...withOperator(x, 'numeric_between'), high: '500' }))));
    expect(out.rules[0].condition).toEqual({ rule: 'numeric_between', value: [100, 500] });
    const absent = JSON.parse(toJson(withComparison(form(seed), 0, 0, (x) => ({ ...withOperator(x, 'is_present'), present: false }))));
    expect(absent.rules[0].condition).toEqual({ rule: 'is_present', value: false });
  });

  it('checks that the schedule ends after it starts', () => {
    const f = form(seed);
    expect(scheduleProblem({ ...f, startsAt: '2026-12-02T00:00', endsAt: '2026-12-01T00:00' })).toBe('The end must be after the start');
    expect(scheduleProblem({ ...f, startsAt: '2026-12-01T00:00', endsAt: '2026-12-02T00:00' })).toBeUndefined();
  });
});

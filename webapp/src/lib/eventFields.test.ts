import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeField, describeField, eventFieldPaths, eventFields, fieldAt, formulaFields } from './eventFields';

// The Go purchase event (domains/campaign/purchase.go) is where the fields
// come from: a field added there and not here would be missing from the
// form's suggestions.
const purchaseGo = readFileSync(join(process.cwd(), '../domains/campaign/purchase.go'), 'utf8') // vitest runs in webapp/;

function jsonNames(struct: string): string[] {
  const body = new RegExp(`type ${struct} struct \\{([^}]*)\\}`).exec(purchaseGo)?.[1] ?? '';
  return [...body.matchAll(/json:"([a-z_]+)/g)].map((m) => m[1]);
}

describe('the purchase event’s fields', () => {
  it('has every field of the Go purchase event', () => {
    const want = [
      ...jsonNames('Purchase').map((n) => `$.${n}`),
      ...jsonNames('Customer').map((n) => `$.customer.${n}`),
      ...jsonNames('PurchaseItem').map((n) => `$.items[0].${n}`),
    ].filter((p) => p !== '$.customer');
    expect(want.length).toBeGreaterThanOrEqual(15); // the regexes found the structs
    for (const p of want) expect(eventFieldPaths, p).toContain(p);
  });

  it('describes each field in one line', () => {
    expect(new Set(eventFieldPaths).size).toBe(eventFields.length);
    for (const f of eventFields) {
      expect(f.path.startsWith('$')).toBe(true);
      expect(f.description).not.toMatch(/\n/);
      expect(f.description.length).toBeGreaterThan(5);
    }
    expect(describeField('$.customer.tier_multiplier')).toMatch(/multiplier/);
    expect(describeField('$.nope')).toBeUndefined();
  });
});

describe('a formula’s field suggestions', () => {
  const paths = (formula: string, caret = formula.length) => formulaFields(formula, caret).map((f) => f.path);

  it('follows the path being typed, wherever it is in the formula', () => {
    expect(paths('$.amount / 10 * $.q')).toEqual(['$.quantity']);
    expect(paths('$.')).toContain('$.customer.tier_multiplier');
    expect(paths('$.items[0].')).toEqual(['$.items[0].quantity', '$.items[0].price', '$.items[0].amount']);
    expect(paths('min($.a', 7)).toEqual(['$.amount']);
    // The caret in the first path of two.
    expect(paths('$.to + $.amount', 4)).toEqual(['$.total']);
  });

  it('offers only numbers, and nothing outside a path or once it is complete', () => {
    expect(paths('$.customer.t')).toEqual(['$.customer.tier_multiplier']); // not the tier's name
    expect(paths('$.amount / 1')).toEqual([]);
    expect(paths('floor(')).toEqual([]);
    expect(paths('$.amount')).toEqual([]);
    expect(paths('$.nope')).toEqual([]);
  });

  it('puts the chosen path in place of the one at the caret, the caret after it', () => {
    expect(completeField('$.amount / 10 * $.q', 19, '$.quantity')).toEqual({ formula: '$.amount / 10 * $.quantity', caret: 26 });
    expect(completeField('$.to + 1', 3, '$.total')).toEqual({ formula: '$.total + 1', caret: 7 });
    expect(completeField('10 * ', 5, '$.amount')).toEqual({ formula: '10 * $.amount', caret: 13 });
    expect(fieldAt('max($.amount, 1)', 8)).toEqual({ start: 4, end: 12, text: '$.amount' });
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeField, eventFieldPaths, eventFields } from './eventFields';

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

// The fields of the store's purchase event: what a campaign's conditions
// and formulas read with JSONPath. They follow domains/campaign/purchase.go
// (Purchase.Event), which builds the event from a completed order; the Go
// side warns of any other path ("the store's purchase event has no field
// …"), so this list is the form's autocomplete source.
export type EventFieldType = 'number' | 'string' | 'list';

export type EventField = { path: string; type: EventFieldType; description: string };

export const eventFields: readonly EventField[] = [
  { path: '$.amount', type: 'number', description: 'Money charged for the order, after points paid part of it' },
  { path: '$.total', type: 'number', description: 'The order’s total, before points paid part of it' },
  { path: '$.points_redeemed', type: 'number', description: 'Points the customer spent on the order' },
  { path: '$.quantity', type: 'number', description: 'Units bought, all lines together' },
  { path: '$.customer.tier', type: 'string', description: 'The customer’s membership tier, such as silver (empty without tiers)' },
  { path: '$.customer.tier_multiplier', type: 'number', description: 'The multiplier of the customer’s tier (1 without tiers)' },
  { path: '$.items', type: 'list', description: 'The order’s lines' },
  { path: '$.items[0].product_id', type: 'string', description: 'Product of the first line (change 0 for another line)' },
  { path: '$.items[0].name', type: 'string', description: 'Product name of the first line' },
  { path: '$.items[0].quantity', type: 'number', description: 'Units of the first line' },
  { path: '$.items[0].price', type: 'number', description: 'Price of one unit of the first line' },
  { path: '$.items[0].amount', type: 'number', description: 'Amount of the first line (price × units)' },
  { path: '$.items[?(@.product_id == "1")]', type: 'list', description: 'Lines of product 1: with “is present”, the order has it' },
  { path: '$.username', type: 'string', description: 'The customer’s user name' },
  { path: '$.client', type: 'string', description: 'The store the order was placed in' },
  { path: '$.order_id', type: 'string', description: 'The order’s identifier' },
];

export const eventFieldPaths: string[] = eventFields.map((f) => f.path);

// describeField is the one-line description of a path, if the store's event
// has it.
export function describeField(path: string): string | undefined {
  return eventFields.find((f) => f.path === path)?.description;
}

// A formula reads fields inside arithmetic ("$.amount / 10 * $.quantity"),
// so its suggestions follow the path being typed, not the whole text. A
// path is made of these characters.
const pathChar = /[\w$.[\]]/;

// FieldToken is the path the caret is in: text[start:end].
export type FieldToken = { start: number; end: number; text: string };

// fieldAt is the path around the caret of a formula, if the caret is in
// (or just after) one: a run of path characters that starts with "$".
export function fieldAt(formula: string, caret: number): FieldToken | undefined {
  let start = caret;
  while (start > 0 && pathChar.test(formula[start - 1])) start--;
  let end = caret;
  while (end < formula.length && pathChar.test(formula[end])) end++;
  const text = formula.slice(start, end);
  if (!text.startsWith('$')) return undefined;
  return { start, end, text };
}

// formulaFields are the number fields that continue the path at the caret:
// what a formula can compute with. None once the path is complete.
export function formulaFields(formula: string, caret: number): EventField[] {
  const token = fieldAt(formula, caret);
  if (!token) return [];
  const typed = formula.slice(token.start, caret).toLowerCase();
  const fits = eventFields.filter((f) => f.type === 'number' && f.path.toLowerCase().startsWith(typed));
  return fits.length === 1 && fits[0].path === token.text ? [] : fits;
}

// completeField puts path in place of the path at the caret, and says
// where the caret goes: just after it.
export function completeField(formula: string, caret: number, path: string): { formula: string; caret: number } {
  const token = fieldAt(formula, caret) ?? { start: caret, end: caret, text: '' };
  return { formula: formula.slice(0, token.start) + path + formula.slice(token.end), caret: token.start + path.length };
}

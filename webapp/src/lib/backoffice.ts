// The back office's logic, apart from its pages: its views, a product edit
// made again on top of someone else's, a deposit's amount, every order
// across customers a page at a time, and which points transactions an
// admin may reverse.
import { ApiError } from './api';
import { count } from './format';
import { parseMoney } from './money';
import { effect } from './points';
import type { Product, Transaction } from './types';

// The back office's views, each at #/admin/{value}.
export const views = [
  { value: 'catalog', label: 'Catalog' },
  { value: 'orders', label: 'Orders' },
  { value: 'customers', label: 'Customers' },
  { value: 'users', label: 'Users' },
  { value: 'tiers', label: 'Tiers' },
  { value: 'webhooks', label: 'Webhooks' },
] as const;

export type View = (typeof views)[number]['value'];

// viewOf is the view an address names (#/admin alone is the catalog).
export function viewOf(segment: string | undefined): View {
  return views.find((v) => v.value === segment)?.value ?? 'catalog';
}

// fieldErrors maps a refusal's field problems to a form's inputs.
export function fieldErrors(e: unknown): Record<string, string> {
  return e instanceof ApiError ? Object.fromEntries(e.errors.map((f) => [f.field, sentence(f.message)])) : {};
}

// sentence starts the API's message with a capital, as text under a field.
export const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// The product fields an admin edits.
export type ProductFields = { name: string; description: string; image: string; price: string | number };
export type ProductField = keyof ProductFields;
const productFields: ProductField[] = ['name', 'description', 'image', 'price'];

export const fieldsOf = (p?: Product): ProductFields => ({
  name: p?.name ?? '',
  description: p?.description ?? '',
  image: p?.image ?? '',
  price: p ? Number(p.price) : '',
});

// sameValue compares two values of a field; prices by their amount
// ("1400" is 1400.00).
function sameValue(field: ProductField, a: string | number, b: string | number): boolean {
  if (field !== 'price') return String(a) === String(b);
  if (a === '' || b === '') return a === b;
  try {
    return parseMoney(a) === parseMoney(b);
  } catch {
    return String(a) === String(b);
  }
}

// editedFields names the fields this admin changed from what they
// started with.
export const editedFields = (started: ProductFields, mine: ProductFields): ProductField[] =>
  productFields.filter((f) => !sameValue(f, started[f], mine[f]));

// reapply makes an edit again on top of someone else's: the fields this
// admin changed from what they started with keep their edit, the others
// take the latest version's. changed names the fields edited.
export function reapply(started: ProductFields, mine: ProductFields, latest: ProductFields): { values: ProductFields; changed: ProductField[] } {
  const changed = editedFields(started, mine);
  const values = { ...latest };
  for (const f of changed) (values as Record<ProductField, string | number>)[f] = mine[f];
  return { values, changed };
}

const fieldWords: Record<ProductField, string> = { name: 'name', description: 'description', image: 'image', price: 'price' };

const and = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

// reappliedText tells the admin what the form now shows.
export function reappliedText(changed: ProductField[]): string {
  if (changed.length === 0) return 'This is their version: you had changed nothing. Make your change and save.';
  const what = and(changed.map((f) => fieldWords[f]));
  return `This is their version. Your ${changed.length === 1 ? 'change' : 'changes'} to the ${what} ${changed.length === 1 ? 'is' : 'are'} applied on top: check it and save again.`;
}

export const conflictText = 'Someone else changed this product while you edited it, so your changes were not saved.';

// depositProblem is what is wrong with a typed deposit, if anything: the
// store takes more than 0 and at most a billion, in cents.
export function depositProblem(amount: string | number): string | undefined {
  const text = String(amount).trim();
  if (text === '') return 'Enter an amount.';
  let v: bigint;
  try {
    v = parseMoney(text);
  } catch {
    return 'Enter an amount in dollars and cents, such as 25.50.';
  }
  if (v <= 0n) return 'Enter an amount above $0.00.';
  if (v % 10_000n !== 0n) return 'An amount has at most 2 decimals (cents).';
  if (v > parseMoney(1_000_000_000)) return 'At most $1,000,000,000.00 at once.';
  return undefined;
}

// The statuses the store lists every customer's orders by.
export type StatusFilter = '' | 'needs_attention' | 'pending';

export const statusFilters: { value: StatusFilter; label: string }[] = [
  { value: '', label: 'Any status' },
  { value: 'needs_attention', label: 'Needs attention' },
  { value: 'pending', label: 'In progress' },
];

// reversible says whether an admin may reverse a transaction: an issue or
// a redemption that no transaction shown reverses already.
export function reversible(t: Transaction, shown: Transaction[]): boolean {
  if (t.transaction_type !== 'issue' && t.transaction_type !== 'redeem') return false;
  return !shown.some((x) => x.reverses === t.id);
}

const signed = (n: number) => (n > 0 ? `+${count(n)}` : `−${count(-n)}`);

// pointsChange is how a transaction moved the points to spend and the
// pending ones: "+250", "+65 pending", "−30" ("" for a tier change).
export function pointsChange(t: Transaction): string {
  const e = effect(t);
  const parts = [];
  if (e.spendable !== 0) parts.push(signed(e.spendable));
  if (e.pending !== 0) parts.push(`${signed(e.pending)} pending`);
  return parts.join(', ');
}

const points = (n: number) => `${count(n)} ${n === 1 ? 'point' : 'points'}`;

// reversalQuestion says what reversing a transaction does, before it is.
export function reversalQuestion(t: Transaction, account: string): string {
  return t.transaction_type === 'issue'
    ? `${account} loses the ${points(t.amount)} this gave (those already spent or expired cannot be taken back).`
    : `${account} gets back the ${points(t.amount)} this spent, into the lots they came from.`;
}

// reversalResult says what a reversal did. (Its balance counts pending
// points too: the account's balance, read again, says what is spendable.)
export function reversalResult(r: Transaction): string {
  if (r.transaction_type === 'issue_reversal') {
    const missed = r.unrecovered ? ` ${sentence(points(r.unrecovered))} could not be taken back: already spent or expired.` : '';
    return `Reversed: ${points(r.amount)} taken back.${missed}`;
  }
  return `Reversed: ${points(r.amount)} given back.`;
}

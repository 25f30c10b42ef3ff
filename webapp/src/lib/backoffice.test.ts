import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import {
  depositProblem, fieldErrors, pointsChange, reapply, reappliedText, reversalResult, reversible, viewOf, type ProductFields,
} from './backoffice';
import type { Transaction } from './types';

describe('viewOf', () => {
  it('names the view of the address, the catalog by default', () => {
    expect(viewOf('users')).toBe('users');
    expect(viewOf(undefined)).toBe('catalog');
    expect(viewOf('nonsense')).toBe('catalog');
  });
});

describe('fieldErrors', () => {
  it('maps each field problem to its field, as a sentence', () => {
    const e = new ApiError(400, 'Invalid request', '', [{ field: 'delta', message: 'only 3 in stock' }]);
    expect(fieldErrors(e)).toEqual({ delta: 'Only 3 in stock' });
    expect(fieldErrors(new Error('x'))).toEqual({});
  });
});

describe('reapply', () => {
  const started: ProductFields = { name: 'Golden Mane', description: 'Calm', image: '/images/g.svg', price: 1299.5 };
  const latest: ProductFields = { name: 'Golden Mane', description: 'Calm and golden', image: '/images/g.svg', price: 1299.5 };

  it('keeps the fields this admin edited and takes theirs for the rest', () => {
    const mine = { ...started, price: '1400' };
    expect(reapply(started, mine, latest)).toEqual({ values: { ...latest, price: '1400' }, changed: ['price'] });
  });

  it('reads a price by its amount: 1299.50 typed again is no change', () => {
    expect(reapply(started, { ...started, price: '1299.50' }, { ...latest, price: 1300 }).changed).toEqual([]);
  });

  it('says what was applied again', () => {
    expect(reappliedText(['price'])).toMatch(/Your change to the price is applied on top/);
    expect(reappliedText(['name', 'description', 'price'])).toMatch(/Your changes to the name, description and price are applied on top/);
    expect(reappliedText([])).toMatch(/you had changed nothing/);
  });
});

describe('depositProblem', () => {
  it('refuses nothing, zero, negative, fractions of a cent and too much', () => {
    expect(depositProblem('')).toBe('Enter an amount.');
    expect(depositProblem(0)).toBe('Enter an amount above $0.00.');
    expect(depositProblem('0.00')).toBe('Enter an amount above $0.00.');
    expect(depositProblem(-5)).toBe('Enter an amount above $0.00.');
    expect(depositProblem('0.001')).toMatch(/at most 2 decimals/);
    expect(depositProblem(1_000_000_000.01)).toMatch(/At most \$1,000,000,000\.00/);
    expect(depositProblem('abc')).toMatch(/dollars and cents/);
  });

  it('takes a positive amount in cents', () => {
    expect(depositProblem(0.01)).toBeUndefined();
    expect(depositProblem('100')).toBeUndefined();
    expect(depositProblem(1_000_000_000)).toBeUndefined();
  });
});

const tx = (t: Partial<Transaction>) => ({ id: 't', account_id: 'derick', seq: 1, amount: 10, date_time: '2026-03-01T00:00:00Z', transaction_type: 'issue', ...t }) as Transaction;

describe('reversible', () => {
  it('is an issue or a redemption not reversed yet', () => {
    const issue = tx({ id: 'i' });
    const redeem = tx({ id: 'r', transaction_type: 'redeem' });
    const reversal = tx({ id: 'x', transaction_type: 'issue_reversal', reverses: 'i' });
    const shown = [reversal, redeem, issue];
    expect(reversible(issue, shown)).toBe(false);
    expect(reversible(redeem, shown)).toBe(true);
    expect(reversible(reversal, shown)).toBe(false);
    expect(reversible(tx({ transaction_type: 'expire' }), [])).toBe(false);
  });

  it('says what a reversal did, grouped', () => {
    expect(reversalResult(tx({ transaction_type: 'issue_reversal', amount: 1200, balance: 0, unrecovered: 5 }))).toBe(
      'Reversed: 1,200 points taken back. 5 points could not be taken back: already spent or expired.',
    );
    expect(reversalResult(tx({ transaction_type: 'redemption_reversal', amount: 1, balance: 1 }))).toBe('Reversed: 1 point given back.');
  });
});

describe('pointsChange', () => {
  it('says how the points to spend and the pending ones moved', () => {
    expect(pointsChange(tx({ amount: 1250 }))).toBe('+1,250');
    expect(pointsChange(tx({ amount: 65, matures_on: '2026-04-01' }))).toBe('+65 pending');
    expect(pointsChange(tx({ transaction_type: 'redeem', amount: 30 }))).toBe('−30');
    expect(pointsChange(tx({ transaction_type: 'issue_reversal', amount: 65, pending: 65 }))).toBe('−65 pending');
    expect(pointsChange(tx({ transaction_type: 'tier_change', amount: 0 }))).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { duration, orderNumber } from './format';

describe('orderNumber', () => {
  it.each([
    ['o-3f9a01c2deadbeef00112233', '#0011-2233'], // a hash of the purchase's key
    // Time-ordered ids of two orders placed a second apart share their
    // start: the numbers come from their ends.
    ['o-019ae4c5-7d21-7c3e-9a4f-1b2c3d4e5f60', '#3D4E-5F60'],
    ['o-019ae4c5-7d22-7a10-8b2e-9f8e7d6c5b4a', '#7D6C-5B4A'],
    ['o-ab12', '#AB12'],
  ])('%s is %s', (id, want) => expect(orderNumber(id)).toBe(want));
});

describe('duration', () => {
  it.each([
    [2, 'a few seconds'],
    [30, '30 seconds'],
    [895, '15 minutes'],
    [7200, '2 hours'],
  ])('%d seconds read "%s"', (s, want) => expect(duration(s)).toBe(want));
});

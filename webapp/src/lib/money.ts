// Exact money arithmetic on the API's amounts (JSON numbers, or decimal
// strings typed by a person), read by their digits: amounts become
// BigInt counts of millionths, so 0.1 + 0.2 is 0.3 and a cart never shows
// a float rounding error.

const scale = 1_000_000n;
const digits = 6;

export type Money = bigint;

export function parseMoney(s: string | number): Money {
  // A JSON number may print in exponent form (1e-7); its fixed form has the
  // digits we keep.
  const text = typeof s === 'number' && Math.abs(s) < 1e21 ? s.toFixed(digits) : String(s).trim();
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not an amount: ${text}`);
  const frac = (m[3] ?? '').slice(0, digits).padEnd(digits, '0');
  const v = BigInt(m[2]) * scale + BigInt(frac);
  return m[1] ? -v : v;
}

// formatMoney writes an amount with at least two decimals ("12.50").
export function formatMoney(v: Money): string {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const whole = abs / scale;
  let frac = (abs % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}${whole.toLocaleString('en-US')}.${frac}`;
}

export function money(s: string | number): string {
  return formatMoney(parseMoney(s));
}

export const times = (v: Money, n: number): Money => v * BigInt(n);
export const sum = (vs: Money[]): Money => vs.reduce((a, b) => a + b, 0n);

// moneyNumber is an amount as a JSON number for the API: money has at most
// two decimals and stays below 2^53 hundredths, so the number's shortest
// form is its exact digits.
export function moneyNumber(v: Money): number {
  return Number(formatMoney(v).replaceAll(',', ''));
}

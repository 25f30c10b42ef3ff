// End to end: pending points and membership tiers, on the real store in
// headless Chromium. A customer's purchase earns points that stay pending
// through the return window (they cannot pay yet); an admin sets tiers in
// the back office; the customer's next purchase moves them up, and the
// points center shows their tier and what the next one needs.
// Run with `npm run e2e` (make test runs it) after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callAs, desktop, expectAccessible, phone, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

let store, browser, page, errors;
// Errors the browser reports for answers a test asks for on purpose.
const expectedErrors = [];

before(async () => {
  store = await startStore();
  browser = await startBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  errors = watch(page);
});

after(async () => {
  await browser?.close();
  await store?.stop();
});

// asAdmin calls the API as the demo admin, beside the browser.
const asAdmin = (...call) => callAs(store.url, 'admin', ...call);

const exactly = (text) => new RegExp(`^${text}$`);
const spendable = (text) => page.getByTestId('points-balance').filter({ hasText: exactly(text) }).waitFor();
const pendingBadge = (text) => page.getByTestId('points-pending-badge').filter({ hasText: exactly(text) }).waitFor();

async function buy(name) {
  await page.getByRole('link', { name: 'Store' }).click();
  await page.getByRole('button', { name: `Add ${name} to cart` }).click();
  await page.getByRole('button', { name: 'Buy now' }).click();
  const outcome = page.getByTestId('purchase-outcome');
  // The store has the customer review the order before it pays.
  const confirm = page.getByRole('button', { name: /^Confirm and pay/ });
  await confirm.or(outcome).first().waitFor();
  if (await confirm.isVisible()) await confirm.click();
  await outcome.and(page.locator(':not([data-tone="pending"])')).waitFor();
  assert.equal(await outcome.getAttribute('data-tone'), 'success', await outcome.innerText());
  const text = await outcome.innerText();
  await page.getByRole('dialog').getByRole('button', { name: 'Keep shopping' }).click();
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  return text;
}

// openPoints opens the points center and waits for the member's tier to
// be answered (the page shows nothing about tiers for a client without).
async function openPoints() {
  const standing = page.waitForResponse((r) => new URL(r.url()).pathname === '/points/tier');
  await page.getByRole('link', { name: 'Points' }).click();
  assert.equal((await standing).status(), 200);
  await page.getByTestId('points-available').waitFor();
}

test('a customer\'s points stay pending after a purchase, and pending points cannot pay', async () => {
  assert.deepEqual((await asAdmin('GET', '/tiers')).tiers, [], 'the demo store starts without tiers');
  await signIn(page, store.url, 'derick');
  await spendable('0 pts');
  const outcome = await buy('Cloud Strider'); // 650.00: 65 points
  assert.match(outcome, /You earned 65 points, spendable once the return window closes on \w{3} \d{1,2}, \d{4}\./);
  await pendingBadge('\\+65 pending');
  await spendable('0 pts');

  // At checkout the pending points cannot pay.
  await page.getByRole('button', { name: 'Add Golden Mane to cart' }).click();
  const use = page.getByRole('switch', { name: 'Use my points (0 available)' });
  assert.ok(await use.isDisabled(), 'pending points can be switched on to pay');
  assert.match(await page.getByText(/^65 pending: points become spendable/).innerText(), /when the return window of the purchase that earned them ends/);
  await page.getByRole('button', { name: 'Remove Golden Mane' }).click();

  // The points center shows them apart, with the day they mature.
  await openPoints();
  assert.equal(await page.getByTestId('points-available').innerText(), '0');
  const [, until] = /^65 pending until (\w{3} \d{1,2}):/.exec(await page.getByTestId('points-pending').innerText()) ?? [];
  assert.ok(until, await page.getByTestId('points-pending').innerText());
  const lot = page.getByRole('table', { name: 'Lots' }).locator('tbody tr');
  assert.equal(await lot.count(), 1);
  assert.equal(await lot.getByTestId('lot-pending').innerText(), `65 until ${until}`);
  const txs = await page.getByRole('table', { name: 'Transactions' }).innerText();
  assert.match(txs, new RegExp(`Earned on a purchase, pending until ${until}\\tOrder #[0-9A-F]{4}-[0-9A-F]{4}\\t\\+65 pending`));
  // They expire in a year: nothing within the chart's 90 days, said in
  // words; the date they expire on is listed.
  await page.getByRole('region', { name: 'Expiring soon' }).getByText('Nothing expires in the next 90 days.').waitFor();
  assert.match(await page.getByTestId('next-expiry').innerText(), /^Next: 65 points expire on \w{3} \d{1,2}, \d{4} \(65 of them still pending\)\.$/);
  // The store has no tiers: nothing about them.
  assert.equal(await page.getByRole('region', { name: 'Your tier' }).count(), 0);
  assert.equal(await page.getByRole('progressbar').count(), 0);
  await signOut(page);
});

test('an admin sets the tiers in the back office, with problems shown at their field and a concurrent change refused', async () => {
  await signIn(page, store.url, 'admin');
  await page.getByRole('tab', { name: 'Tiers' }).click();
  await page.getByText('This store has no tiers yet.').waitFor();
  assert.equal(await page.getByLabel('Name of tier 1').inputValue(), 'member');
  for (const [i, name, points, multiplier] of [[2, 'silver', '100', '1.25'], [3, 'gold', '1000', '20']]) {
    await page.getByRole('button', { name: 'Add a tier' }).click();
    await page.getByLabel(`Name of tier ${i}`).fill(name);
    await page.getByLabel(`Points needed for tier ${i}`).fill(points);
    await page.getByLabel(`Multiplier of tier ${i}`).fill(multiplier);
  }
  await page.getByRole('button', { name: 'Save tiers' }).click();
  expectedErrors.push(/status of 400 \(Bad Request\).*\/tiers/); // the refused save, as the browser logs it
  const gold = page.getByLabel('Multiplier of tier 3');
  await page.locator('[aria-invalid="true"]').first().waitFor();
  assert.equal(await gold.getAttribute('aria-invalid'), 'true');
  assert.match(await page.getByText(/a multiplier is from 0 to 10/).innerText(), /at most 2 decimals/);
  assert.equal(await page.locator('[aria-invalid="true"]').count(), 1, 'only the multiplier is marked');

  await gold.fill('1.5');
  await page.getByRole('button', { name: 'Save tiers' }).click();
  await page.getByTestId('tiers-note').filter({ hasText: /^Tiers saved\./ }).waitFor();
  await page.getByText(/Version 1, saved .* by admin\./).waitFor();
  assert.equal(await page.locator('[aria-invalid="true"]').count(), 0);

  // Someone else changes the window meanwhile; this admin's save is refused
  // and the editor shows theirs.
  const v2 = await asAdmin('PUT', '/tiers', {
    window_days: 180,
    tiers: [{ name: 'member', min_points: 0 }, { name: 'silver', min_points: 100, multiplier: 1.25 }, { name: 'gold', min_points: 1000, multiplier: 1.5 }],
  }, { 'If-Match': '"1"' });
  assert.equal(v2.version, 2);
  await page.getByLabel('Multiplier of tier 2').fill('1.3');
  await page.getByRole('button', { name: 'Save tiers' }).click();
  expectedErrors.push(/status of 412 \(Precondition Failed\).*\/tiers/);
  await page.getByTestId('tiers-note').filter({ hasText: 'Someone else changed the tiers meanwhile, so yours were not saved. These are theirs: make your change again.' }).waitFor();
  await page.getByText(/Version 2, saved/).waitFor();
  assert.equal(await page.getByLabel('Window (days)').inputValue(), '180');
  assert.equal(await page.getByLabel('Multiplier of tier 2').inputValue(), '×1.25');
  await signOut(page);
});

test('the customer\'s next purchase moves them up a tier, and the points center shows what the next one needs', async () => {
  await signIn(page, store.url, 'derick');
  await openPoints();
  // Shown at once: 65 points earned, silver needs 100.
  await page.getByTestId('tier-summary').filter({ hasText: exactly('Member · 35 more points to Silver') }).waitFor();
  let bar = page.getByRole('progressbar', { name: 'Points toward Silver' });
  assert.deepEqual(
    [await bar.getAttribute('aria-valuemin'), await bar.getAttribute('aria-valuenow'), await bar.getAttribute('aria-valuemax')],
    ['0', '65', '100'],
  );
  const tiers = await page.getByRole('table', { name: 'Tiers' }).innerText();
  assert.match(tiers, /Member\s+YOU\s+0\s+×1\n/i);
  assert.match(tiers, /Silver\s+100\s+×1\.25\n/);
  assert.match(tiers, /Gold\s+1,000\s+×1\.5$/);

  const outcome = await buy('Cloud Strider');
  assert.match(outcome, /You earned 65 points, spendable/);
  await pendingBadge('\\+130 pending');
  await spendable('0 pts');

  await openPoints();
  await page.getByTestId('tier-summary').filter({ hasText: exactly('Silver · 870 more points to Gold') }).waitFor();
  assert.equal(await page.getByTestId('tier-earned').innerText(), '130 points earned in the last 180 days');
  bar = page.getByRole('progressbar', { name: 'Points toward Gold' });
  assert.deepEqual(
    [await bar.getAttribute('aria-valuemin'), await bar.getAttribute('aria-valuenow'), await bar.getAttribute('aria-valuemax')],
    ['0', '130', '1000'],
  );
  assert.match(await page.getByTestId('points-pending').innerText(), /^130 pending until \w{3} \d{1,2}( to \w{3} \d{1,2})?:/); // a range if the purchases straddled midnight UTC
  const txs = page.getByRole('table', { name: 'Transactions' });
  await txs.getByText('Moved to silver: 130 points earned in the last 180 days; silver needs 100').waitFor();
  // How to earn says what the tier does for them.
  assert.equal(
    await page.getByTestId('earn-tier').innerText(),
    'As a Silver member you earn ×1.25 the points of a purchase. Earn 870 more points within 180 days to reach Gold (×1.5).',
  );
  // The page with a tier, its bar and the tiers passes axe at both sizes.
  await expectAccessible(page, 'points with a tier, desktop');
  await page.setViewportSize(phone);
  try {
    await page.getByTestId('tier-summary').waitFor();
    await expectAccessible(page, 'points with a tier, phone');
  } finally {
    await page.setViewportSize(desktop);
  }
  assert.equal(await txs.locator('tbody tr[data-type="tier_change"]').count(), 1, 'one move: from no tier straight to silver');
  await signOut(page);
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

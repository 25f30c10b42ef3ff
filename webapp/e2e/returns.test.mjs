// End to end: a customer returns part of an order, then cancels the rest,
// on the real store in headless Chromium; an admin then reads the returns.
// Run with `npm run e2e` (make test runs it) after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callAs, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

let store, browser, page, errors;
// Errors the browser reports for answers a test asks for on purpose.
const expectedErrors = [];
let orderId;

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

const wallet = (amount) => page.getByTestId('wallet-balance').filter({ hasText: amount }).waitFor();

// buyAndOpen buys quantity of name and opens the order's page.
async function buyAndOpen(name, quantity) {
  await page.getByRole('link', { name: 'Store' }).click();
  await page.getByRole('button', { name: `Add ${name} to cart` }).click();
  const q = page.getByLabel(`Quantity of ${name}`);
  await q.fill(String(quantity));
  await q.blur();
  await page.getByRole('button', { name: 'Buy now' }).click();
  await page.getByRole('dialog', { name: 'Review your order' }).getByRole('button', { name: /^Confirm and pay/ }).click();
  const outcome = page.getByTestId('purchase-outcome');
  await outcome.and(page.locator(':not([data-tone="pending"])')).waitFor();
  assert.equal(await outcome.getAttribute('data-tone'), 'success', await outcome.innerText());
  await page.getByRole('dialog').getByRole('link', { name: 'See the order' }).click();
  await page.getByRole('heading', { name: 'Return or cancel' }).waitFor();
  return decodeURIComponent(new URL(page.url()).hash.split('/').pop());
}

async function returnSteps(id) {
  return page
    .getByRole('list', { name: `Steps of return ${id}` })
    .locator('[data-step]')
    .evaluateAll((els) => els.map((e) => `${e.dataset.step}:${e.dataset.state}`));
}

const allSteps = ['ReverseReturnAward', 'RestoreReturnPoints', 'RefundReturn', 'RestockReturn', 'CompleteReturn', 'PublishOrderReturned'].map((s) => `${s}:done`);

test('a customer returns one unicorn, sees the refund and the return\'s steps, then cancels the rest', async () => {
  await signIn(page, store.url, 'derick');
  await wallet('$3,300.00');
  orderId = await buyAndOpen('Cloud Strider', 2); // 1,300.00, earning 130 points
  await wallet('$2,000.00');
  assert.match(await page.getByTestId('return-window').innerText(), /^You can return items until \w{3} \d{1,2}, \d{4}\.$/);

  // Return one of the two.
  await page.getByRole('button', { name: 'Return items' }).click();
  const form = page.getByRole('dialog', { name: 'Return items' });
  await form.getByLabel('Cloud Strider').fill('1');
  await form.getByLabel('Reason (optional)').fill('one is enough');
  await form.getByRole('button', { name: 'Return 1 item' }).click();
  const outcome = page.getByTestId('return-outcome');
  await outcome.and(page.locator(':not([data-tone="pending"])')).waitFor();
  assert.equal(await outcome.getAttribute('data-tone'), 'success');
  assert.match(await outcome.innerText(), /We refunded \$650\.00 to your wallet\. 65 points the order earned were taken back\./);
  await form.waitFor({ state: 'hidden' });
  // The header's wallet and the order's money and points follow.
  await wallet('$2,650.00');
  assert.equal(await page.getByTestId('order-refunded').innerText(), '−$650.00');
  assert.equal(await page.getByTestId('points-taken-back').innerText(), 'Returns took back 65 of these points.');

  assert.equal(await page.getByTestId('line-returned').textContent(), '1 returned');
  const r1 = page.getByRole('article', { name: 'Return 1' });
  assert.equal(await r1.getAttribute('data-status'), 'completed');
  const r1Text = await r1.innerText();
  assert.match(r1Text, /1 × Cloud Strider/);
  assert.match(r1Text, /Refunded to the wallet\s+\$650\.00/);
  assert.match(r1Text, /Points earned, taken back\s+−65/);
  assert.match(r1Text, /Reason: one is enough/);
  assert.deepEqual(await returnSteps('r1'), allSteps);
  assert.match(await page.getByRole('list', { name: 'Steps of return r1' }).innerText(), /Take back points earned[\s\S]*Refund to wallet[\s\S]*Put back in stock/);

  // Cancel the rest, after saying so.
  await page.getByRole('button', { name: 'Cancel order' }).click();
  const confirm = page.getByRole('dialog', { name: 'Cancel the order?' });
  assert.match(await confirm.innerText(), /1 × Cloud Strider/);
  await confirm.getByRole('button', { name: 'Yes, cancel the order' }).click();
  await confirm.waitFor({ state: 'hidden' });
  await page.getByText('Everything in this order was returned.').waitFor();
  await outcome.and(page.locator(':not([data-tone="pending"])')).waitFor();
  assert.match(await outcome.innerText(), /We refunded \$650\.00 to your wallet\. 65 points the order earned were taken back\./);
  assert.equal(await page.getByRole('button', { name: 'Return items' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Cancel order' }).count(), 0);
  assert.equal(await page.getByTestId('line-returned').textContent(), 'all returned');
  assert.deepEqual(await returnSteps('r2'), allSteps);
  await wallet('$3,300.00');

  // The list of orders says so too.
  await page.getByRole('link', { name: 'My orders' }).click();
  assert.equal(await page.getByRole('table', { name: 'Orders' }).getByTestId('order-returned').first().textContent(), 'returned');
});

// asAdmin calls the API as the demo admin, beside the customer's browser.
const asAdmin = (...call) => callAs(store.url, 'admin', ...call);

test('a customer whose order was returned meanwhile is told why, at the quantity', async () => {
  const id = await buyAndOpen('Golden Mane', 1);
  // Support cancels the order while the customer's page still offers it.
  const cancelled = await asAdmin('POST', `/orders/${encodeURIComponent(id)}/returns`, {});
  assert.equal(cancelled.returns[0].status, 'completed');

  await page.getByRole('button', { name: 'Return items' }).click();
  const form = page.getByRole('dialog', { name: 'Return items' });
  await form.getByLabel('Golden Mane').fill('1');
  await form.getByRole('button', { name: 'Return 1 item' }).click();
  expectedErrors.push(/status of 400 \(Bad Request\)/); // the refused return, as the browser logs it
  const problem = form.getByTestId('return-problem');
  await problem.waitFor();
  assert.match(await problem.innerText(), /0 of 5 are left to return/);
  assert.doesNotMatch(await problem.innerText(), /Something went wrong/);
  assert.equal(await form.getByLabel('Golden Mane').getAttribute('aria-invalid'), 'true');
  await form.getByRole('button', { name: 'Close' }).click();
  await form.waitFor({ state: 'hidden' });
  await signOut(page);
});

test('an admin sees the order\'s returns step by step', async () => {
  await signIn(page, store.url, 'admin');
  await page.goto(`${store.url}/#/admin/orders/${encodeURIComponent(orderId)}`);
  await page.getByRole('heading', { name: 'Returns' }).waitFor();
  assert.equal(await page.getByTestId('return').count(), 2);
  const r1 = page.getByRole('article', { name: 'Return 1' });
  assert.match(await r1.innerText(), /Asked by derick/);
  assert.match(await r1.innerText(), /Reason: one is enough/);
  assert.match(await page.getByRole('article', { name: 'Return 2' }).innerText(), /1 × Cloud Strider/);
  assert.deepEqual(await returnSteps('r1'), allSteps);
  assert.deepEqual(await returnSteps('r2'), allSteps);
  await page.getByText('Everything in this order was returned.').first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Return items' }).count(), 0);
  await signOut(page);
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

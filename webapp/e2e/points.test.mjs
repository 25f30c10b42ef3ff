// End to end: the customer's points portal on the real store in headless
// Chromium. A new customer sees what points are and how to earn them; with
// points, what they are worth, when they expire (per date, not a running
// total) and which order each transaction belongs to; the charts' numbers
// are grouped, and every state passes axe at desktop and phone sizes.
// Points live 45 days in this store, so what an admin gives expires within
// the page's 90-day window.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callAs, desktop, expectAccessible, orderNumber, phone, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

let store, browser, page, errors;
const expectedErrors = [];

before(async () => {
  store = await startStore({ args: ['-point-ttl-days', '45'] });
  browser = await startBrowser();
  page = await browser.newPage({ viewport: desktop });
  page.setDefaultTimeout(15_000);
  errors = watch(page);
});

after(async () => {
  await browser?.close();
  await store?.stop();
});

// as calls the API as a demo user, beside the browser.
const as = (...call) => callAs(store.url, ...call);
const asAdmin = (...a) => as('admin', ...a);

// buy has derick buy a product through the API, paying with points, and
// waits for the order's end (the store page is not what these tests are
// about).
async function buy(name, points) {
  const products = await as('derick', 'GET', '/products');
  const product = (products.items ?? products).find((p) => p.name === name);
  assert.ok(product, `no ${name}`);
  let order = await as('derick', 'POST', '/purchase', { user_id: 'derick', items: [{ product_id: product.id, quantity: 1 }], redeem_points: points });
  while (order.status === 'pending') {
    await new Promise((r) => setTimeout(r, 100)); // polls to the end state
    order = await as('derick', 'GET', `/orders/${order.id}`);
  }
  assert.equal(order.status, 'completed', JSON.stringify(order));
  return order;
}

// As src/lib/format.ts writes them.
const longDate = (ymd) => new Date(`${ymd}T00:00:00Z`).toLocaleDateString('en-US', { dateStyle: 'medium', timeZone: 'UTC' });

// card is a chart's card, found by its heading (as the page was before
// the cards became named regions, so that the bugs' tests fail before
// their fix for the bug's reason).
const card = (heading) => page.getByText(heading, { exact: true }).locator('..');

async function openPoints() {
  await page.getByRole('link', { name: 'Points' }).click();
  await page.getByTestId('points-available').waitFor();
  await page.getByRole('table', { name: 'Transactions' }).or(page.getByText('No transactions yet.')).waitFor();
}

// atBothSizes checks the page with axe as it is, at desktop and phone size.
async function atBothSizes(what) {
  await expectAccessible(page, `${what}, desktop`);
  await page.setViewportSize(phone);
  try {
    await page.getByRole('heading', { level: 1, name: 'Points' }).waitFor();
    await expectAccessible(page, `${what}, phone`);
  } finally {
    await page.setViewportSize(desktop);
  }
}

// tooltipOf hovers a chart at a point of its drawing and returns what the
// tooltip says.
async function tooltipOf(chart, position) {
  const surface = chart.locator('svg.recharts-surface').first();
  if (position) await surface.hover({ position });
  else await chart.locator('.recharts-bar-rectangle path').first().hover();
  const tip = chart.locator('.recharts-tooltip-wrapper');
  await tip.filter({ hasText: /\d/ }).waitFor();
  return tip.innerText();
}

test('a new customer sees what points are, how to earn them and that nothing expires, in words', async () => {
  await signIn(page, store.url, 'derick');
  await openPoints();
  // Nothing expires: a sentence, not an empty 0–4 chart.
  const soon = card('Expiring soon');
  await soon.getByText('Nothing expires in the next 90 days.').waitFor({ timeout: 5_000 });
  assert.equal(await soon.locator('svg').count(), 0, 'an empty chart is drawn');
  assert.equal(await page.getByRole('region', { name: 'Expiring soon' }).getByTestId('expiring-none').innerText(), 'Nothing expires in the next 90 days.');

  assert.equal(await page.getByTestId('points-available').innerText(), '0');
  assert.equal(await page.getByTestId('points-worth').innerText(), 'No points to spend yet');
  const expiry = page.getByRole('region', { name: 'When your points expire' });
  assert.equal(await expiry.getByTestId('next-expiry').innerText(), 'You have no points to expire.');
  assert.equal(await expiry.getByRole('table').count(), 0);

  const earn = page.getByRole('region', { name: 'How to earn points' });
  const words = await earn.innerText();
  assert.match(words, /Purchases earn points/);
  assert.match(words, /pending until the purchase's return window ends/);
  assert.match(words, /Each point is worth \$0\.01 when you pay with it\./);
  assert.match(words, /Points expire 45 days after the day you earn them\./);
  assert.doesNotMatch(words, /tier/i, 'this store has no tiers');
  await atBothSizes('points of a new customer');
});

test('with points: what they are worth, when they expire per date, and grouped numbers in the charts', async () => {
  await asAdmin('POST', '/points', { account_id: 'derick', amount: 1234, reference: 'Welcome gift' });
  const [lot] = (await asAdmin('GET', '/points?account_id=derick&status=active')).balance_entries;
  const on = longDate(lot.expires_on);
  await page.reload();
  await page.getByTestId('points-available').filter({ hasText: /^1,234$/ }).waitFor();

  // One bar for the one date the points expire on, not one per 30/60/90
  // days that counted them three times; its tooltip groups the digits.
  const soon = card('Expiring soon');
  await soon.locator('.recharts-bar-rectangle path').first().waitFor();
  assert.equal(await soon.locator('.recharts-bar-rectangle path').count(), 1, 'one bar per date');
  assert.match(await tooltipOf(soon), /1,234/);
  assert.doesNotMatch(await soon.innerText(), /1234/);
  // The balance over time: its tooltip groups the digits too.
  const balance = card('Balance over time');
  const box = await balance.locator('svg.recharts-surface').first().boundingBox();
  assert.match(await tooltipOf(balance, { x: box.width - 5, y: box.height / 2 }), /1,234/);
  assert.doesNotMatch(await balance.innerText(), /1234/);

  // The charts are named images, with what they show in words.
  const chart = page.getByRole('img', { name: /^Points expiring in the next 90 days/ });
  assert.equal(await chart.getAttribute('aria-label'), `Points expiring in the next 90 days: 1,234 on ${on}`);
  assert.match(await page.getByRole('img', { name: /^Your balance over time/ }).getAttribute('aria-label'), /1,234 points today/);

  assert.equal(await page.getByTestId('points-worth').innerText(), '1,234 points to spend — worth $12.34');

  const expiry = page.getByRole('region', { name: 'When your points expire' });
  assert.equal(await expiry.getByTestId('next-expiry').innerText(), `Next: 1,234 points expire on ${on}.`);
  const rows = await expiry.getByRole('table', { name: 'Points by expiry date' }).locator('tbody tr').allInnerTexts();
  assert.deepEqual(rows, [`${on}\t1,234`]);

  // What the admin gave is not an order: its note shows as written.
  const tx = page.getByRole('table', { name: 'Transactions' }).locator('tbody tr').first();
  assert.match(await tx.innerText(), /Points added\tWelcome gift\t\+1,234$/);
  await atBothSizes('points with some to expire');
});

test('each transaction of a purchase links to its order, the points that paid and the points earned', async () => {
  const order = await buy('Cloud Strider', 1000);
  const { items } = await asAdmin('GET', '/points/transactions?account_id=derick');
  const award = items.find((t) => t.transaction_type === 'issue' && t.details?.order_id);
  assert.equal(award?.details.order_id, order.id, JSON.stringify(items));
  const orderId = order.id;

  await page.reload();
  await page.getByTestId('points-available').filter({ hasText: /^234$/ }).waitFor();
  const table = page.getByRole('table', { name: 'Transactions' });
  const row = (type) => table.locator(`tbody tr[data-type="${type}"]`);
  await row('issue').first().waitFor();
  for (const type of ['issue', 'redeem']) {
    const link = row(type).first().getByRole('link', { name: `Order ${orderNumber(orderId)}` });
    assert.equal(await link.getAttribute('href'), `#/orders/${orderId}`, type);
  }
  assert.match(await row('redeem').innerText(), /Paid for an order\tOrder #[0-9A-F]{4}-[0-9A-F]{4}\t−1,000$/);
  assert.match(await row('issue').first().innerText(), /Earned on a purchase, pending until \w{3} \d{1,2}\tOrder #[0-9A-F]{4}-[0-9A-F]{4}\t\+\d+ pending$/);
  await atBothSizes('points with orders');

  await row('redeem').getByRole('link').click();
  await page.waitForURL(new RegExp(`#/orders/${orderId}$`));
  await page.getByRole('heading', { level: 1, name: /^Order / }).waitFor();
  await signOut(page);
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

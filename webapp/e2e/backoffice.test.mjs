// End to end: the admin's back office on the real store in headless
// Chromium: the catalog (a product edit that meets someone else's, stock),
// wallet deposits, and the views' accessibility at both sizes.
// Run with `npm run e2e` (make test runs it) after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bearer, callAs, desktop, expectAccessible, orderNumber, phone, signIn, startBrowser, startStore, watch } from './harness.mjs';

let store, browser, page, errors;
// Errors the browser reports for answers a test asks for on purpose.
const expectedErrors = [];

before(async () => {
  store = await startStore();
  browser = await startBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  errors = watch(page);
  await signIn(page, store.url, 'admin');
});

after(async () => {
  await browser?.close();
  await store?.stop();
});

// asAdmin calls the API as the demo admin, beside the browser; as calls
// it as anyone.
const asAdmin = (method, path, body, headers = {}) => as('admin', method, path, body, headers);

const as = (...call) => callAs(store.url, ...call);

// openBackOffice starts at the back office afresh (a test's dialog or
// message does not carry over to the next).
async function openBackOffice(view = '') {
  await page.goto(`${store.url}/#/admin${view ? `/${view}` : ''}`);
  await page.reload();
  await page.getByRole('heading', { name: 'Back office', level: 1 }).waitFor();
}

const catalogRow = (name) => page.getByRole('table', { name: 'Catalog' }).getByRole('row').filter({ hasText: name });

test('a product edit that meets someone else\'s change says so, and reloads theirs with the edit applied again', async () => {
  await openBackOffice();
  const row = catalogRow('Golden Mane');
  await row.getByRole('button', { name: 'Edit Golden Mane' }).click();
  const form = page.getByRole('dialog', { name: 'Edit Golden Mane' });
  await form.getByLabel('Price').fill('1400');

  // Meanwhile someone else changes the description.
  const before = await asAdmin('GET', '/products/5');
  await asAdmin('PUT', '/products/5', { name: before.name, description: 'Calm, golden, and brushed daily', image: before.image, price: before.price },
    { 'If-Match': `"${before.version}"` });

  await form.getByRole('button', { name: 'Save' }).click();
  expectedErrors.push(/status of 412 \(Precondition Failed\).*\/products\/5/);
  const conflict = form.getByRole('alert').filter({ hasText: 'Someone else changed this product while you edited it' });
  await conflict.waitFor();
  await conflict.getByRole('button', { name: /^Load their version/ }).click();
  // Theirs, with this admin's price on top.
  await form.getByText(/Your change to the price is applied on top/).waitFor();
  assert.equal(await form.getByLabel('Description').inputValue(), 'Calm, golden, and brushed daily');
  assert.equal(await form.getByLabel('Price').inputValue(), '$1,400');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Golden Mane saved.').waitFor();
  await row.getByText('$1,400.00').waitFor();
  const after = await asAdmin('GET', '/products/5');
  assert.equal(after.description, 'Calm, golden, and brushed daily');
  assert.equal(after.price, 1400);
});

test('closing a product edit with unsaved changes asks first', async () => {
  await openBackOffice();
  await catalogRow('Cloud Strider').getByRole('button', { name: 'Edit Cloud Strider' }).click();
  const form = page.getByRole('dialog', { name: 'Edit Cloud Strider' });
  await form.getByLabel('Description').fill('A typo the admin means to keep');
  // answer answers the next question the page asks, and resolves to it.
  const answer = (yes) => new Promise((resolve) => page.once('dialog', (d) => {
    void (yes ? d.accept() : d.dismiss());
    resolve(d.message());
  }));
  let asked = answer(false);
  await page.keyboard.press('Escape');
  assert.equal(await asked, 'Discard your changes to Cloud Strider?');
  assert.equal(await form.getByLabel('Description').inputValue(), 'A typo the admin means to keep', 'staying keeps the edit');
  asked = answer(true);
  await form.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await asked, 'Discard your changes to Cloud Strider?');
  await form.waitFor({ state: 'detached' });
  assert.notEqual((await asAdmin('GET', '/products/6')).description, 'A typo the admin means to keep', 'nothing was saved');
});

test('restock: Enter applies it, and a refusal replaces the previous success', async () => {
  await openBackOffice();
  const row = catalogRow('Cloud Strider');
  const field = row.getByLabel('Stock change for Cloud Strider');
  await field.fill('5');
  await field.press('Enter');
  const done = page.getByRole('status').filter({ hasText: 'Cloud Strider: 25 in stock.' });
  await done.waitFor();

  await field.fill('-1000');
  await row.getByRole('button', { name: 'Apply' }).click();
  expectedErrors.push(/status of 400 \(Bad Request\).*\/products\/6\/stock/);
  // The refusal is under the field; the earlier success is gone.
  await row.getByText('Only 25 in stock').waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.equal(await done.count(), 0, 'the earlier success is gone');
});

test('a deposit of 0 or less is refused at the field, and nothing is sent', async () => {
  const sent = [];
  const onRequest = (r) => r.url().includes('/wallet/deposits') && sent.push(r.url());
  page.on('request', onRequest);
  try {
    await openBackOffice('customers/derick');
    const amount = page.getByLabel('Amount to deposit');
    for (const typed of ['0', '-5']) {
      await amount.fill(typed);
      await page.getByRole('button', { name: 'Deposit' }).click();
      await page.getByText('Enter an amount above $0.00.').waitFor();
      assert.equal(await amount.getAttribute('aria-invalid'), 'true');
      assert.equal(await amount.inputValue(), typed.replace(/^(-?)/, '$1$'), 'what was typed stays');
    }
    assert.deepEqual(sent, []);
  } finally {
    page.off('request', onRequest);
  }
});

test('the back office\'s views are tabs at their own addresses, reached by keyboard too', async () => {
  await openBackOffice();
  for (const [tab, hash, ready] of [
    ['Orders', '#/admin/orders', page.getByLabel('Status')],
    ['Customers', '#/admin/customers', page.getByRole('search', { name: 'Find a customer' })],
    ['Users', '#/admin/users', page.getByRole('table', { name: 'Users' })],
    ['Tiers', '#/admin/tiers', page.getByRole('button', { name: 'Save tiers' })],
    ['Webhooks', '#/admin/webhooks', page.getByRole('heading', { name: 'Endpoints' })],
    ['Catalog', '#/admin/catalog', page.getByRole('table', { name: 'Catalog' })],
  ]) {
    await page.getByRole('tab', { name: tab }).click();
    await ready.waitFor();
    assert.equal(new URL(page.url()).hash, hash);
    assert.match(await page.title(), new RegExp(`^${tab} · Back office`));
  }
  // The arrow keys move between the tabs; the chosen one keeps the focus.
  await page.getByRole('tab', { name: 'Catalog' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.getByLabel('Status').waitFor();
  await page.waitForFunction(() => document.activeElement?.textContent === 'Orders');
  // A reload stays where it was.
  await page.reload();
  await page.getByRole('tab', { name: 'Orders', selected: true }).waitFor();
});

let orderId;

test('an admin finds a customer: wallet, points, transactions and orders, with a deposit', async () => {
  await asAdmin('POST', '/points', { account_id: 'derick', amount: 250, reference: 'welcome' });
  const order = await as('derick', 'POST', '/purchase', { user_id: 'derick', items: [{ product_id: '6', quantity: 1 }] }, { 'Idempotency-Key': crypto.randomUUID() });
  orderId = order.id;
  // The purchase may still run (202): its points come when it completes.
  for (let o = order; o.status === 'pending'; o = await as('derick', 'GET', `/orders/${encodeURIComponent(orderId)}`)) {
    await new Promise((r) => setTimeout(r, 100));
  }

  await openBackOffice('customers');
  await page.getByLabel('Username').fill('der');
  await page.getByTestId('customer-matches').getByRole('link', { name: 'derick' }).click();
  const customer = page.getByTestId('customer');
  await customer.getByRole('heading', { name: 'derick' }).waitFor();
  assert.equal(new URL(page.url()).hash, '#/admin/customers/derick');
  await page.getByTestId('customer-points').filter({ hasText: /^250 points to spend · 65 pending/ }).waitFor();
  const txs = page.getByRole('table', { name: 'Points transactions' });
  await txs.getByTestId('customer-transaction').filter({ hasText: '+250' }).filter({ hasNotText: 'pending' }).waitFor();
  await txs.getByTestId('customer-transaction').filter({ hasText: '+65 pending' }).waitFor();

  const wallet = Number((await page.getByTestId('customer-wallet').innerText()).replace(/[$,]/g, ''));
  await page.getByLabel('Amount to deposit').fill('100');
  await page.getByLabel('Amount to deposit').press('Enter');
  const after = (wallet + 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  await page.getByRole('status').filter({ hasText: `Deposited $100.00: derick now has $${after}.` }).waitFor();
  await page.getByTestId('customer-wallet').filter({ hasText: `$${after}` }).waitFor();

  // The order, by its number, opens the admin's view of it.
  const orders = page.getByRole('table', { name: 'Orders of the customer' });
  await orders.getByRole('link', { name: orderNumber(orderId) }).click();
  await page.waitForURL(`**/#/admin/orders/${encodeURIComponent(orderId)}`);
  await page.getByRole('link', { name: /Back/ }).first().waitFor();
});

test('an admin reverses a customer\'s points after confirming, and sees the result', async () => {
  // A customer of their own: derick's points of today share a lot with
  // his purchase's pending ones, which a reversal takes back first.
  await asAdmin('POST', '/users', { username: 'bea', role: 'customer', password: 'a-long-password-2' });
  await asAdmin('POST', '/points', { account_id: 'bea', amount: 250, reference: 'welcome' });
  await openBackOffice('customers/bea');
  const welcome = page.getByRole('table', { name: 'Points transactions' }).getByTestId('customer-transaction').filter({ hasText: /\+250/ });
  await welcome.getByRole('button', { name: /^Reverse/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Reverse this transaction?' });
  assert.match(await dialog.innerText(), /bea loses the 250 points this gave/);
  await dialog.getByRole('button', { name: 'Reverse transaction' }).click();
  await page.getByTestId('reversal-note').filter({ hasText: 'Reversed: 250 points taken back.' }).waitFor();
  await page.getByTestId('customer-points').filter({ hasText: /^0 points to spend$/ }).waitFor();
  // Reversed once: no button for it any more, and the reversal is listed.
  await welcome.getByRole('button', { name: /^Reverse/ }).waitFor({ state: 'detached' });
  await page.getByTestId('customer-transaction').and(page.locator('[data-type="issue_reversal"]')).waitFor();
});

test('an admin lists every order, filtered by status and customer', async () => {
  await openBackOffice('orders');
  const orders = page.getByRole('table', { name: 'Orders' });
  const row = orders.getByTestId('admin-order');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), /derick/);
  assert.match(await row.innerText(), /1 × Cloud Strider/);

  await page.getByLabel('Status').selectOption({ label: 'Needs attention' });
  await page.getByText('Nothing needs attention.').waitFor();
  await page.getByLabel('Status').selectOption({ label: 'Any status' });
  await page.getByLabel('Customer', { exact: true }).selectOption('derick');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  assert.equal(await page.getByLabel('Customer', { exact: true }).inputValue(), '');

  // Another customer's 21 orders, newer: every order spans two pages of
  // 20, newest first across customers, derick's last.
  await asAdmin('POST', '/users/bea/wallet/deposits', { amount: 30000 });
  await asAdmin('POST', '/products/2/stock', { delta: 25 });
  const admin = await bearer(store.url, 'admin'); // one sign-in for the 21
  for (let i = 0; i < 21; i++) {
    const r = await fetch(`${store.url}/purchase`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: admin },
      body: JSON.stringify({ user_id: 'bea', items: [{ product_id: '2', quantity: 1 }] }) });
    assert.ok(r.status === 201 || r.status === 202, `${r.status} ${await r.text()}`); // stored, finished or not
  }
  await openBackOffice('orders');
  await row.nth(19).waitFor();
  assert.equal(await row.count(), 20);
  assert.match(await row.first().innerText(), /bea/);
  await page.getByRole('button', { name: 'Older orders' }).click();
  await row.nth(21).waitFor();
  assert.equal(await row.count(), 22);
  assert.match(await row.last().innerText(), /derick/);
  await page.getByRole('button', { name: 'Older orders' }).waitFor({ state: 'detached' });
});

test('an admin adds a user, with the store\'s refusals beside their fields', async () => {
  await openBackOffice('users');
  const users = page.getByRole('table', { name: 'Users' });
  await users.getByTestId('user').filter({ hasText: 'marketer' }).waitFor();
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Username').fill('ann');
  await form.getByLabel(/^Password/).fill('short');
  await form.getByRole('button', { name: 'Add user' }).click();
  expectedErrors.push(/status of 400 \(Bad Request\).*\/users/, /status of 409 \(Conflict\).*\/users/);
  await form.getByText('A password has at least 12 characters').waitFor();
  assert.equal(await form.getByLabel(/^Password/).getAttribute('data-invalid'), 'true'); // Mantine marks a password field so
  assert.notEqual(await form.getByLabel('Username').getAttribute('aria-invalid'), 'true');

  await form.getByLabel(/^Password/).fill('a-long-password-1');
  await form.getByRole('button', { name: 'Add user' }).click();
  await page.getByTestId('users-note').filter({ hasText: 'ann added as a customer: they can sign in now.' }).waitFor();
  await users.getByTestId('user').filter({ hasText: 'ann' }).waitFor();

  await form.getByLabel('Username').fill('ann');
  await form.getByLabel(/^Password/).fill('a-long-password-1');
  await form.getByRole('button', { name: 'Add user' }).click();
  await form.getByText(/taken/).waitFor();
  assert.equal(await form.getByLabel('Username').getAttribute('aria-invalid'), 'true');
});

test('every back-office view has no accessibility problems, and fits a phone', async () => {
  // fits says whether the page is no wider than the screen; when it is,
  // the assertion names what sticks out (outside the tables that scroll).
  const fits = async () => {
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth
      ? [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.parentElement?.closest('[role=region]'))
        .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className}`)
      : []);
    return wide.length === 0 || assert.fail(`wider than the screen: ${wide.join(', ')}`);
  };
  try {
    for (const [size, viewport] of [['desktop', desktop], ['phone', phone]]) {
      await page.setViewportSize(viewport);
      await openBackOffice('catalog');
      await page.getByRole('table', { name: 'Catalog' }).waitFor();
      await expectAccessible(page, `catalog, ${size}`);
      assert.ok(await fits(), `the catalog is wider than the ${size}`);
      await page.getByRole('button', { name: 'Edit Golden Mane' }).click();
      await page.getByRole('dialog', { name: 'Edit Golden Mane' }).getByLabel('Price').waitFor();
      await expectAccessible(page, `product edit dialog, ${size}`);
      await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });

      await openBackOffice('orders');
      await page.getByRole('table', { name: 'Orders' }).waitFor();
      await expectAccessible(page, `orders, ${size}`);
      assert.ok(await fits(), `the orders are wider than the ${size}`);
      await page.getByLabel('Customer', { exact: true }).selectOption('derick');
      await page.getByRole('button', { name: 'Clear filters' }).waitFor();
      await page.getByRole('table', { name: 'Orders' }).waitFor();
      await expectAccessible(page, `order filters, ${size}`);

      await openBackOffice('customers/derick');
      await page.getByRole('table', { name: 'Orders of the customer' }).waitFor();
      await page.getByTestId('customer-transaction').first().waitFor();
      await expectAccessible(page, `customer lookup with a customer, ${size}`);
      assert.ok(await fits(), `the customer is wider than the ${size}`);

      await openBackOffice('users');
      await page.getByRole('table', { name: 'Users' }).waitFor();
      await expectAccessible(page, `users, ${size}`);
      assert.ok(await fits(), `the users are wider than the ${size}`);

      await openBackOffice('tiers');
      await page.getByRole('button', { name: 'Save tiers' }).waitFor();
      await expectAccessible(page, `tiers, ${size}`);
      assert.ok(await fits(), `the tiers are wider than the ${size}`);

      await openBackOffice('webhooks');
      await page.getByText('Nothing was sent yet.').waitFor();
      await expectAccessible(page, `webhooks, ${size}`);
      assert.ok(await fits(), `the webhooks are wider than the ${size}`);
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

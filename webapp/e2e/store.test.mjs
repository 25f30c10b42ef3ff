// End to end: the real store and web app in headless Chromium, as a
// customer, a marketer and an admin use them. Run with `npm run e2e`
// (make test runs it) after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callAs, password, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

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

const points = async () => Number((await page.getByTestId('points-balance').innerText()).replace(/[^\d]/g, ''));
const wallet = async () => (await page.getByTestId('wallet-balance').innerText()).replace(/[$,]/g, '');
// The header's spendable points, and the pending ones beside them.
const spendable = (text) => page.getByTestId('points-balance').filter({ hasText: new RegExp(`^${text}$`) }).waitFor();
const pendingBadge = (text) => page.getByTestId('points-pending-badge').filter({ hasText: new RegExp(`^${text}$`) }).waitFor();
// A purchase's points are pending through its return window, which the
// outcome names.
const spendableOnceWindowCloses = ', spendable once the return window closes on \\w{3} \\d{1,2}, \\d{4}\\.';

async function addToCart(name, quantity = 1) {
  await page.getByRole('button', { name: `Add ${name} to cart` }).click();
  if (quantity !== 1) {
    const q = page.getByLabel(`Quantity of ${name}`);
    await q.fill(String(quantity));
    await q.blur();
  }
}

// review opens the review of what will be charged.
async function review() {
  await page.getByRole('button', { name: 'Buy now' }).click();
  return page.getByRole('dialog', { name: 'Review your order' });
}

// buy checks out, confirms the review (opened already, or now) and waits
// for the saga's end; it returns the outcome box.
async function buy(dialog) {
  await (dialog ?? (await review())).getByRole('button', { name: /^Confirm and pay/ }).click();
  const outcome = page.getByTestId('purchase-outcome');
  await outcome.and(page.locator(':not([data-tone="pending"])')).waitFor();
  return outcome;
}

async function closeOutcome() {
  await page.getByRole('dialog').getByRole('button', { name: /Keep shopping|Back to the cart/ }).click();
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
}

async function sagaStates() {
  return page.getByTestId('saga').locator('[data-step]').evaluateAll((els) => els.map((e) => `${e.dataset.step}:${e.dataset.state}`));
}

test('a customer signs in, buys a unicorn and sees it succeed and the points it earned', async () => {
  await signIn(page, store.url, 'derick');
  await page.getByRole('heading', { name: 'Unicorns' }).waitFor();
  await page.getByTestId('product').first().waitFor();
  assert.equal(await page.getByTestId('product').count(), 6);
  await page.getByTestId('points-balance').filter({ hasText: 'pts' }).waitFor();
  assert.equal(await points(), 0);
  assert.equal(await wallet(), '3300.00');

  await addToCart('Cloud Strider');
  assert.equal(await page.getByTestId('cart-total').innerText(), '$650.00');
  const outcome = await buy();
  assert.equal(await outcome.getAttribute('data-tone'), 'success');
  assert.match(await outcome.innerText(), new RegExp(`We charged \\$650\\.00 to your wallet\\. You earned 65 points${spendableOnceWindowCloses}`));
  assert.deepEqual(await sagaStates(), [
    'ReserveStock:done', 'ChargeWallet:done', 'AwardPoints:done', 'CompleteOrder:done', 'PublishPurchaseCompleted:done',
  ]);
  await closeOutcome();
  // The points earned are pending through the return window: none to spend yet.
  await pendingBadge('\\+65 pending');
  await spendable('0 pts');
  assert.equal(await wallet(), '2650.00');
  assert.equal(await page.getByTestId('cart-line').count(), 0, 'the cart empties after a purchase');

  // The order explains its points.
  await page.getByRole('link', { name: 'My orders' }).click();
  await page.getByRole('table', { name: 'Orders' }).getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Why 65 points?' }).waitFor();
  // In the customer's words: what earned the points, never a formula.
  const why = await page.getByRole('table', { name: 'Points breakdown' }).innerText();
  assert.match(why, /A point for every 10\.00 you spend\s+65/);
  assert.doesNotMatch(why, /\$\.amount/);
});

test('a customer whose unicorn sells out during the review sees the failure explained, with nothing given back that was never taken', async () => {
  await page.getByRole('link', { name: 'Store' }).click();
  await addToCart('Rainbow Dash X', 3); // 2 in stock: the cart says so and offers no purchase
  await page.getByText('Only 2 Rainbow Dash X left: lower the quantity.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Buy now' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Remove Rainbow Dash X' }).click();
  await addToCart('Unicorn Air (2023 Model)');
  const dialog = await review();
  await asAdmin('POST', '/products/1/stock', { delta: -4 }); // sold elsewhere while the customer reads the review
  const outcome = await buy(dialog);
  assert.equal(await outcome.getAttribute('data-tone'), 'failure');
  assert.match(await outcome.innerText(), /Not enough of a unicorn in stock: nothing was charged\./);
  assert.deepEqual(await sagaStates(), ['ReserveStock:failed', 'ReleaseStock:skipped', 'FailOrder:done']);
  assert.match(await page.getByRole('dialog').getByTestId('saga').innerText(), /Put the unicorns back on the shelf\s+nothing to give back/i);
  await closeOutcome();
  assert.equal(await wallet(), '2650.00');
  assert.equal(await page.getByTestId('cart-line').count(), 1, 'a failed purchase keeps the cart');
  await page.getByRole('button', { name: 'Remove Unicorn Air (2023 Model)' }).click();
  await asAdmin('POST', '/products/1/stock', { delta: 4 });
});

test('a customer whose wallet is short sees the points given back', async () => {
  // Points to spend: pending ones cannot pay (the store issues these at once).
  await asAdmin('POST', '/points', { account_id: 'derick', amount: 100, reference: 'e2e-goodwill' });
  await page.reload();
  await spendable('100 pts');
  await pendingBadge('\\+65 pending');
  await addToCart('Golden Mane', 2); // 2,599.00 of the 2,650.00 in the wallet
  await page.getByRole('switch', { name: 'Use my points (100 available)' }).check();
  await page.getByRole('button', { name: 'Max' }).click();
  assert.equal(await page.getByTestId('points-savings').innerText(), '−$1.00');
  const dialog = await review();
  assert.match(await dialog.getByTestId('review-summary').innerText(), /You pay \$2,598\.00 from your wallet and 100 points worth \$1\.00\. Your wallet keeps \$52\.00\./);
  // The customer spends the wallet elsewhere (another tab) while reading the review.
  const elsewhere = await asCustomer('POST', '/purchase', { user_id: 'derick', items: [{ product_id: '6', quantity: 1 }] });
  const outcome = await buy(dialog);
  assert.equal(await outcome.getAttribute('data-tone'), 'failure');
  assert.match(await outcome.innerText(), /Not enough money in your wallet: nothing was charged and your points are back\./);
  const states = await sagaStates();
  assert.deepEqual(states.slice(0, 3), ['ReserveStock:done', 'RedeemPoints:done', 'ChargeWallet:failed']);
  assert.ok(states.includes('RestorePoints:undone') && states.includes('ReleaseStock:undone'), states.join());
  assert.match(await page.getByRole('dialog').getByTestId('saga').innerText(), /The order costs \$2,598\.00; the wallet holds \$2,000\.00\./);
  await closeOutcome();
  // The other tab's purchase goes back, and the wallet with it.
  await asCustomer('POST', `/orders/${encodeURIComponent(elsewhere.id)}/returns`, {});
  await page.reload();
  await spendable('100 pts');
  await pendingBadge('\\+65 pending');
  assert.equal(await wallet(), '2650.00');
  await page.getByRole('button', { name: 'Remove Golden Mane' }).click();
});

// asAdmin calls the API as the demo admin, beside the customer's browser.
const asAdmin = (method, path, body) => asUser('admin', method, path, body);
const asCustomer = (method, path, body) => asUser('derick', method, path, body);

const asUser = (...call) => callAs(store.url, ...call);

const goldenMane = { name: 'Golden Mane', description: 'A calm unicorn with a golden mane, good with children', image: '/images/golden-mane.svg' };

test('a customer whose cart price changed meanwhile sees today\'s price before paying it', async () => {
  await addToCart('Golden Mane');
  assert.equal(await page.getByTestId('cart-total').innerText(), '$1,299.50');
  await asAdmin('PUT', '/products/5', { ...goldenMane, price: 1350 });
  // The review looks at today's prices first: the customer sees the change before any review.
  await page.getByRole('button', { name: 'Buy now' }).click();
  const note = page.getByTestId('prices-changed');
  await note.waitFor();
  assert.match(await note.innerText(), /the order now costs \$1,350\.00\. Nothing was charged/);
  assert.equal(await page.getByTestId('cart-total').innerText(), '$1,350.00');
  assert.equal(await page.getByRole('dialog').count(), 0);
  assert.equal(await wallet(), '2650.00');
  // Between the review and the purchase, the store itself refuses the old price.
  const dialog = await review();
  await asAdmin('PUT', '/products/5', { ...goldenMane, price: 1400 });
  await dialog.getByRole('button', { name: /^Confirm and pay/ }).click();
  await note.filter({ hasText: 'the order now costs $1,400.00.' }).waitFor();
  assert.equal(await page.getByTestId('cart-total').innerText(), '$1,400.00');
  expectedErrors.push(/status of 409 \(Conflict\).*\/purchase/); // the refused purchase, as the browser logs it
  await asAdmin('PUT', '/products/5', { ...goldenMane, price: 1299.5 });
  await page.getByRole('button', { name: 'Remove Golden Mane' }).click();
});

test('a customer pays part of an order with points', async () => {
  await addToCart('Cloud Strider');
  await page.getByRole('switch', { name: /Use my points/ }).check();
  const input = page.getByLabel('Points to use');
  await input.fill('40');
  await input.blur();
  assert.equal(await page.getByTestId('points-savings').innerText(), '−$0.40');
  assert.equal(await page.getByTestId('to-pay').innerText(), '$649.60');
  const outcome = await buy();
  assert.equal(await outcome.getAttribute('data-tone'), 'success');
  // 649.60 / 10 = 64.96, rounded down
  assert.match(await outcome.innerText(), new RegExp(`We charged \\$649\\.60 to your wallet\\. 40 points paid \\$0\\.40 of it\\. You earned 64 points${spendableOnceWindowCloses}`));
  assert.deepEqual((await sagaStates()).slice(0, 3), ['ReserveStock:done', 'RedeemPoints:done', 'ChargeWallet:done']);
  await closeOutcome();
  await spendable(`${100 - 40} pts`);
  await pendingBadge(`\\+${65 + 64} pending`);
  assert.equal(await wallet(), '2000.40');

  await page.getByRole('link', { name: 'Points' }).click();
  await page.getByTestId('points-available').filter({ hasText: /^60$/ }).waitFor();
  assert.match(await page.getByTestId('points-pending').innerText(), /^129 pending until \w{3} \d{1,2}( to \w{3} \d{1,2})?:/); // a range if the purchases straddled midnight UTC
  const txs = await page.getByRole('table', { name: 'Transactions' }).innerText();
  // A row: when, what, the reference (on lines of its own), the points.
  // (The words of the "What" column are the points page's own.)
  assert.match(txs, /\t[^\t\n]+\t[^\t\n]*\t−40(?:\n|$)/);
  assert.match(txs, /pending until \w{3} \d{1,2}\t[^\t\n]*\t\+64 pending(?:\n|$)/);
  assert.match(txs, /\t[^\t\n]+\t\s*e2e-goodwill\s*\t\+100(?:\n|$)/);
  await signOut(page);
});

const campaignText = (formula) =>
  JSON.stringify(
    {
      client: 'UnicornStore',
      campaign_name: 'e2e-per-unicorn',
      status: 'paused',
      priority: 5,
      // Bounded (at most 100 points, from an amount of 100), so that it fits the
      // ceiling of 1 point per 1.00 of the amount and can be made active.
      rules: [
        {
          condition: { all: [{ variable: '$.quantity', rule: 'numeric_greater_than_equals', value: 1 }, { variable: '$.amount', rule: 'numeric_greater_than_equals', value: 100 }] },
          action: { command: 'issue', formula: `min(${formula}, 100)` },
        },
      ],
    },
    null,
    2,
  );

async function typeInto(editor, text) {
  await editor.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

test('a marketer finds a bad formula marked where it is wrong, fixes it, simulates and activates the campaign', async () => {
  await signIn(page, store.url, 'marketer');
  await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
  await page.getByRole('table', { name: 'Campaigns' }).getByRole('link', { name: '1' }).waitFor();
  await page.getByRole('link', { name: 'New campaign' }).click();

  const editor = page.getByTestId('editor-campaign');
  await typeInto(editor, campaignText('$.quantity * bonus'));
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await page.getByTestId('campaign-notice').filter({ hasText: 'Not saved: the campaign has a problem, marked in the editor.' }).waitFor();
  const problem = page.getByTestId('problem');
  await problem.waitFor();
  assert.equal(await problem.getAttribute('data-field'), 'rules[0].action.formula');
  // The mark in the editor covers the unknown name, inside the formula.
  await editor.locator('.cm-lintRange-error').filter({ hasText: 'bonus' }).waitFor();

  await typeInto(editor, campaignText('$.quantity * 100'));
  await page.getByText('✓ No problems found').waitFor();
  await page.getByRole('button', { name: 'Simulate' }).click();
  const sim = page.getByTestId('simulation');
  await sim.waitFor();
  assert.match(await sim.innerText(), /e2e-per-unicorn/);
  assert.match(await sim.innerText(), /\$\.quantity \* 100/);

  await page.getByRole('button', { name: 'Create campaign' }).click();
  await page.getByRole('heading', { name: 'e2e-per-unicorn' }).waitFor();
  await page.getByTestId('campaign-status').filter({ hasText: /paused/i }).waitFor();
  // The editor holds the saved campaign, with the defaults the store filled in.
  const content = editor.locator('.cm-content');
  await content.filter({ hasText: '"rounding": "floor"' }).waitFor();
  assert.match(await content.innerText(), /"formula": "min\(\$\.quantity \* 100, 100\)"/);
  // An unsaved edit survives activation; the status in the editor follows.
  await editor.getByText('"priority"').click();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.insertText('0'); // priority 5 -> 50, not saved
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByTestId('campaign-status').filter({ hasText: /active/i }).waitFor();
  await content.filter({ hasText: '"status": "active"' }).waitFor();
  assert.match(await content.innerText(), /"priority": 50/);
  await page.getByRole('tab', { name: 'Versions' }).click();
  const versions = page.getByRole('table', { name: 'Versions' });
  await versions.getByText('v2').waitFor();
  assert.equal(await versions.locator('tbody tr').count(), 2);
  await signOut(page);
});

test('a purchase after the campaign is active earns by it', async () => {
  await signIn(page, store.url, 'derick');
  await addToCart('Cloud Strider');
  const outcome = await buy();
  // 650 / 10 from campaign 1, and 1 unicorn × 100 from the new one
  assert.match(await outcome.innerText(), new RegExp(`You earned 165 points${spendableOnceWindowCloses}`));
  await page.getByRole('dialog').getByRole('link', { name: 'See the order' }).click();
  const why = page.getByRole('table', { name: 'Points breakdown' });
  await why.waitFor();
  // One line per campaign that gave points, in the customer's words.
  assert.match(await why.innerText(), /\t65\n[^\n]*\t100\nTotal\t165/);
  assert.doesNotMatch(await why.innerText(), /e2e-per-unicorn|\$\.quantity/);
  await signOut(page);
});

test('an admin adds a product that then appears in the store search', async () => {
  await signIn(page, store.url, 'admin');
  await page.getByRole('heading', { name: 'Back office' }).waitFor();
  await page.getByRole('button', { name: 'Add product' }).click();
  const form = page.getByRole('dialog');
  await form.getByLabel('Name').fill('Sparkle Comet');
  await form.getByLabel('Price').fill('420');
  await form.getByLabel('Stock').fill('5');
  await form.getByLabel('Description').fill('Leaves a trail of glitter');
  await form.getByRole('button', { name: 'Add product' }).click();
  await page.getByText('Sparkle Comet saved.').waitFor();

  await page.getByRole('link', { name: 'Store' }).click();
  await page.getByLabel('Search unicorns').fill('glitter');
  // The search answers with the new unicorn alone (its description matched).
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=product]').length === 1);
  assert.match(await page.getByTestId('product').innerText(), /Sparkle Comet/);
  await signOut(page);
});

test('an admin changes stock and price, deletes a product, deposits money and sees no order needing attention', async () => {
  await signIn(page, store.url, 'admin');
  const row = page.getByRole('table', { name: 'Catalog' }).getByRole('row').filter({ hasText: 'Sparkle Comet' });
  await row.getByLabel('Stock change for Sparkle Comet').fill('3');
  await row.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('Sparkle Comet: 8 in stock.').waitFor();

  await row.getByRole('button', { name: 'Edit Sparkle Comet' }).click();
  const form = page.getByRole('dialog');
  await form.getByLabel('Price').fill('450.5');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Sparkle Comet saved.').waitFor();
  await row.getByText('$450.50').waitFor();
  assert.match(await row.innerText(), /\b8\b/, 'editing keeps the stock');

  await row.getByRole('button', { name: 'Delete Sparkle Comet' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByText('Sparkle Comet deleted.').waitFor();
  await row.waitFor({ state: 'detached' });

  await page.getByRole('tab', { name: 'Customers' }).click();
  await page.getByLabel('Username').fill('derick');
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.getByLabel('Amount to deposit').fill('100');
  await page.getByRole('button', { name: 'Deposit' }).click();
  await page.getByRole('status').filter({ hasText: /derick now has \$/ }).waitFor();

  await page.getByRole('tab', { name: 'Orders' }).click();
  await page.getByLabel('Status').selectOption({ label: 'Needs attention' });
  await page.getByText('Nothing needs attention.').waitFor();
  await signOut(page);
});

test('a customer can sign in and fill the cart with the keyboard alone', async () => {
  await page.goto(`${store.url}/`);
  await page.evaluate(() => { localStorage.removeItem('unicorn.session'); sessionStorage.clear(); });
  await page.reload();
  await page.getByLabel('Username').waitFor();
  await page.keyboard.type('derick'); // the username field has the focus
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  const add = page.getByRole('button', { name: 'Add Golden Mane to cart' });
  await add.focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('cart-line').filter({ hasText: 'Golden Mane' }).waitFor();
  assert.equal(await page.getByTestId('cart-total').innerText(), '$1,299.50');
  // The cart stays while the customer looks elsewhere, and after a reload.
  await page.getByRole('link', { name: 'Points' }).click();
  await page.getByTestId('points-available').waitFor();
  await page.reload();
  await page.getByRole('link', { name: 'Store' }).click();
  await page.getByTestId('cart-line').filter({ hasText: 'Golden Mane' }).waitFor();
  // Emptying the quantity to type another keeps the line.
  const q = page.getByLabel('Quantity of Golden Mane');
  await q.fill('');
  await q.pressSequentially('2');
  assert.equal(await page.getByTestId('cart-total').innerText(), '$2,599.00');
});

test('at phone width the pages fit the screen and the menu reaches every page', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await page.goto(`${store.url}/#/store`);
    await page.getByTestId('product').first().waitFor();
    assert.ok(await fits(), 'the store is wider than the phone');
    await page.getByRole('button', { name: /^Cart \(2\)/ }).waitFor(); // the cart is below the products; this button goes there
    for (const [link, ready] of [['My orders', page.getByRole('table', { name: 'Orders' })], ['Points', page.getByTestId('points-available')]]) {
      await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByRole('navigation', { name: 'Pages (menu)' }).getByRole('link', { name: link }).click();
      await ready.waitFor();
      assert.ok(await fits(), `${link} is wider than the phone`);
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

// Last: it stops the store.
test('when the store is down, the page says so instead of failing silently', async () => {
  await store.stop();
  await page.getByRole('link', { name: 'My orders' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'The store cannot be reached' });
  await alert.waitFor();
  await alert.getByRole('button', { name: 'Try again' }).waitFor();
});

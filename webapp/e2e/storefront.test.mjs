// End to end: the storefront's fixes and features on the real store in
// headless Chromium: the phone's floating cart button, products deleted
// while in a cart, a cart the wallet or the stock cannot serve, the admin's
// view of an order, plain words in the purchase steps, the product page,
// sorting and filtering, the review step, the receipt and accessibility.
// Run with `npm run e2e` after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callAs, desktop, expectAccessible, orderNumber, phone, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

let store, browser, page, errors;
// Errors the browser reports for answers a test asks for on purpose.
const expectedErrors = [];

before(async () => {
  store = await startStore();
  browser = await startBrowser();
  page = await browser.newPage({ viewport: desktop });
  page.setDefaultTimeout(15_000);
  errors = watch(page);
});

after(async () => {
  await browser?.close();
  await store?.stop();
});

// api calls the API as a demo user, beside the browser.
const api = (...call) => callAs(store.url, ...call);

// purchase buys items as derick through the API and waits for the saga's end.
async function purchase(items) {
  let o = await api('derick', 'POST', '/purchase', { user_id: 'derick', items });
  while (o.status === 'pending') {
    await new Promise((r) => setTimeout(r, 100)); // polling the API to the end state
    o = await api('derick', 'GET', `/orders/${encodeURIComponent(o.id)}`);
  }
  return o;
}


const buyNow = () => page.getByRole('button', { name: 'Buy now' });

async function addToCart(name, quantity = 1) {
  await page.getByRole('button', { name: `Add ${name} to cart` }).click();
  if (quantity !== 1) {
    const q = page.getByLabel(`Quantity of ${name}`);
    await q.fill(String(quantity));
    await q.blur();
  }
  await page.getByTestId('cart-line').filter({ hasText: name }).waitFor();
}

async function emptyCart() {
  for (const line of await page.getByTestId('cart-line').all()) {
    await line.getByRole('button', { name: /^Remove / }).click();
  }
  await page.getByText('Your cart is empty.').waitFor();
}

// hitsItself: the element a tap at the center of locator lands on is the
// locator's element (or inside it).
async function hitsItself(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit !== null && (el === hit || el.contains(hit));
  });
}

test('on a phone nothing covers Buy now, wherever the page is scrolled', async () => {
  await page.setViewportSize(phone);
  try {
    await signIn(page, store.url, 'derick');
    await page.getByTestId('product').first().waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the store is wider than the phone');
    await addToCart('Golden Mane', 2); // the floating button's label grows with the total
    // Buy now at the bottom of the screen, where the floating cart button was.
    await buyNow().evaluate((el) => el.scrollIntoView({ block: 'end' }));
    assert.ok(await hitsItself(buyNow()), 'a tap on Buy now (at the bottom of the screen) lands on something else');
    await buyNow().evaluate((el) => el.scrollIntoView({ block: 'center' }));
    assert.ok(await hitsItself(buyNow()), 'a tap on Buy now (in the middle of the screen) lands on something else');
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    assert.ok(await hitsItself(buyNow()), 'a tap on Buy now (page scrolled to the end) lands on something else');
    await buyNow().click({ trial: true, timeout: 5_000 }); // playwright's own check that nothing covers it
    await emptyCart();
  } finally {
    await page.setViewportSize(desktop);
  }
});

test('a product the admin deleted leaves the store list and is marked unavailable in the cart, with no purchase offered', async () => {
  await api('admin', 'POST', '/products', { id: 'e2e-comet', name: 'Sparkle Comet', description: 'Leaves a trail of glitter', price: 420, stock: 5 });
  await page.reload();
  await addToCart('Sparkle Comet');
  await addToCart('Cloud Strider');
  await api('admin', 'DELETE', '/products/e2e-comet');
  // The customer comes back to the tab: the store looks again.
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await page.getByRole('article', { name: 'Sparkle Comet' }).waitFor({ state: 'detached' });
  const line = page.getByTestId('cart-line').filter({ hasText: 'Sparkle Comet' });
  await line.getByText('No longer sold').waitFor();
  assert.equal(await buyNow().isDisabled(), true, 'Buy now is offered with a product that no longer exists');
  assert.match(await page.getByTestId('buy-blocked').innerText(), /Sparkle Comet is no longer sold: remove it/);
  assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0);
  await line.getByRole('button', { name: 'Remove Sparkle Comet' }).click();
  await buyNow().and(page.locator(':enabled')).waitFor();
  await emptyCart();
});

test('a product deleted after the list was read is caught at the purchase, not with a "Try again"', async () => {
  await api('admin', 'POST', '/products', { id: 'e2e-comet-2', name: 'Sparkle Comet Two', description: 'Another trail', price: 420, stock: 5 });
  await page.reload();
  await addToCart('Sparkle Comet Two');
  await api('admin', 'DELETE', '/products/e2e-comet-2');
  await buyNow().click();
  // The review looks at the store again before it offers to pay.
  const line = page.getByTestId('cart-line').filter({ hasText: 'Sparkle Comet Two' });
  await line.getByText('No longer sold').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /^Confirm/ }).count(), 0);
  await page.getByRole('article', { name: 'Sparkle Comet Two' }).waitFor({ state: 'detached' });
  await emptyCart();
});

test('Buy now is off, with the reason beside it, when the wallet cannot pay or the stock is short; no failed order is left', async () => {
  await addToCart('Midnight Galloper', 2); // 4,900.00 from a wallet of 3,300.00
  await page.getByTestId('buy-blocked').filter({ hasText: 'Your wallet has $3,300.00: $1,600.00 short of the $4,900.00 to pay.' }).waitFor();
  assert.equal(await buyNow().isDisabled(), true);
  const q = page.getByLabel('Quantity of Midnight Galloper');
  await q.fill('1');
  await q.blur();
  await buyNow().and(page.locator(':enabled')).waitFor();
  assert.equal(await page.getByTestId('buy-blocked').count(), 0);
  await emptyCart();

  await addToCart('Rainbow Dash X', 3); // 2 in stock
  await page.getByTestId('buy-blocked').filter({ hasText: 'Only 2 Rainbow Dash X left: lower the quantity.' }).waitFor();
  assert.equal(await buyNow().isDisabled(), true);
  await emptyCart();
  const orders = await api('derick', 'GET', '/orders?user_id=derick');
  assert.deepEqual(orders.items, [], 'no order was made');
});

let failedId;

test('a failed purchase\'s steps say what happened in plain words, amounts formatted, with nothing given back that was never taken', async () => {
  await purchase([{ product_id: '6', quantity: 1 }]); // 650.00: the wallet keeps 2,650.00
  const failed = await purchase([{ product_id: '4', quantity: 1 }]); // 3,100.00
  assert.equal(failed.status, 'failed');
  failedId = failed.id;
  await page.goto(`${store.url}/#/orders/${encodeURIComponent(failed.id)}`);
  const h1 = page.getByRole('heading', { level: 1 });
  await h1.filter({ hasText: `Order ${orderNumber(failed.id)}` }).waitFor();
  const saga = page.getByTestId('saga');
  await saga.waitFor();
  const text = await saga.innerText();
  assert.match(text, /The order costs \$3,100\.00; the wallet holds \$2,650\.00\./);
  assert.doesNotMatch(text, /compensation|undone|3100\.00/i);
  const refund = saga.locator('[data-step="RefundWallet"]');
  if ((await refund.count()) > 0) assert.match(await refund.innerText(), /nothing to give back/i);
  const release = saga.locator('[data-step="ReleaseStock"]');
  assert.match(await release.innerText(), /Put the unicorns back on the shelf[\s\S]*done/i);
  assert.doesNotMatch(await page.locator('main').innerText(), /\bo-[0-9a-f]{6,}/, 'a raw order id is shown');
  // The list names orders the same way.
  await page.goto(`${store.url}/#/orders`);
  const link = page.getByRole('table', { name: 'Orders' }).locator(`a[href="#/orders/${encodeURIComponent(failed.id)}"]`);
  assert.equal(await link.innerText(), orderNumber(failed.id));
});

test('an admin reads an order as someone else\'s: whose it is and what they bought', async () => {
  await signIn(page, store.url, 'admin');
  await page.goto(`${store.url}/#/admin/orders/${encodeURIComponent(failedId)}`);
  await page.getByRole('heading', { level: 1 }).filter({ hasText: orderNumber(failedId) }).waitFor();
  await page.getByRole('heading', { name: 'derick bought' }).waitFor();
  await page.getByTestId('order-customer').filter({ hasText: 'derick' }).waitFor();
  const main = await page.locator('main').innerText();
  assert.doesNotMatch(main, /What you bought|your wallet|your points|Your /);
  await signOut(page);
});

// accessible checks the page as it is at both sizes.
async function accessible(what) {
  await expectAccessible(page, `${what}, desktop`);
  await page.setViewportSize(phone);
  try {
    await expectAccessible(page, `${what}, phone`);
  } finally {
    await page.setViewportSize(desktop);
  }
}

test('a product has its own page: picture, words, price, stock, and a quantity to put in the cart', async () => {
  await signIn(page, store.url, 'derick');
  await page.getByTestId('product').first().waitFor();
  await page.getByRole('article', { name: 'Golden Mane' }).getByRole('link', { name: 'Golden Mane' }).click();
  await page.getByRole('heading', { level: 1, name: 'Golden Mane' }).waitFor();
  assert.match(page.url(), /#\/store\/p\/5$/);
  assert.equal(await page.getByTestId('product-price').innerText(), '$1,299.50');
  await page.getByText('7 in stock').waitFor();
  await page.getByText('A calm unicorn with a golden mane, good with children').waitFor();
  await page.getByRole('img', { name: 'Golden Mane' }).waitFor();
  assert.equal(await page.title(), 'Golden Mane · Unicorn Store');
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('form', { name: 'Add to cart' }).getByRole('button', { name: 'Add to cart' }).click();
  await page.getByTestId('product-added').filter({ hasText: 'Added 2 Golden Mane to your cart.' }).waitFor();
  await page.getByTestId('cart-line').filter({ hasText: 'Golden Mane' }).waitFor();
  assert.equal(await page.getByLabel('Quantity of Golden Mane').inputValue(), '2');
  await accessible('product page with the cart');
  // More than the shelf holds (7, 2 in the cart) is refused at the field.
  await page.getByLabel('Quantity', { exact: true }).fill('6');
  await page.getByText('Only 5 more available').waitFor();
  assert.equal(await page.getByRole('form', { name: 'Add to cart' }).getByRole('button', { name: 'Add to cart' }).isDisabled(), true);
  // A product that does not exist says so.
  await page.goto(`${store.url}/#/store/p/no-such-unicorn`);
  await page.getByTestId('product-gone').filter({ hasText: 'This unicorn is no longer sold.' }).waitFor();
  expectedErrors.push(/status of 404 \(Not Found\).*\/products\/no-such-unicorn/);
  await page.getByRole('link', { name: '← All unicorns' }).click();
  await emptyCart();
});

test('the list sorts by price or name and filters by stock, price range and search', async () => {
  await page.getByTestId('product').first().waitFor();
  const shown = () => page.getByTestId('product-name').allInnerTexts();
  // shows waits for the list to read want (the list re-renders as one types).
  const shows = async (want) => {
    await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('[data-testid=product-name]')].map((e) => e.textContent)) === w, JSON.stringify(want), { timeout: 10_000 }).catch(() => undefined);
    assert.deepEqual(await shown(), want);
  };
  await page.getByLabel('Sort by').selectOption({ label: 'Price: low to high' });
  await shows(['Cloud Strider', 'Pink Pony Deluxe', 'Golden Mane', 'Unicorn Air (2023 Model)', 'Midnight Galloper', 'Rainbow Dash X']);
  await page.getByLabel('Sort by').selectOption({ label: 'Name: A to Z' });
  await shows(['Cloud Strider', 'Golden Mane', 'Midnight Galloper', 'Pink Pony Deluxe', 'Rainbow Dash X', 'Unicorn Air (2023 Model)']);
  await page.getByLabel('Lowest price').fill('1000');
  await page.getByLabel('Highest price').fill('2000');
  await shows(['Golden Mane', 'Unicorn Air (2023 Model)']);
  await page.getByLabel('Search unicorns').fill('golden');
  await shows(['Golden Mane']);
  await page.getByLabel('Search unicorns').fill('cloud');
  await page.getByText('No unicorn matches “cloud” with these filters.').waitFor();
  await page.getByRole('button', { name: 'Clear the filters' }).click();
  await shows(['Cloud Strider']);
  await page.getByLabel('Search unicorns').fill('');
  // Sold out: Rainbow Dash X is all sold, and the switch hides it.
  await api('admin', 'POST', '/products/4/stock', { delta: -2 });
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await page.getByRole('article', { name: 'Rainbow Dash X' }).getByText('Sold out').waitFor();
  await page.getByRole('switch', { name: 'In stock only' }).check();
  await page.getByRole('article', { name: 'Rainbow Dash X' }).waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('product').count(), 5);
  await page.getByRole('switch', { name: 'In stock only' }).uncheck();
  await api('admin', 'POST', '/products/4/stock', { delta: 2 });
});

test('the cards of a row are as tall as each other, images fill them and their buttons line up', async () => {
  await page.goto(`${store.url}/#/store`);
  await page.reload(); // the list as it first shows
  await page.getByTestId('product').first().waitFor();
  const boxes = await page.getByTestId('product').evaluateAll((cards) =>
    cards.map((c) => {
      const card = c.getBoundingClientRect();
      const image = c.querySelector('img');
      const img = image.getBoundingClientRect();
      const btn = c.querySelector('button').getBoundingClientRect();
      return {
        top: Math.round(card.top), height: Math.round(card.height), imgWidth: Math.round(img.width), cardWidth: Math.round(card.width),
        fit: getComputedStyle(image).objectFit, btnBottom: Math.round(card.bottom - btn.bottom),
      };
    }),
  );
  const byTop = new Map();
  for (const b of boxes) byTop.set(b.top, [...(byTop.get(b.top) ?? []), b]);
  const rows = [...byTop.values()];
  assert.ok(rows.some((r) => r.length > 1), 'the desktop list has rows of several cards');
  for (const row of rows) {
    assert.equal(new Set(row.map((b) => b.height)).size, 1, `cards of a row differ in height: ${JSON.stringify(row)}`);
    assert.equal(new Set(row.map((b) => b.btnBottom)).size, 1, `buttons of a row are not on one line: ${JSON.stringify(row)}`);
  }
  // The picture spans the card and covers its box (no bands beside it).
  for (const b of boxes) assert.ok(b.imgWidth >= b.cardWidth - 2 && b.fit === 'cover', `an image does not fill its card: ${JSON.stringify(b)}`);
});

test('the review shows exactly what the wallet pays and the points used; Back buys nothing; the receipt follows a purchase', async () => {
  await api('admin', 'POST', '/points', { account_id: 'derick', amount: 250, reference: 'e2e-review' });
  await page.reload();
  await page.getByTestId('points-balance').filter({ hasText: '250 pts' }).waitFor();
  await addToCart('Cloud Strider');
  await page.getByRole('switch', { name: /Use my points/ }).check();
  const input = page.getByLabel('Points to use');
  await input.fill('100');
  await input.blur();
  await accessible('store list with a cart of items');
  const before = (await api('derick', 'GET', '/orders?user_id=derick')).items.length;

  await buyNow().click();
  const dialog = page.getByRole('dialog', { name: 'Review your order' });
  assert.equal(await dialog.getByTestId('review-charge').innerText(), '$649.00');
  assert.equal(await dialog.getByTestId('review-points-value').innerText(), '−$1.00');
  assert.match(await dialog.innerText(), /100 points used \(1 point = \$0\.01\)/);
  assert.equal(await dialog.getByTestId('review-summary').innerText(), 'You pay $649.00 from your wallet and 100 points worth $1.00. Your wallet keeps $2,001.00.');
  await accessible('review step');
  await dialog.getByRole('button', { name: 'Back' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.activeElement?.textContent === 'Buy now'); // the focus goes back to Buy now
  assert.equal((await api('derick', 'GET', '/orders?user_id=derick')).items.length, before, 'Back bought nothing');

  await buyNow().click();
  await dialog.getByRole('button', { name: 'Confirm and pay $649.00' }).click();
  const outcome = page.getByTestId('purchase-outcome');
  await outcome.and(page.locator('[data-tone="success"]')).waitFor();
  const id = (await api('derick', 'GET', '/orders?user_id=derick')).items[0].id;
  await page.getByRole('dialog').getByRole('button', { name: 'Keep shopping' }).click();
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  // The focus lands on the confirmation, not on the page's body.
  const placed = page.getByTestId('order-placed');
  await placed.filter({ hasText: `Order ${orderNumber(id)} is placed` }).waitFor();
  await page.waitForFunction(() => document.activeElement?.dataset.testid === 'order-placed');

  await placed.getByRole('link', { name: 'Receipt' }).click();
  await page.getByRole('heading', { level: 1, name: `Receipt ${orderNumber(id)}` }).waitFor();
  const receipt = page.getByTestId('receipt');
  assert.match(await receipt.innerText(), /Cloud Strider\s+1\s+\$650\.00\s+\$650\.00/);
  const totals = await receipt.getByTestId('receipt-totals').innerText();
  assert.match(totals, /Total\s+\$650\.00/);
  assert.match(totals, /Points used\s+100 points, −\$1\.00/);
  assert.match(totals, /Charged to the wallet\s+\$649\.00/);
  assert.match(totals, /Points earned\s+64/);
  await page.getByRole('button', { name: 'Print' }).waitFor();
  await accessible('receipt');
  // The receipt is reachable from the order page too.
  await page.getByRole('link', { name: '← Back to the order' }).click();
  await page.getByRole('heading', { level: 1, name: `Order ${orderNumber(id)}` }).waitFor();
  await accessible('order page (customer)');
  await page.getByRole('link', { name: 'Receipt' }).click();
  await page.getByRole('heading', { level: 1, name: `Receipt ${orderNumber(id)}` }).waitFor();
});

test('the orders list and a failed order\'s page are accessible', async () => {
  await page.goto(`${store.url}/#/orders`);
  await page.getByRole('table', { name: 'Orders' }).waitFor();
  await accessible('orders list');
  await page.goto(`${store.url}/#/orders/${encodeURIComponent(failedId)}`);
  await page.getByTestId('saga').waitFor();
  await accessible('failed order page (customer)');
  await page.goto(`${store.url}/#/store`);
  await page.getByTestId('product').first().waitFor();
  await accessible('store list, empty cart');
  await signOut(page);
});

test('the admin\'s order page is accessible', async () => {
  await signIn(page, store.url, 'admin');
  const id = (await api('admin', 'GET', '/orders?user_id=derick')).items.find((o) => o.status === 'completed').id;
  await page.goto(`${store.url}/#/admin/orders/${encodeURIComponent(id)}`);
  await page.getByRole('heading', { name: 'derick bought' }).waitFor();
  await page.getByRole('heading', { name: 'Return or cancel' }).waitFor();
  assert.doesNotMatch(await page.locator('main').innerText(), /What you bought|your wallet|You earned|you paid/);
  await accessible('order page (admin)');
  await signOut(page);
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

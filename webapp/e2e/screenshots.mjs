// Saves a PNG of each page of the web app into docs/screenshots/, from a
// fresh store with a little history made through the API. `make screenshots`.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { password, signIn, startBrowser, startStore } from './harness.mjs';

const out = resolve(import.meta.dirname, '../../docs/screenshots');
mkdirSync(out, { recursive: true });

const store = await startStore();
const browser = await startBrowser();
try {
  const api = async (token, method, path, body, headers = {}) => {
    const r = await fetch(store.url + path, {
      method,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
      body: body && JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const token = async (username) => (await api('', 'POST', '/auth/token', { username, password })).access_token;
  const derick = await token('derick');
  const marketer = await token('marketer');
  const admin = await token('admin');
  // Tiers, and points to spend: a purchase's own stay pending through its
  // return window.
  await api(admin, 'PUT', '/tiers', {
    window_days: 365,
    tiers: [{ name: 'member', min_points: 0 }, { name: 'silver', min_points: 300, multiplier: 1.25 }, { name: 'gold', min_points: 2000, multiplier: 1.5 }],
  });
  await api(admin, 'POST', '/points', { account_id: 'derick', amount: 250, reference: 'welcome' });
  // History: two purchases, one that fails for lack of stock, and a second campaign.
  await api(marketer, 'POST', '/campaigns', {
    client: 'UnicornStore', campaign_name: 'big-spender', priority: 5, description: 'Big spender bonus: 5% more on orders of $1,000 or more',
    rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than_equals', value: 1000 }, action: { command: 'issue', formula: 'min($.amount / 20, 100)' } }],
  });
  const buy = (items, redeem = 0) => api(derick, 'POST', '/purchase', { user_id: 'derick', items, redeem_points: redeem }, { 'Idempotency-Key': crypto.randomUUID() });
  await buy([{ product_id: '5', quantity: 1 }]);
  await buy([{ product_id: '6', quantity: 1 }], 100);
  await buy([{ product_id: '4', quantity: 3 }]);

  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  // Leaving the campaign editor with its unsaved edit asks first: yes.
  page.on('dialog', (d) => void d.accept());
  const shot = async (name) => {
    await page.mouse.move(0, 0); // no tooltip left open under the pointer
    await page.evaluate(() => window.scrollTo(0, 0)); // a click may have scrolled
    await page.waitForTimeout(400); // charts animate in
    await page.screenshot({ path: join(out, `${name}.png`) });
    console.log(`docs/screenshots/${name}.png`);
  };

  await page.goto(`${store.url}/`);
  await page.getByLabel('Username').fill('derick');
  await shot('sign-in');

  // Enough in the wallet for the cart below: Buy now is offered.
  await api(admin, 'POST', '/users/derick/wallet/deposits', { amount: 2000 }, { 'Idempotency-Key': crypto.randomUUID() });
  await signIn(page, store.url, 'derick');
  await page.getByTestId('product').first().waitFor();
  await page.getByRole('button', { name: 'Add Pink Pony Deluxe to cart' }).click();
  await page.getByRole('button', { name: 'Add Cloud Strider to cart' }).click();
  await page.getByRole('switch', { name: /Use my points/ }).check();
  await page.getByRole('button', { name: 'Max' }).click();
  await shot('store');

  await page.getByRole('button', { name: 'Buy now' }).click();
  const review = page.getByRole('dialog', { name: 'Review your order' });
  await review.getByTestId('review-summary').waitFor();
  await shot('review');
  // The wallet is spent elsewhere (another tab) while the review is read:
  // the saga charges nothing and gives the points back.
  const charge = Number((await review.getByTestId('review-charge').innerText()).replace(/[$,]/g, ''));
  while (Number((await api(derick, 'GET', '/users/derick/wallet')).balance) >= charge) await buy([{ product_id: '6', quantity: 1 }]);
  await review.getByRole('button', { name: /^Confirm and pay/ }).click();
  await page.getByTestId('purchase-outcome').and(page.locator(':not([data-tone="pending"])')).waitFor();
  await shot('checkout');
  await page.getByRole('dialog').getByRole('button', { name: 'Back to the cart' }).click();

  await page.getByRole('article', { name: 'Golden Mane' }).getByRole('link', { name: 'Golden Mane' }).click();
  await page.getByRole('heading', { level: 1, name: 'Golden Mane' }).waitFor();
  await shot('product');

  await page.getByRole('link', { name: 'My orders' }).click();
  await page.getByRole('table', { name: 'Orders' }).waitFor();
  await shot('orders');
  // The Golden Mane order earned by both campaigns.
  await page.getByRole('row').filter({ hasText: 'Golden Mane' }).getByRole('link').click();
  await page.getByRole('table', { name: 'Points breakdown' }).waitFor();
  await shot('order');
  await page.getByRole('link', { name: 'Receipt' }).click();
  await page.getByTestId('receipt').waitFor();
  await shot('receipt');

  await page.getByRole('link', { name: 'Points' }).click();
  await page.getByRole('table', { name: 'Transactions' }).waitFor();
  await shot('points');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'Points' }).waitFor({ state: 'hidden' });
  await page.goto(`${store.url}/#/store`);
  await page.getByTestId('product').first().waitFor();
  await shot('store-phone');
  await page.setViewportSize({ width: 1280, height: 860 });

  await signIn(page, store.url, 'marketer');
  await page.getByRole('table', { name: 'Campaigns' }).waitFor();
  await page.locator('.recharts-bar-rectangle path').first().waitFor();
  await shot('campaigns');
  await page.getByRole('link', { name: 'big-spender' }).click();
  const editor = page.getByTestId('editor-campaign');
  await editor.locator('.cm-content').waitFor();
  await editor.getByText('min($.amount / 20, 100)').click();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.insertText(' * bonus');
  await page.getByTestId('problem').waitFor();
  await page.getByRole('button', { name: 'Simulate' }).click();
  await shot('campaign-editor');
  await page.getByRole('radiogroup', { name: 'Edit the campaign as' }).getByText('Form').click();
  await page.getByLabel('Description', { exact: true }).waitFor();
  await shot('campaign-form');

  await signIn(page, store.url, 'admin');
  await page.getByRole('table', { name: 'Catalog' }).waitFor();
  await shot('back-office');
  await page.goto(`${store.url}/#/admin/customers/derick`);
  await page.getByTestId('customer-points').waitFor();
  await shot('customer');
  await page.goto(`${store.url}/#/admin/orders`);
  await page.getByLabel('Status').waitFor();
  await page.getByRole('table').first().waitFor();
  await shot('all-orders');
} finally {
  await browser.close();
  await store.stop();
}

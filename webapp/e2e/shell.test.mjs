// The shell every page shares, in the browser: the session (kept across
// tabs, its end explained, the page kept), the header on a phone, the
// skip link, titles and focus; the first page's weight and speed on a slow
// phone network; and no axe violation on any page of any role at either
// size.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations, callAs, desktop, expectAccessible, password, phone, signIn, startBrowser, startStore, watch } from './harness.mjs';

let store;
let browser;
before(async () => {
  store = await startStore();
  browser = await startBrowser();
});
after(async () => {
  await browser?.close();
  await store?.stop();
});

// asAdmin calls the API as the demo admin, beside the browser; each call is
// its own action (a fresh Idempotency-Key).
const asAdmin = (method, path, body) => callAs(store.url, 'admin', method, path, body, { 'Idempotency-Key': crypto.randomUUID() });

test('the session outlives the tab: a new tab and a bookmark open signed in; sign-out in one tab signs out the other', async () => {
  const ctx = await browser.newContext({ viewport: desktop });
  const page = await ctx.newPage();
  const errors = watch(page);
  await signIn(page, store.url, 'derick');
  const other = await ctx.newPage();
  await other.goto(`${store.url}/#/points`); // a bookmark, in a new tab
  await other.getByRole('heading', { level: 1, name: 'Points' }).waitFor();
  await other.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor(); // the first tab heard it
  assert.equal(await page.getByText('Your session ended').count(), 0, 'a sign-out by the person is not news to them');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('when the store ends a session, sign-in says so and brings the person back to their page', async () => {
  const ctx = await browser.newContext({ viewport: desktop });
  const page = await ctx.newPage();
  await signIn(page, store.url, 'derick');
  await page.goto(`${store.url}/#/points`);
  await page.getByRole('heading', { level: 1, name: 'Points' }).waitFor();
  // The session dies at the store (its tokens no longer work), as when it
  // is revoked or has lived its time.
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('unicorn.session'));
    localStorage.setItem('unicorn.session', JSON.stringify({ ...s, access: 'revoked', refresh: 'revoked' }));
  });
  await page.reload();
  await page.getByText('Your session ended').waitFor();
  await expectAccessible(page, 'sign-in after the session ended');
  await page.getByLabel('Username').fill('derick');
  await page.locator('input[type=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Points' }).waitFor();
  assert.match(page.url(), /#\/points$/);
  await ctx.close();
});

test('on a phone: Sign out fits beside large balances; the menu closes after a move within a page; a missing order says not found', async () => {
  await asAdmin('POST', '/users/derick/wallet/deposits', { amount: 9876543.21 });
  await asAdmin('POST', '/points', { account_id: 'derick', amount: 123_456_789, reference: 'e2e-large-balance' });
  // A small phone (360 px wide), the narrowest common.
  const small = { width: 360, height: 740 };
  const ctx = await browser.newContext({ viewport: small });
  const page = await ctx.newPage();
  await signIn(page, store.url, 'derick');
  await page.getByTestId('points-balance').getByText('123,456,789', { exact: false }).waitFor();
  const box = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= small.width, `Sign out at ${JSON.stringify(box)} is outside the ${small.width}px screen`);
  const hit = await page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.closest('button')?.textContent, { x: box.x + box.width / 2, y: box.y + box.height / 2 });
  assert.equal(hit, 'Sign out');
  const label = await page.getByRole('button', { name: 'Sign out' }).evaluate((b) => {
    const l = b.querySelector('.mantine-Button-label') ?? b;
    return { scroll: l.scrollWidth, client: l.clientWidth };
  });
  assert.ok(label.scroll <= label.client, `"Sign out" is cut: ${label.scroll}px of text in ${label.client}px`);

  // The menu, from an order's page to the list: one page, two addresses.
  await page.goto(`${store.url}/#/orders/o-0000000000000000`);
  await page.getByRole('alert').waitFor();
  await page.getByRole('button', { name: 'Menu' }).click();
  const menu = page.getByRole('navigation', { name: 'Pages (menu)' });
  await menu.getByRole('link', { name: 'My orders' }).click();
  await page.getByRole('heading', { level: 1, name: 'My orders' }).waitFor();
  await menu.getByRole('link', { name: 'My orders' }).waitFor({ state: 'hidden' });

  // An order that does not exist says so, and offers no retry that cannot work.
  await page.goBack();
  await page.getByText('Not found', { exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0, 'trying again cannot find what does not exist');
  await ctx.close();
});

test('too many failed sign-ins say when to try again in minutes, not in hundreds of seconds', async () => {
  const ctx = await browser.newContext({ viewport: desktop });
  const page = await ctx.newPage();
  await page.goto(store.url);
  const alert = page.getByRole('alert');
  // Five failures for one name at one address lock it for a quarter of an
  // hour (a name no one has: the demo users stay free for the other tests).
  for (let i = 0; i < 8 && !/Too many/.test((await alert.count()) ? await alert.innerText() : ''); i++) {
    await page.getByLabel('Username').fill('e2e-nobody');
    await page.locator('input[type=password]').fill(`wrong-${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The button is busy (disabled) until the answer: the next click waits for it.
    await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    await alert.waitFor();
  }
  assert.match(await alert.innerText(), /Too many attempts\. Try again in 1[45] minutes\./);
  await ctx.close();
});

test('the skip link, the tab title and the focus follow the page', async () => {
  const ctx = await browser.newContext({ viewport: desktop });
  const page = await ctx.newPage();
  await signIn(page, store.url, 'derick');
  await page.getByRole('heading', { level: 1, name: 'Unicorns' }).waitFor();
  assert.equal(await page.title(), 'Unicorns · Unicorn Store');
  await page.locator('body').focus();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  assert.ok(await skip.evaluate((el) => el === document.activeElement), 'the skip link is the first stop');
  assert.ok((await skip.boundingBox()).y >= 0, 'the focused skip link is on screen');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main-content');

  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Points' }).click();
  await page.getByRole('heading', { level: 1, name: 'Points' }).waitFor();
  assert.match(await page.title(), /Points · Unicorn Store/);
  assert.equal(await page.evaluate(() => document.activeElement?.closest('#main-content') !== null), true, 'focus moved to the new page');
  await ctx.close();
});

// Chrome's "Slow 4G", as Lighthouse defines it: 150 ms round trips and
// 1.6 Mbit/s down, 750 kbit/s up.
const slow4G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

test('the first page on a slow phone network: at most 200 KiB of scripts and styles, a usable sign-in within 2 s', async () => {
  // One load, from an empty cache, under Slow 4G: what scripts and styles
  // it transferred, and when the sign-in form took typing.
  async function load() {
    const ctx = await browser.newContext({ viewport: phone });
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', slow4G);
    const types = new Map();
    const encodings = [];
    let transferred = 0;
    cdp.on('Network.responseReceived', (e) => types.set(e.requestId, { type: e.type, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] }));
    cdp.on('Network.loadingFinished', (e) => {
      const r = types.get(e.requestId);
      if (r && (r.type === 'Script' || r.type === 'Stylesheet')) {
        transferred += e.encodedDataLength;
        encodings.push(r.encoding);
      }
    });
    await page.goto(store.url);
    const username = page.getByLabel('Username');
    await username.fill('derick'); // usable: the form is there and takes typing
    const usableMs = await page.evaluate(() => performance.now());
    await ctx.close();
    return { kib: transferred / 1024, usableMs, encodings };
  }
  // The best of three: a busy machine (CI's) only ever adds time to a
  // load; the quickest is the nearest to what the page itself costs.
  const loads = [];
  for (let i = 0; i < 3; i++) loads.push(await load());
  const best = loads.reduce((a, b) => (b.usableMs < a.usableMs ? b : a));
  console.log(`first page on slow 4G: ${best.kib.toFixed(1)} KiB of scripts and styles (${best.encodings.join(', ')}), usable sign-in at ${loads.map((l) => Math.round(l.usableMs)).join(', ')} ms`);
  assert.ok(best.encodings.length > 0 && best.encodings.every((e) => e === 'br'), `scripts and styles come brotli-compressed: ${best.encodings}`);
  assert.ok(best.kib <= 200, `${best.kib.toFixed(1)} KiB of scripts and styles for the first page (budget 200 KiB)`);
  assert.ok(best.usableMs <= 2000, `usable sign-in after ${Math.round(best.usableMs)} ms at best of three on slow 4G (budget 2,000 ms)`);
});

// Every page of every role at both sizes (the areas' own tests check their
// states in depth: dialogs, forms, results).
const tour = [
  { who: 'derick', pages: ['store', 'orders', 'points'] },
  { who: 'marketer', pages: ['campaigns'] },
  { who: 'admin', pages: ['admin', 'store', 'campaigns'] },
];

for (const [sizeName, size] of [['desktop', desktop], ['phone', phone]]) {
  test(`no axe violation on any page at ${sizeName} size`, async () => {
    const ctx = await browser.newContext({ viewport: size });
    const page = await ctx.newPage();
    const errors = watch(page);
    // Every page is checked before the test fails, so that one run names
    // every violation.
    const found = [];
    const check = async (what) => {
      for (const v of await axeViolations(page)) found.push(`${what}: ${v.id} (${v.impact}) ${v.help}\n    ${v.nodes.slice(0, 5).join('\n    ')}`);
    };
    await page.goto(store.url);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await check(`sign-in, ${sizeName}`);
    for (const { who, pages } of tour) {
      await signIn(page, store.url, who);
      for (const p of pages) {
        await page.goto(`${store.url}/#/${p}`);
        await page.locator('main h1').first().waitFor();
        await page.getByRole('status').filter({ hasText: 'Loading' }).first().waitFor({ state: 'detached' });
        await check(`${who}'s ${p}, ${sizeName}`);
      }
    }
    assert.equal(found.length, 0, `axe violations:\n${found.join('\n')}`);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}

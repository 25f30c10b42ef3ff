// End to end: a marketer backtests campaigns in the campaign editor, on
// the real store in headless Chromium: a new campaign that doubles the
// points of the purchases made through the API, a mistake in one marked in
// the editor, and a change to the saved campaign "1".
// Run with `npm run e2e` (make test runs it) after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callAs, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

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

// api calls the API as a demo user, beside the browser.
const api = (...call) => callAs(store.url, ...call);

// eventually calls check until it answers something, for up to a minute.
async function eventually(what, check) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A new campaign that gives what campaign "1" gives (a point for every
// 10.00 over 100.00): beside it, the purchases' points double.
const doubling = (formula = '$.amount / 10') => ({
  client: 'UnicornStore',
  campaign_name: 'e2e-double',
  status: 'paused',
  rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 100 }, action: { command: 'issue', formula } }],
});

async function typeInto(editor, text) {
  await editor.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

async function backtest(days) {
  await page.getByRole('radiogroup', { name: 'Purchases of the last' }).getByText(`${days} days`).click();
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/campaigns/backtest');
  await page.getByRole('button', { name: 'Backtest', exact: true }).click();
  return (await answered).status();
}

// perDay is the per-day table's rows, as its cells read.
async function perDay() {
  const table = page.getByRole('table', { name: 'Points per day (UTC), on the days with purchases' });
  await table.waitFor();
  return table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText)));
}

test('before any purchase, a backtest says plainly there is nothing to try it on', async () => {
  await signIn(page, store.url, 'marketer');
  await page.getByRole('link', { name: 'New campaign' }).click();
  await typeInto(page.getByTestId('editor-campaign'), JSON.stringify(doubling(), null, 2));
  assert.equal(await backtest(30), 200);
  const empty = page.getByTestId('backtest-empty');
  await empty.waitFor();
  assert.match(await empty.innerText(), /^No completed purchases in the last 30 days\./);
  assert.equal(await page.getByTestId('backtest').getByRole('table').count(), 0);
  await signOut(page);
});

test('a marketer backtests a draft that doubles points and sees the totals, the days and the customers', async () => {
  // Two purchases: 650.00 earns 65 points, 1,299.50 earns 129.
  for (const product_id of ['6', '5']) {
    await api('derick', 'POST', '/purchase', { user_id: 'derick', items: [{ product_id, quantity: 1 }] }, { 'Idempotency-Key': crypto.randomUUID() });
  }
  // A purchase may still be under way when the store answers (202), and the
  // history is written as its message is handled: wait for both.
  await eventually('the purchases in the history', async () => {
    const r = await api('marketer', 'POST', '/campaigns/backtest', { client: 'UnicornStore', days: 7, campaign: doubling() });
    return r.purchases_read === 2;
  });

  await signIn(page, store.url, 'marketer');
  await page.getByRole('link', { name: 'New campaign' }).click();
  const editor = page.getByTestId('editor-campaign');
  await typeInto(editor, JSON.stringify(doubling(), null, 2));
  assert.equal(await backtest(7), 200);
  await page.getByRole('heading', { name: 'Backtest of the last 7 days' }).waitFor();
  assert.equal(await page.getByTestId('backtest-total').innerText(), 'Would have given 388 points on 2 orders vs 194 given: +194');
  assert.match(await page.getByTestId('backtest').innerText(), /194 points of them from “e2e-double”, a new campaign\./);
  // One row per day with purchases (both today, unless the test ran over
  // midnight UTC): orders, given, would give, difference, the campaign's part.
  const rows = await perDay();
  assert.ok(rows.length >= 1 && rows.length <= 2, JSON.stringify(rows));
  const sum = (i) => rows.reduce((n, r) => n + Number(r[i].replace(/[^\d]/g, '')), 0);
  assert.deepEqual([1, 2, 3, 5].map(sum), [2, 194, 388, 194]);
  assert.match(rows.at(-1)[0], /^\w{3} \d{1,2}, \d{4}$/);
  const customers = page.getByRole('table', { name: 'The customer whose points would change most' });
  assert.deepEqual(await customers.locator('tbody tr').evaluateAll((rs) => rs.map((r) => [...r.cells].map((c) => c.innerText))), [['derick', '2', '194', '388', '+194']]);
  assert.match(await page.getByTestId('backtest-notes').innerText(), /Budgets are not applied/);

  // A mistake in the draft is marked in the editor, where it is.
  await typeInto(editor, JSON.stringify(doubling('$.amount / bonus'), null, 2));
  assert.equal(await backtest(30), 400);
  expectedErrors.push(/status of 400 \(Bad Request\).*\/campaigns\/backtest/); // the refused backtest, as the browser logs it
  await page.getByTestId('backtest-error').filter({ hasText: 'Cannot backtest: the campaign has a problem, marked in the editor.' }).waitFor();
  await page.locator('[data-testid=problem][data-field="rules[0].action.formula"]').first().waitFor();
  await editor.locator('.cm-lintRange-error').filter({ hasText: 'bonus' }).waitFor();
  assert.equal(await page.getByTestId('backtest').count(), 0, 'no report of a refused backtest');
  await signOut(page);
});

test('a marketer backtests a change to a saved campaign', async () => {
  await signIn(page, store.url, 'marketer');
  await page.getByRole('table', { name: 'Campaigns' }).getByRole('link', { name: '1' }).click();
  const editor = page.getByTestId('editor-campaign');
  const content = editor.locator('.cm-content');
  await content.filter({ hasText: '"formula": "$.amount/10"' }).waitFor();
  // The same campaign, giving a point for every 5.00: 130 and 259 points
  // (1,299.50 / 5, rounded down) where it gave 65 and 129.
  const saved = await api('marketer', 'GET', '/campaigns/1?client=UnicornStore');
  const draft = Object.fromEntries(['client', 'campaign_name', 'description', 'status', 'priority', 'rounding', 'rules'].map((k) => [k, saved[k]]));
  draft.rules[0].action.formula = '$.amount/5';
  await typeInto(editor, JSON.stringify(draft, null, 2));
  assert.equal(await backtest(30), 200);
  await page.getByRole('heading', { name: 'Backtest of the last 30 days' }).waitFor();
  assert.equal(await page.getByTestId('backtest-total').innerText(), 'Would have given 389 points on 2 orders vs 194 given: +195');
  assert.match(await page.getByTestId('backtest').innerText(), /389 points of them from “1”, which gave 194 points as saved\./);
  const rows = await perDay();
  assert.equal(rows.reduce((n, r) => n + Number(r[1]), 0), 2);
  // The campaign's column reads what it gave → what it would give.
  assert.match(rows.at(-1)[5], /^\d+ → \d+$/);
  // Nothing was saved.
  assert.equal((await api('marketer', 'GET', '/campaigns/1?client=UnicornStore')).version, saved.version);
  await signOut(page);
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

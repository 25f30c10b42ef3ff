// End to end: an admin registers a webhook endpoint in the back office,
// on the real store in headless Chromium; a small receiver on this machine
// checks each request's signature with the secret the page showed once. A
// purchase reaches it, the delivery log says delivered, and the admin
// sends it again. The store runs with -webhook-allow-private=true: the
// receiver listens on 127.0.0.1, over http.
// Run with `npm run e2e` (make test runs it) after `npm run build`.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { callAs, desktop, expectAccessible, password, phone, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

let store, browser, page, errors, receiver;
// Errors the browser reports for answers a test asks for on purpose.
const expectedErrors = [];

// startReceiver is a client's endpoint: it verifies every request as
// Standard Webhooks says (HMAC-SHA256, keyed by the secret's bytes after
// whsec_, base64-decoded, of id.timestamp.body) and answers 204 to a
// signed one, 401 to any other.
async function startReceiver() {
  const r = { secret: '', requests: [] };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = req.headers['webhook-id'] ?? '';
      const timestamp = req.headers['webhook-timestamp'] ?? '';
      const signature = req.headers['webhook-signature'] ?? '';
      const valid = r.secret !== '' && signed(r.secret, id, timestamp, body, signature) && Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      r.requests.push({ path: req.url, id, timestamp, signature, body, valid });
      res.writeHead(valid ? 204 : 401).end();
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${server.address().port}/hooks`;
  r.close = () => new Promise((ok) => server.close(ok));
  return r;
}

function signed(secret, id, timestamp, body, header) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const want = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    const got = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && got.length === want.length && timingSafeEqual(got, want);
  });
}

before(async () => {
  receiver = await startReceiver();
  store = await startStore({ args: ['-webhook-allow-private=true'] });
  browser = await startBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  errors = watch(page);
});

after(async () => {
  await browser?.close();
  await store?.stop();
  await receiver?.close();
});

// asCustomer calls the API as derick, beside the admin's browser.
const asCustomer = (...call) => callAs(store.url, 'derick', ...call);

// eventually calls check until it answers something, for up to a minute:
// deliveries go out in the background.
async function eventually(what, check) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const delivery = () => page.getByRole('table', { name: 'Deliveries' }).getByTestId('delivery');

// showsDelivered refreshes the log until its one delivery reads delivered.
async function showsDelivered() {
  await eventually('the delivery shown as delivered', async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(200);
    return (await delivery().count()) === 1 && (await delivery().getAttribute('data-status')) === 'delivered';
  });
}

test('an admin registers an endpoint, with a refused address marked at the URL, and sees its secret once', async () => {
  await signIn(page, store.url, 'admin');
  await page.getByRole('tab', { name: 'Webhooks' }).click();
  await page.getByText('No endpoints yet: add one to have the store send it events.').waitFor();
  await page.getByText('Nothing was sent yet.').waitFor();

  const form = page.getByRole('form', { name: 'Add a webhook endpoint' });
  const url = form.getByLabel('URL');
  await url.fill(receiver.url.replace('http://', 'http://someone:secret@'));
  assert.ok(await form.getByRole('checkbox', { name: /order\.completed/ }).isChecked(), 'order.completed is checked to start with');
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  expectedErrors.push(/status of 400 \(Bad Request\).*\/webhooks\/endpoints/); // the refused registration, as the browser logs it
  await page.locator('[aria-invalid="true"]').first().waitFor();
  assert.equal(await url.getAttribute('aria-invalid'), 'true');
  await form.getByText('no user name or password in the URL: receivers check the signature').waitFor();
  assert.equal(await page.locator('[aria-invalid="true"]').count(), 1, 'only the URL is marked');
  assert.equal(await form.getByTestId('endpoint-error').innerText(), 'Not added: see the fields marked below.');

  await url.fill(receiver.url);
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  const shown = page.getByTestId('webhook-secret');
  await shown.waitFor();
  assert.match(await shown.innerText(), /you will not see it again/);
  receiver.secret = await shown.getByLabel('Signing secret').inputValue();
  assert.match(receiver.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  const row = page.getByRole('table', { name: 'Webhook endpoints' }).getByTestId('webhook-endpoint');
  await row.filter({ hasText: receiver.url }).waitFor();
  assert.match(await row.innerText(), /order\.completed/);
  assert.equal(await url.inputValue(), '', 'the form starts again');
  await expectAccessible(page, 'webhooks with a secret shown, desktop');

  await shown.getByRole('button', { name: 'I have saved it' }).click();
  await shown.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByRole('tab', { name: 'Webhooks' }).click();
  await row.waitFor();
  assert.equal(await page.getByText(receiver.secret).count(), 0, 'the secret is shown once');
});

test('a purchase reaches the receiver signed, and the log says it was delivered', async () => {
  const order = await asCustomer('POST', '/purchase', { user_id: 'derick', items: [{ product_id: '6', quantity: 1 }] }, { 'Idempotency-Key': crypto.randomUUID() });
  const orderId = order.id; // completed now, or soon (202): the event follows either way
  const got = await eventually('the delivery at the receiver', () => receiver.requests.find((r) => r.valid));
  assert.deepEqual(receiver.requests.filter((r) => !r.valid), [], 'a request the receiver could not verify');
  const event = JSON.parse(got.body);
  assert.equal(event.type, 'order.completed');
  assert.equal(event.client, 'UnicornStore');
  assert.equal(got.path, '/hooks');
  assert.match(JSON.stringify(event.data), new RegExp(orderId));

  await showsDelivered();
  const row = delivery();
  assert.equal(await row.getAttribute('data-event'), 'order.completed');
  assert.equal(await row.getByTestId('delivery-status').textContent(), 'delivered'); // a badge shows it in capitals
  assert.match(await row.innerText(), /1 attempt, last answered HTTP 204/);
  assert.match(await row.innerText(), new RegExp(got.id));

  // The payload, the exact body sent, opens under the row.
  const open = row.getByRole('button', { name: 'Payload' });
  assert.equal(await open.getAttribute('aria-expanded'), 'false');
  await open.click();
  assert.equal(await open.getAttribute('aria-expanded'), 'true');
  assert.match(await page.getByTestId('delivery-payload').innerText(), new RegExp(`"order_id": "${orderId}"`));
  await expectAccessible(page, 'webhooks with a delivery and its payload, desktop');
  await page.setViewportSize(phone);
  try {
    await expectAccessible(page, 'webhooks with a delivery and its payload, phone');
  } finally {
    await page.setViewportSize(desktop);
  }

  // The filter by endpoint shows it too.
  await page.getByLabel('Deliveries to').selectOption({ label: receiver.url });
  await delivery().filter({ hasText: got.id }).waitFor();
});

test('an admin sends a delivery again: the receiver gets the same event id, and the log counts it', async () => {
  const before = receiver.requests.filter((r) => r.valid);
  await delivery().getByRole('button', { name: 'Send again' }).click();
  await page.getByTestId('deliveries-note').filter({ hasText: /^Sending order\.completed \S+ again to / }).waitFor();
  const again = await eventually('the delivery sent again', () => receiver.requests.filter((r) => r.valid).length > before.length && receiver.requests.at(-1));
  assert.equal(again.id, before[0].id, 'the same webhook-id, for the receiver to deduplicate');
  assert.equal(again.body, before[0].body);
  // The log reads itself again while the delivery is pending.
  await delivery().and(page.locator('[data-status="delivered"]')).filter({ hasText: 'sent again once' }).waitFor({ timeout: 60_000 });
  assert.deepEqual(receiver.requests.filter((r) => !r.valid), []);
});

test('an admin removes the endpoint after confirming', async () => {
  await page.getByRole('button', { name: `Remove ${receiver.url}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove this endpoint?' });
  await dialog.getByRole('button', { name: 'Remove endpoint' }).click();
  await page.getByTestId('webhooks-note').filter({ hasText: `${receiver.url} removed: it is sent nothing more.` }).waitFor();
  await page.getByText('No endpoints yet: add one to have the store send it events.').waitFor();
  await signOut(page);
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

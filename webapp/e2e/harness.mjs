// Starts the real store (the Go binary on a temporary SQLite database,
// serving the built web app) and a headless Chromium for the end-to-end
// tests and the screenshots.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const repo = resolve(import.meta.dirname, '../..');
export const password = 'e2e-demo-password';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

// startStore builds the unicorn command and serves a fresh store with its
// demo data. stop() kills it and removes the database. args are more flags
// of unicorn serve (-webhook-allow-private=true: webhook endpoints may be on
// this machine, over http, as a test's receiver is).
export async function startStore({ args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'unicorn-e2e-'));
  const bin = join(dir, 'unicorn');
  execFileSync('go', ['build', '-o', bin, './cmd/unicorn'], { cwd: repo, stdio: 'inherit' });
  // WEBAPP_DIST: a build elsewhere than webapp/dist (one per worktree or job).
  const dist = process.env.WEBAPP_DIST ? resolve(process.env.WEBAPP_DIST) : join(repo, 'webapp/dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error('the web app is not built: run npm run build first');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = [];
  const proc = spawn(bin, ['serve', '-addr', `127.0.0.1:${port}`, '-db', join(dir, 'unicorn.db'), '-webapp-dir', dist, '-purchase-wait', '5s', ...args], {
    env: { ...process.env, UNICORN_DEMO_PASSWORD: password, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (b) => logs.push(b.toString()));
  proc.stderr.on('data', (b) => logs.push(b.toString()));
  const exited = new Promise((ok) => proc.once('exit', ok));
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || i > 300) throw new Error(`the store did not start:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    logs,
    // stop may be called again (a test stops the store early).
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The flags keep Chromium off the network: this is a closed machine.
export async function startBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

// watch collects what the page reports as errors: console errors and
// uncaught exceptions.
export function watch(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()} (${m.location().url})`));
  page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  return errors;
}

export async function signIn(page, url, username) {
  await page.goto(`${url}/`);
  await page.evaluate(() => { localStorage.removeItem('unicorn.session'); sessionStorage.clear(); }); // whoever was signed in
  await page.reload();
  await page.getByLabel('Username').fill(username);
  await page.locator('input[type=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

// The two sizes every page is checked at: a laptop and a phone.
export const desktop = { width: 1280, height: 800 };
export const phone = { width: 390, height: 844 };

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// axeViolations runs axe-core (WCAG 2.0-2.2 A and AA, and the best
// practices) on the page as it is now and returns what it found, each
// violation with the elements it names, ready for an assertion message.
export async function axeViolations(page) {
  // A dialog fading in is drawn half transparent: its colors are checked
  // once every transition has ended.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))));
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1, 2).join('').trim()}`) }));
  });
  return found;
}

// expectAccessible fails with every axe violation on the page, named by
// where the test was (what, e.g. "store, phone").
export async function expectAccessible(page, what) {
  const v = await axeViolations(page);
  if (v.length > 0) {
    const lines = v.flatMap((x) => [`${x.id} (${x.impact}): ${x.help}`, ...x.nodes.slice(0, 8).map((n) => `    ${n}`)]);
    throw new Error(`axe found ${v.length} violation(s) on ${what}:\n${lines.join('\n')}`);
  }
}

// orderNumber is an order's number as the web app shows it (src/lib/format.ts):
// the last eight characters of its id, in two groups ("#3F9A-01C2").
export function orderNumber(id) {
  const core = id.replace(/^o-/, '').replace(/[^0-9a-zA-Z]/g, '').slice(-8).toUpperCase();
  return `#${core.slice(0, 4)}-${core.slice(4)}`;
}

// fetch sends a string body as text/plain unless told: the API takes JSON only.
const json = { 'Content-Type': 'application/json' };

// bearer signs a demo user in (with the demo password): the value of an
// Authorization header, for calls beside the browser.
export async function bearer(url, username) {
  const t = await (await fetch(`${url}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ username, password }) })).json();
  return `Bearer ${t.access_token}`;
}

// callAs calls the store's API at url as a demo user (a fresh token each
// time), beside the browser; a failure fails the test with the answer.
export async function callAs(url, username, method, path, body, headers = {}) {
  const r = await fetch(`${url}${path}`, { method, headers: { ...json, ...headers, Authorization: await bearer(url, username) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

// Starts the real store (the Go binary on a temporary SQLite database,
// serving the built web app) and a headless Chromium for the end-to-end
// tests and the screenshots.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
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
  const dist = join(repo, 'webapp/dist');
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
  await page.evaluate(() => sessionStorage.clear()); // whoever was signed in
  await page.reload();
  await page.getByLabel('Username').fill(username);
  await page.locator('input[type=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').or(page.getByRole('button', { name: 'Sign out' })).first().waitFor();
}

export async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

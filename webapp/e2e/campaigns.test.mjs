// End to end: the marketer's campaign console on the real store in headless
// Chromium: the editor's notices, its autosaved draft and its leave guard,
// simulating a draft with the active campaigns, versions (diff, rollback),
// delete, duplicate, archive, search, analytics and budgets, and every
// state checked with axe at desktop and phone sizes.
// Run with `npm run e2e` (make test runs it) after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callAs, desktop, expectAccessible, phone, signIn, signOut, startBrowser, startStore, watch } from './harness.mjs';

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

const draft = (name, formula = '$.amount / 100', extra = {}) => ({
  client: 'UnicornStore',
  campaign_name: name,
  status: 'paused',
  priority: 20,
  rules: [{ action: { command: 'issue', formula } }],
  ...extra,
});

async function typeInto(editor, text) {
  await editor.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

const editor = () => page.getByTestId('editor-campaign');
const content = () => editor().locator('.cm-content');

async function openCampaign(name) {
  await page.goto(`${store.url}/#/campaigns/${encodeURIComponent(name)}`);
  await page.getByRole('heading', { level: 1, name }).waitFor();
  await content().filter({ hasText: '"campaign_name"' }).waitFor();
}

async function newCampaign() {
  await page.goto(`${store.url}/#/campaigns/new`);
  await page.getByRole('heading', { level: 1, name: 'New campaign' }).waitFor();
}

// Two sizes for one state: axe at the desktop size, then at the phone's.
async function accessible(what) {
  await page.setViewportSize(desktop);
  await expectAccessible(page, `${what}, desktop`);
  await page.setViewportSize(phone);
  await expectAccessible(page, `${what}, phone`);
  await page.setViewportSize(desktop);
}

test('a "Cannot simulate" notice goes away once the campaign is fixed', async () => {
  await signIn(page, store.url, 'marketer');
  await newCampaign();
  await typeInto(editor(), '{"campaign_name": ');
  await page.getByRole('button', { name: 'Simulate' }).click();
  await page.getByText(/^Cannot simulate/).first().waitFor();
  await accessible('campaign editor with a validation error');
  await typeInto(editor(), JSON.stringify(draft('e2e-fixed'), null, 2));
  await page.getByText('✓ No problems found').waitFor();
  await page.getByText(/^Cannot simulate/).first().waitFor({ state: 'hidden' });
  await signOut(page);
});

test('a draft simulates with the active campaigns by default, or alone, and reads "draft", not "v0"', async () => {
  await signIn(page, store.url, 'marketer');
  await newCampaign();
  await typeInto(editor(), JSON.stringify(draft('e2e-sim'), null, 2));
  await page.getByText('✓ No problems found').waitFor();
  await page.getByRole('button', { name: 'Simulate' }).click();
  const sim = page.getByTestId('simulation');
  // 1,700.00: 170 points from the active campaign "1", 17 from the draft.
  await sim.filter({ hasText: 'This purchase would earn 187 points' }).waitFor();
  assert.match(await sim.innerText(), /e2e-sim\s+draft/);
  assert.doesNotMatch(await sim.innerText(), /v0/);
  await accessible('new campaign editor with a simulation');
  await page.getByRole('radiogroup', { name: 'Simulate the campaign' }).getByText('alone').click();
  await page.getByRole('button', { name: 'Simulate' }).click();
  await sim.filter({ hasText: 'This purchase would earn 17 points' }).waitFor();
  await signOut(page);
});

test('creating a campaign says so, and the simulation stays', async () => {
  await signIn(page, store.url, 'marketer');
  await newCampaign();
  await typeInto(editor(), JSON.stringify(draft('e2e-created'), null, 2));
  await page.getByText('✓ No problems found').waitFor();
  await page.getByRole('button', { name: 'Simulate' }).click();
  const sim = page.getByTestId('simulation');
  await sim.waitFor();
  const simulated = await sim.innerText();
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await page.getByRole('heading', { level: 1, name: 'e2e-created' }).waitFor();
  await page.getByTestId('campaign-notice').filter({ hasText: 'Created e2e-created (version 1).' }).waitFor();
  assert.equal(await sim.innerText(), simulated);
  await signOut(page);
});

// saved creates a campaign through the API, and changes it: one version
// more per change.
async function saved(name, ...changes) {
  await api('marketer', 'POST', '/campaigns', draft(name));
  for (const c of changes) await api('marketer', 'PATCH', `/campaigns/${name}`, c);
}

test('a save with no change is not offered; a real change makes one version', async () => {
  await saved('e2e-nochange');
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-nochange');
  const save = page.getByRole('button', { name: 'Save changes' });
  await page.getByText('No changes to save').waitFor();
  assert.equal(await save.isDisabled(), true);
  await typeInto(editor(), JSON.stringify({ ...draft('e2e-nochange'), priority: 21 }, null, 2));
  await page.getByText('✓ No problems found').waitFor();
  await save.click();
  await page.getByTestId('campaign-notice').filter({ hasText: 'Saved version 2.' }).waitFor();
  await page.getByText('No changes to save').waitFor();
  assert.equal((await api('marketer', 'GET', '/campaigns/e2e-nochange')).version, 2);
  await signOut(page);
});

test('"Load into the editor" says what it loaded and shows it', async () => {
  await saved('e2e-load', { priority: 21 });
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-load');
  await page.getByRole('tab', { name: 'Versions' }).click();
  await page.getByRole('button', { name: 'Load into the editor: version 1' }).click();
  await page.getByTestId('campaign-notice').filter({ hasText: 'Version 1 is in the editor' }).waitFor();
  await content().filter({ hasText: '"priority": 20' }).waitFor();
  assert.equal(await page.getByRole('tab', { name: 'Rules' }).getAttribute('aria-selected'), 'true');
  // Loaded, not saved: put the saved campaign back.
  await page.getByRole('button', { name: 'Discard changes' }).click();
  await content().filter({ hasText: '"priority": 21' }).waitFor();
  await signOut(page);
});

test('an unsaved draft survives the end of the session and can be discarded', async () => {
  await saved('e2e-autosave');
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-autosave');
  await typeInto(editor(), JSON.stringify({ ...draft('e2e-autosave'), priority: 77 }, null, 2));
  await page.getByText('✓ No problems found').waitFor();
  await signOut(page);
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-autosave');
  await page.getByTestId('draft-restored').waitFor();
  await content().filter({ hasText: '"priority": 77' }).waitFor();
  await accessible('campaign editor with a restored draft');
  await page.getByRole('button', { name: 'Discard draft' }).click();
  await content().filter({ hasText: '"priority": 20' }).waitFor();
  await page.getByTestId('draft-restored').waitFor({ state: 'hidden' });
  // Discarded for good: opened again, the saved campaign, no notice.
  await openCampaign('e2e-autosave');
  await content().filter({ hasText: '"priority": 20' }).waitFor();
  assert.equal(await page.getByTestId('draft-restored').count(), 0);
  await signOut(page);
});

test('leaving the editor with unsaved edits asks first', async () => {
  await saved('e2e-guard');
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-guard');
  await typeInto(editor(), JSON.stringify({ ...draft('e2e-guard'), priority: 5 }, null, 2));
  await page.getByText('✓ No problems found').waitFor();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.getByRole('link', { name: '← All campaigns' }).click();
  await page.waitForFunction(() => window.location.hash === '#/campaigns/e2e-guard');
  assert.match(asked, /unsaved changes/);
  await page.getByRole('heading', { level: 1, name: 'e2e-guard' }).waitFor();
  assert.match(await content().innerText(), /"priority": 5/);
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('link', { name: '← All campaigns' }).click();
  await page.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor();
  await signOut(page);
});

test('a marketer compares two versions and makes an old one current again', async () => {
  await saved('e2e-versions', { priority: 21 }, { description: 'Second thoughts' });
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-versions');
  await accessible('campaign editor of a saved campaign');
  await page.getByRole('tab', { name: 'Versions' }).click();
  const summary = page.getByTestId('diff-summary');
  // By default: the version before the current one, and the current one.
  await summary.filter({ hasText: 'Version 2 → version 3: 1 line added, 0 lines removed.' }).waitFor();
  assert.match(await page.locator('[data-testid=diff] [data-kind=added]').innerText(), /"description": "Second thoughts"/);
  await page.getByLabel('Older').selectOption('1');
  await summary.filter({ hasText: 'Version 1 → version 3: 2 lines added, 1 line removed.' }).waitFor();
  assert.match(await page.locator('[data-testid=diff] [data-kind=removed]').innerText(), /"priority": 20/);
  await accessible('versions of a campaign with their diff');

  await page.getByRole('button', { name: 'Make current: version 1' }).click();
  const dialog = page.getByRole('dialog', { name: 'Make version 1 current?' });
  await dialog.getByText('Version 4 will have the rules and settings of version 1').waitFor();
  await accessible('rollback confirmation');
  await dialog.getByRole('button', { name: 'Make version 1 current' }).click();
  await page.getByTestId('campaign-notice').filter({ hasText: 'Version 1 is current again, as version 4.' }).waitFor();
  const now = await api('marketer', 'GET', '/campaigns/e2e-versions');
  assert.equal(now.version, 4);
  assert.equal(now.priority, 20);
  assert.equal(now.description, undefined);
  await page.getByRole('table', { name: 'Versions' }).getByText('v4').waitFor();
  await signOut(page);
});

test('a marketer duplicates a campaign under a new name, then deletes the copy', async () => {
  await saved('e2e-original', { description: 'The one to copy' });
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-original');
  await page.getByRole('button', { name: 'Duplicate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Duplicate e2e-original' });
  const copyName = dialog.getByLabel('Name of the copy');
  // A name in use is refused, beside the name.
  await copyName.fill('1');
  await dialog.getByRole('button', { name: 'Create the copy' }).click();
  expectedErrors.push(/status of 409 \(Conflict\)/);
  await dialog.getByText('UnicornStore already has a campaign named “1”: choose another name.').waitFor();
  await accessible('duplicate dialog with an error');
  await copyName.fill('e2e-copy');
  await dialog.getByRole('button', { name: 'Create the copy' }).click();
  await page.getByRole('heading', { level: 1, name: 'e2e-copy' }).waitFor();
  await page.getByTestId('campaign-notice').filter({ hasText: 'Copied e2e-original to e2e-copy (paused).' }).waitFor();
  const copy = await api('marketer', 'GET', '/campaigns/e2e-copy');
  assert.deepEqual([copy.version, copy.status, copy.description], [1, 'paused', 'The one to copy']);

  await page.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete e2e-copy?' });
  await accessible('delete confirmation');
  await confirm.getByRole('button', { name: 'Delete e2e-copy' }).click();
  await page.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor();
  await page.getByTestId('campaigns-notice').filter({ hasText: 'Deleted e2e-copy. Its versions stay in the history.' }).waitFor();
  await page.getByRole('table', { name: 'Campaigns' }).getByRole('link', { name: 'e2e-original' }).waitFor();
  assert.equal(await page.getByRole('table', { name: 'Campaigns' }).getByRole('link', { name: 'e2e-copy' }).count(), 0);
  await signOut(page);
});

test('a marketer archives a campaign: it leaves the list until "Show archived"; the list searches', async () => {
  await saved('e2e-archive', { description: 'Summer sale points' });
  await signIn(page, store.url, 'marketer');
  await openCampaign('e2e-archive');
  await page.getByRole('button', { name: 'Archive' }).click();
  await page.getByTestId('campaign-notice').filter({ hasText: /^Archived \(version 3\)/ }).waitFor();
  await page.getByTestId('campaign-status').filter({ hasText: 'archived' }).waitFor();
  const archived = await api('marketer', 'GET', '/campaigns/e2e-archive');
  assert.equal(archived.status, 'paused');
  assert.ok(Date.parse(archived.ends_at) <= Date.now());

  await page.getByRole('link', { name: '← All campaigns' }).click();
  const table = page.getByRole('table', { name: 'Campaigns' });
  await table.getByRole('link', { name: '1', exact: true }).waitFor();
  assert.equal(await table.getByRole('link', { name: 'e2e-archive' }).count(), 0);
  const search = page.getByLabel('Search campaigns');
  await search.fill('summer');
  await page.getByTestId('campaigns-none').filter({ hasText: 'No campaign matches “summer” (archived campaigns are hidden).' }).waitFor();
  await page.getByLabel(/^Show archived/).check();
  await table.getByRole('link', { name: 'e2e-archive' }).waitFor();
  assert.equal(await page.getByTestId('campaign-row').count(), 1);
  await accessible('campaign list, searched, with archived campaigns');
  // By description, any case.
  await search.fill('A POINT FOR EVERY');
  await table.getByRole('link', { name: '1', exact: true }).waitFor();
  assert.equal(await page.getByTestId('campaign-row').count(), 1);
  await search.fill('');

  await table.getByRole('link', { name: 'e2e-archive' }).click();
  await page.getByRole('button', { name: 'Unarchive' }).click();
  await page.getByTestId('campaign-notice').filter({ hasText: /^Brought back from the archive/ }).waitFor();
  assert.equal((await api('marketer', 'GET', '/campaigns/e2e-archive')).ends_at, undefined);
  await signOut(page);
});

test('a campaign with a budget shows what it gave, per day over the dates chosen, and of its budget', async () => {
  await api('marketer', 'POST', '/campaigns', draft('e2e-budget', '$.amount / 100', { status: 'active', budget: 1000 }));
  // 650.00 earns 6 points from e2e-budget (and 65 from "1").
  await api('derick', 'POST', '/purchase', { user_id: 'derick', items: [{ product_id: '6', quantity: 1 }] }, { 'Idempotency-Key': crypto.randomUUID() });
  // The purchase completes in the background: wait for its award.
  const deadline = Date.now() + 60_000;
  while ((await api('marketer', 'GET', '/campaigns/e2e-budget')).awarded !== 6) {
    assert.ok(Date.now() < deadline, 'the purchase was never awarded');
    await new Promise((r) => setTimeout(r, 200));
  }
  await signIn(page, store.url, 'marketer');
  const row = page.getByTestId('campaign-row').filter({ hasText: 'e2e-budget' });
  await row.getByTestId('budget').filter({ hasText: '6 of 1,000 points given' }).waitFor();
  await page.getByRole('img', { name: /^Bar chart of the points each campaign awarded per day over the last 30 days: 71 points in all/ }).waitFor();
  await accessible('campaign list with budgets and the awards chart');

  await openCampaign('e2e-budget');
  await page.getByRole('tab', { name: 'Results' }).click();
  await page.getByTestId('results').waitFor();
  assert.equal(await page.getByTestId('results-points').innerText(), '6');
  assert.equal(await page.getByTestId('results-orders').innerText(), '1');
  await page.getByRole('progressbar', { name: 'Budget of e2e-budget: 6 of 1,000 points given' }).waitFor();
  await accessible('campaign results');
  // A range without the purchase: nothing awarded in it.
  await page.getByLabel('From', { exact: true }).fill('2025-01-01');
  await page.getByLabel('To', { exact: true }).fill('2025-01-31');
  await page.getByTestId('results-empty').filter({ hasText: 'e2e-budget awarded no points from Jan 1, 2025 to Jan 31, 2025.' }).waitFor();
  // A start after the end is said beside the start.
  await page.getByLabel('From', { exact: true }).fill('2025-02-01');
  await page.getByText('The start is after the end.').waitFor();
  await accessible('campaign results with a wrong range');
  await signOut(page);
});

test('the campaign can be edited as a form beside the JSON, on the same draft', async () => {
  await signIn(page, store.url, 'marketer');
  await newCampaign();
  await page.getByRole('radiogroup', { name: 'Edit the campaign as' }).getByText('Form').click();
  const description = page.getByLabel('Description', { exact: true });
  await description.fill('Written in the form');

  // The formula suggests the purchase's number fields for the path being
  // typed, by keyboard too, and completes only that path.
  const formula = page.getByLabel('Points formula');
  const initial = await formula.inputValue();
  await formula.click();
  await formula.press('End');
  await formula.pressSequentially(' * $.customer.t');
  const suggestions = page.getByRole('listbox', { name: 'Fields of the purchase' });
  await suggestions.getByRole('option', { name: /tier_multiplier/ }).waitFor();
  assert.equal(await suggestions.getByRole('option').count(), 1, 'the tier, a text, is not offered for a formula');
  await expectAccessible(page, 'the formula\'s suggestions');
  await formula.press('ArrowDown');
  await formula.press('Enter');
  await suggestions.waitFor({ state: 'hidden' });
  await formula.pressSequentially(' + $.qu');
  await suggestions.getByRole('option', { name: /^\$\.quantity/ }).click(); // by pointer
  await suggestions.waitFor({ state: 'hidden' });
  await formula.pressSequentially(' + 1');
  assert.equal(await formula.inputValue(), `${initial} * $.customer.tier_multiplier + $.quantity + 1`);

  await page.getByRole('radiogroup', { name: 'Edit the campaign as' }).getByText('JSON').click();
  await content().filter({ hasText: '"description": "Written in the form"' }).waitFor();
  await content().filter({ hasText: `"formula": "${initial} * $.customer.tier_multiplier + $.quantity + 1"` }).waitFor();
  await signOut(page);
});

test('nothing was reported as an error in the browser', () => {
  assert.deepEqual(
    errors.filter((e) => !expectedErrors.some((re) => re.test(e))),
    [],
  );
});

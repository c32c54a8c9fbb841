// The regrade worker in real Chromium (issues #4 and #6): one tab per device regrades a course, the device's other
// tabs draw its grid; a slow full rebuild shows progress and can be cancelled. Runs its own sync and app servers
// on loopback (over the shared build/) with its own courses, so the demo courses other specs use stay untouched.
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as Y from 'yjs';
import { courseJsonToDoc } from '../../src/lib/crdt/course-doc.ts';
import type { CourseJson } from '../../src/lib/domain/interchange/course-types.ts';
import { buildGridModel } from '../../src/lib/state/grid-model.ts';
import { startSyncServer } from '../../sync-server/server.ts';
import { startStaticServer } from '../../sync-server/static.ts';
import { generateCourse } from '../fixtures/courses/generate.ts';
import { PASSWORD, cell, signIn } from './helpers';

const APP_PORT = Number(process.env.E2E_REGRADE_PORT ?? 4293);
const root = resolve(import.meta.dirname, '../..');

/** Two 0-100 items under a Natural course total: easy to reason about (total = sum; "Highest grade" = the best). */
const small: CourseJson = {
  settings: {},
  categories: [{ id: 'c-course', parent: null, name: 'Regrade small', aggregation: 'natural' }],
  items: [
    { id: 'i-a', idnumber: 'a', category: 'c-course', name: 'Essay', grademin: 0, grademax: 100 },
    { id: 'i-b', idnumber: 'b', category: 'c-course', name: 'Exam', grademin: 0, grademax: 100 },
  ],
  users: [
    { id: 's1', name: 'Ada Lovelace' },
    { id: 's2', name: 'Alan Turing' },
  ],
  grades: [
    { item: 'i-a', user: 's1', raw: 30 },
    { item: 'i-b', user: 's1', raw: 70 },
    { item: 'i-a', user: 's2', raw: 50 },
  ],
} as CourseJson;

function bigCourse(): CourseJson {
  const json = generateCourse({ students: 2000, items: 300, levels: 4, calculated: 10, seed: 7 });
  json.users = Array.from(new Set(json.grades.map((g) => g.user))).map((id) => ({ id, name: `Student ${id}` }));
  return json;
}

function docUpdate(json: CourseJson): Uint8Array {
  const doc = new Y.Doc();
  courseJsonToDoc(json, doc, { userId: 'seed', deviceId: 'seed' }, { src: 'seed' });
  return Y.encodeStateAsUpdate(doc);
}

let servers: { close(): Promise<void> }[] = [];
let dataDir = '';
const big = bigCourse();

test.beforeAll(async () => {
  test.setTimeout(120_000);
  dataDir = mkdtempSync(join(tmpdir(), 'markbook-regrade-e2e-'));
  const sync = await startSyncServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    appOrigins: [`http://127.0.0.1:${APP_PORT}`],
    maxMessageBytes: 64 * 1024 * 1024,
    seed: {
      accounts: [{ userId: 't', username: 'rteacher', password: PASSWORD, displayName: 'Regrade Teacher' }],
      courseRoles: [
        { userId: 't', courseId: 'rsmall', role: 'editingteacher' },
        { userId: 't', courseId: 'rbig', role: 'editingteacher' },
      ],
      courses: [
        { id: 'rsmall', name: 'Regrade small' },
        { id: 'rbig', name: 'Regrade big' },
      ],
      docs: [
        { room: 'course/rsmall', update: docUpdate(small) },
        { room: 'course/rbig', update: docUpdate(big) },
      ],
    },
  });
  const app = await startStaticServer({ root: join(root, 'build'), port: APP_PORT, syncUrl: `ws://127.0.0.1:${sync.port}` });
  servers = [app, sync];
});

test.afterAll(async () => {
  for (const s of servers) await s.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ baseURL: `http://127.0.0.1:${APP_PORT}`, viewport: { width: 1280, height: 800 } });
}

/** Full rebuilds and patches this tab's own regrade worker made (the grid wrapper's data-regrades). */
async function regrades(page: Page): Promise<number> {
  return Number(await page.getByTestId('grid-wrap').getAttribute('data-regrades'));
}

async function setCourseAggregation(page: Page, courseId: string, rootCat: string, label: string): Promise<void> {
  await page.goto(`/setup?id=${courseId}`);
  await page.getByTestId(`setup-row-${rootCat}`).getByRole('button', { name: /^Edit/ }).click({ timeout: 120_000 });
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Aggregation').selectOption({ label });
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId(`setup-row-${rootCat}`)).toContainText(label);
}

async function typeGrade(page: Page, item: string, user: string, value: string): Promise<void> {
  await cell(page, item, user).click();
  await page.keyboard.type(value);
  await page.keyboard.press('Enter');
}

test('only the leading tab regrades; the other tab draws its grid, and takes over when the leader closes', async ({ browser }) => {
  const ctx = await newContext(browser);
  const lead = await ctx.newPage();
  await signIn(lead, 'rteacher');
  await lead.goto('/course?id=rsmall');
  await expect(cell(lead, 'course', 's1')).toHaveText('100.00'); // Natural: 30 + 70
  const follow = await ctx.newPage();
  await follow.goto('/course?id=rsmall');
  await expect(cell(follow, 'course', 's1')).toHaveText('100.00');

  // a grade typed in the following tab: both tabs show the new total, regraded by the leader only
  await typeGrade(follow, 'i-a', 's1', '90');
  await expect(cell(follow, 'course', 's1')).toHaveText('160.00');
  await expect(cell(lead, 'course', 's1')).toHaveText('160.00');
  const led = await regrades(lead);
  expect(led).toBeGreaterThanOrEqual(2); // the first rebuild and the patch for the grade
  expect(await regrades(follow)).toBe(0);

  // a setup change made in the following tab: both tabs' totals follow, still regraded by the leader only
  await setCourseAggregation(follow, 'rsmall', 'c-course', 'Highest grade');
  await follow.getByRole('link', { name: 'Grader report' }).click();
  await expect(cell(follow, 'course', 's1')).toHaveText('90.00');
  await expect(cell(lead, 'course', 's1')).toHaveText('90.00');
  await expect(cell(lead, 'course', 's2')).toHaveText('50.00');
  expect(await regrades(lead)).toBeGreaterThan(led);
  expect(await regrades(follow)).toBe(0);
  const marks = await follow.evaluate(() => performance.getEntriesByName('markbook:regrade').length);
  expect(marks).toBe(0);

  // the leader closes: the other tab starts its own worker and keeps regrading
  await lead.close();
  await expect.poll(() => regrades(follow)).toBeGreaterThan(0);
  // by keyboard: down from the first row to the cell
  await cell(follow, 'i-b', 's1').click();
  await follow.keyboard.press('ArrowDown');
  await expect(cell(follow, 'i-b', 's2')).toBeFocused();
  await follow.keyboard.type('95');
  await follow.keyboard.press('Enter');
  await expect(cell(follow, 'course', 's2')).toHaveText('95.00');
  await ctx.close();
});

test('a slow full rebuild shows its progress; Cancel keeps the old totals marked out of date; Regrade now brings the new ones', async ({ browser }) => {
  test.setTimeout(240_000);
  const ctx = await newContext(browser);
  const lead = await ctx.newPage();
  await signIn(lead, 'rteacher');
  await lead.goto('/course?id=rbig');
  await expect(lead.getByTestId('grader-grid')).toBeVisible({ timeout: 120_000 });
  const row = big.users![0]!.id;
  const total = cell(lead, 'course', row);
  await expect(total).toHaveText(/\d/, { timeout: 120_000 });
  const before = await total.textContent();
  // what the total becomes with "Highest grade", from a fresh build of the same course in this process
  const after = courseTotalWith('highest', row);
  expect(after).not.toBeNull();
  expect(after!.toFixed(2)).not.toBe(before);

  // another device changes the setup (a separate browser profile, so its own renderer process: the setup page builds
  // an engine on its main thread, which would otherwise share this tab's); the tab on the grader report rebuilds
  const device2 = await newContext(browser);
  const other = await device2.newPage();
  await signIn(other, 'rteacher');
  // the tab presses Cancel as soon as the progress bar shows
  const seen = lead.evaluate(cancelWhenProgressShows);
  await setCourseAggregation(other, 'rbig', 'cat0', 'Highest grade');
  const shown = await seen;
  expect(shown).toEqual({ label: 'Totals are being recalculated', max: 100, outdated: true });
  await expect(lead.getByTestId('regrade-status')).toContainText('Totals out of date');
  await expect(lead.getByRole('progressbar')).toHaveCount(0);
  await expect(total).toHaveText(before!);
  await expect(lead.getByTestId('grid-wrap')).toHaveClass(/outdated/);

  // keyboard: Regrade now is reachable and works from the keyboard
  const again = lead.getByRole('button', { name: 'Regrade now' });
  await again.focus();
  await lead.keyboard.press('Enter');
  await expect(total).toHaveText(after!.toFixed(2), { timeout: 60_000 });
  await expect(lead.getByTestId('regrade-status')).toHaveCount(0);
  await expect(lead.getByTestId('grid-wrap')).not.toHaveClass(/outdated/);
  await device2.close();
  await ctx.close();
});

/**
 * Run in the page: waits for the rebuild's progress bar (an observer, not polling: on two busy cores a poll can miss a
 * rebuild of a second or two), presses its Cancel as soon as it shows, and says what was shown.
 */
function cancelWhenProgressShows(): Promise<{ label: string; max: number; outdated: boolean }> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const bar = document.querySelector('[data-testid="regrade-status"] progress') as HTMLProgressElement | null;
      if (!bar) return false;
      const label = document.getElementById(bar.getAttribute('aria-labelledby') ?? '')?.textContent ?? '';
      const outdated = document.querySelector('[data-testid="grid-wrap"]')!.classList.contains('outdated');
      (document.querySelector('[data-testid="regrade-status"] button') as HTMLButtonElement).click();
      resolve({ label, max: bar.max, outdated });
      return true;
    };
    if (check()) return;
    const mo = new MutationObserver(() => {
      if (check()) mo.disconnect();
    });
    mo.observe(document.body, { subtree: true, childList: true });
  });
}

/** A student's course total when the course total aggregates another way, from a fresh build in this process. */
function courseTotalWith(aggregation: 'highest' | 'lowest', user: string): number | null {
  const changed = structuredClone(big);
  changed.categories.find((c) => c.parent === null)!.aggregation = aggregation;
  const fresh = buildGridModel(changed, Math.floor(Date.now() / 1000));
  return fresh.final(fresh.columns.find((c) => c.isCourse)!, fresh.rows.find((r) => r.id === user)!);
}

/** Full rebuilds this tab's own regrade worker finished (its performance marks). */
async function rebuilds(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      performance
        .getEntriesByName('markbook:regrade')
        .filter((m) => (m as PerformanceMark).detail?.kind === 'rebuild').length,
  );
}

test('from a following tab: the rebuild shows its progress, Cancel stops it in the leading tab, Regrade now brings the new totals to both', async ({ browser }) => {
  test.setTimeout(300_000);
  const ctx = await newContext(browser);
  const lead = await ctx.newPage();
  await signIn(lead, 'rteacher');
  await lead.goto('/course?id=rbig');
  const row = big.users![0]!.id;
  const leadTotal = cell(lead, 'course', row);
  await expect(leadTotal).toHaveText(/\d/, { timeout: 120_000 });
  // a second tab of the same device follows the first (which leads the room and runs the worker)
  const follow = await ctx.newPage();
  await follow.goto('/course?id=rbig');
  const followTotal = cell(follow, 'course', row);
  await expect(followTotal).toHaveText(/\d/, { timeout: 120_000 });
  const before = await leadTotal.textContent();
  await expect(followTotal).toHaveText(before!);
  expect(await regrades(follow)).toBe(0);
  const leaderRebuilds = await rebuilds(lead);
  expect(leaderRebuilds).toBeGreaterThan(0);

  // "Lowest grade" differs from the course's own aggregation and from the one the test above sets, so this test
  // changes the totals whichever ran first; the expected total comes from a fresh build in this process
  const after = courseTotalWith('lowest', row);
  expect(after).not.toBeNull();
  expect(after!.toFixed(2)).not.toBe(before);

  // another device changes the setup; the FOLLOWING tab waits for the progress bar and
  // presses its Cancel as soon as it shows
  const device2 = await newContext(browser);
  const other = await device2.newPage();
  await signIn(other, 'rteacher');
  const seen = follow.evaluate(cancelWhenProgressShows);
  await setCourseAggregation(other, 'rbig', 'cat0', 'Lowest grade');
  const shown = await seen;
  expect(shown).toEqual({ label: 'Totals are being recalculated', max: 100, outdated: true });

  // both tabs: the rebuild stopped, the old totals stay, marked out of date
  for (const page of [follow, lead]) {
    await expect(page.getByTestId('regrade-status')).toContainText('Totals out of date');
    await expect(page.getByRole('progressbar')).toHaveCount(0);
    await expect(page.getByTestId('grid-wrap')).toHaveClass(/outdated/);
  }
  await expect(leadTotal).toHaveText(before!);
  await expect(followTotal).toHaveText(before!);

  // Regrade now, clicked in the following tab, is run by the leader and brings the new totals to both tabs
  await follow.getByRole('button', { name: 'Regrade now' }).click();
  await expect(followTotal).toHaveText(after!.toFixed(2), { timeout: 60_000 });
  await expect(leadTotal).toHaveText(after!.toFixed(2));
  for (const page of [follow, lead]) {
    await expect(page.getByTestId('regrade-status')).toHaveCount(0);
    await expect(page.getByTestId('grid-wrap')).not.toHaveClass(/outdated/);
  }
  // one full rebuild finished in the leader since the setup change (Regrade now's): the cancelled one never did;
  // the following tab regraded nothing itself
  expect(await rebuilds(lead)).toBe(leaderRebuilds + 1);
  expect(await regrades(follow)).toBe(0);
  await device2.close();
  await ctx.close();
});

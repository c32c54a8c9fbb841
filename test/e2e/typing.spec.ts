// Fast typing in the grader grid (issue #6, "type into a cell, Enter moves down"): a teacher who taps a cell and types
// at once, or types grade after grade down a column pressing Enter, loses no key. Runs its own sync and app servers
// (demo seed) on loopback over the shared build/, so the demo data other specs assert on stays untouched.
import { expect, test } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';
import { ownServers } from './own-servers';

const BASE_URL = ownServers('typing', Number(process.env.E2E_TYPING_PORT ?? 4296));

test('keys typed straight after a tap, and grade after grade down a column with Enter, all arrive', async ({ browser }) => {
  const ctx = await browser.newContext({ baseURL: BASE_URL });
  const page = await ctx.newPage();
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  // the first ten students as the grid shows them (sorted by name)
  const prefix = 'cell-i-lab2-';
  const users = (await page.locator(`[data-testid^="${prefix}"]`).evaluateAll((els, p) => els.map((e) => e.getAttribute('data-testid')!.slice(p.length)), prefix)).slice(0, 10);
  expect(users).toHaveLength(10);
  // tap a cell and type two digits at once (the tap's own focus must not take the keys away from the entry)
  // (twice over: the second pass, on a warm page, is the quicker one)
  for (const base of [10, 11]) {
    for (const [k, u] of users.entries()) {
      await cell(page, 'i-lab2', u).click();
      await page.keyboard.type(`${base + k}`);
      await page.keyboard.press('Enter');
    }
    for (const [k, u] of users.entries()) await expect(cell(page, 'i-lab2', u)).toHaveText(`${base + k}.00`);
  }
  // one tap, then ten grades typed down the column, Enter after each, no pause
  await cell(page, 'i-lab1', users[0]!).click();
  for (const k of users.keys()) {
    await page.keyboard.type(`${19 - k}`);
    await page.keyboard.press('Enter');
  }
  for (const [k, u] of users.entries()) await expect(cell(page, 'i-lab1', u)).toHaveText(`${19 - k}.00`);
  await ctx.close();
});

test('scrolling an entry out of view keeps it, and keys typed then go to that student, not to the row drawn in its place', async ({ browser }) => {
  const ctx = await browser.newContext({ baseURL: BASE_URL });
  const page = await ctx.newPage();
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  const grid = page.getByTestId('grader-grid');
  const prefix = 'cell-i-q1-';
  const first = (await page.locator(`[data-testid^="${prefix}"]`).first().getAttribute('data-testid'))!.slice(prefix.length);
  await cell(page, 'i-q1', first).click();
  await page.keyboard.type('7'); // the entry is open, not yet committed
  await expect(page.locator('#grid-editor')).toBeFocused();
  // scroll to the last students: the rows (and so the cell elements) on screen are reused for them
  const scroller = grid.locator('xpath=..');
  await scroller.hover();
  await page.mouse.wheel(0, 5000);
  await expect(grid.locator('tbody tr[aria-rowindex="41"]')).toHaveCount(1);
  await expect(cell(page, 'i-q1', first)).toHaveCount(0); // the first student is out of the page
  await expect(grid).toBeFocused(); // the grid holds the focus, not a cell now drawing someone else
  const bottom = await page.locator(`[data-testid^="${prefix}"]`).evaluateAll((els) => els.map((e) => [e.getAttribute('data-testid'), e.textContent]));
  // the next key goes to the first student's cell, brought back into view, and starts a new entry there
  await page.keyboard.type('8');
  await expect(page.locator('#grid-editor')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(cell(page, 'i-q1', first)).toHaveText('8.00');
  // and nothing the bottom rows showed changed (the entry of 7 was committed to the first student, then replaced)
  await page.mouse.wheel(0, 5000);
  for (const [id, text] of bottom) await expect(page.getByTestId(id!)).toHaveText(text!);
  await page.keyboard.press('Control+z');
  await page.mouse.wheel(0, -5000);
  await expect(cell(page, 'i-q1', first)).toHaveText('7.00');
  await ctx.close();
});

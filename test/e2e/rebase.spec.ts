// [SRV-REBASE] A server re-base in real Chromium: one teacher's edits push a course past the re-base threshold
// (MARKBOOK_REBASE_AFTER, set low in playwright.config.ts) while another grades offline; both end on the new epoch
// with the same grades, and the history page rebuilds times before the re-base from the server's archives (also
// after a second re-base while it stays open).
import { expect, test, type Page } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';

/** Calculus I: 25 students, six 0-100 assignments, course total = mean (no other e2e test writes to it). */
const COURSE = 'math110';
const STUDENTS = 25;
const sync = `http://127.0.0.1:${Number(process.env.E2E_SYNC_PORT ?? 4274)}`; // as playwright.config.ts

/**
 * Opens the cell's editor (Enter) and fills it once it has focus, then commits: typing speed is not under test here.
 * Opening is retried: a regrade landing at that moment may repaint the grid under the click.
 */
async function typeGrade(page: Page, item: string, user: string, value: string): Promise<void> {
  const editor = page.locator('#grid-editor');
  await expect(async () => {
    if (!(await editor.count())) {
      await cell(page, item, user).click();
      await page.keyboard.press('Enter');
    }
    await expect(editor).toBeFocused({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await editor.fill(value);
  await editor.press('Enter');
  await expect(editor).toHaveCount(0);
}

/** Pastes the same five values into every student's Assignments 1-5: one bulk step of up to 125 changes. */
async function pasteBlock(page: Page, values: number[]): Promise<void> {
  const text = Array.from({ length: STUDENTS }, () => values.join('\t')).join('\n') + '\n';
  const preview = page.getByTestId('bulk-preview');
  await expect(async () => {
    const first = cell(page, 'i-a1', 's20'); // first row by name (Ada Eriksen), first assignment
    await first.click();
    await expect(first).toBeFocused({ timeout: 1000 });
    await first.evaluate((el, t) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', t);
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, text);
    await expect(preview).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  // grades that already hold the pasted value are no change; the rest (most of 125) each add one log entry
  const changes = Number(await preview.getByTestId('bulk-count').textContent());
  expect(changes).toBeGreaterThan(100);
  expect(changes).toBeLessThanOrEqual(STUDENTS * values.length);
  await preview.getByRole('button', { name: 'Apply' }).click();
  await expect(preview).toHaveCount(0);
}

/** The browser's local time now (whole seconds), as the history page's datetime-local input takes it. */
async function stampNow(page: Page): Promise<string> {
  const stamp = await page.evaluate(() => {
    const d = new Date();
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  });
  await page.waitForTimeout(1100); // history times are whole seconds: later changes must fall after the stamp
  return stamp;
}

async function archivedEpochs(): Promise<number> {
  const login = await fetch(`${sync}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'teacher2', password: 'markbook' }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const res = await fetch(`${sync}/courses/${COURSE}/archives`, { headers: { authorization: `Bearer ${accessToken}` } });
  return ((await res.json()) as { archives: unknown[] }).archives.length;
}

test('[SRV-REBASE] a re-base while one grader is offline: both follow the new epoch, same grades, history from the archive', async ({ browser }) => {
  test.setTimeout(150_000);
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  await signIn(a, 'teacher2');
  await signIn(b, 'admin'); // a site admin grades as a manager in every course
  await openCourse(a, 'Calculus I');
  await openCourse(b, 'Calculus I');
  for (const p of [a, b]) await expect(p.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');
  const archived = await archivedEpochs(); // 0 on the fresh data dir of a run
  const seeded = (await cell(a, 'i-a1', 's40').textContent())!.trim();
  const beforeAll = await stampNow(a);

  // B goes offline and grades Assignment 6, which A leaves alone
  await ctxB.setOffline(true);
  await expect(b.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
  await typeGrade(b, 'i-a6', 's20', '44');
  await typeGrade(b, 'i-a6', 's23', '33');
  await expect(cell(b, 'i-a6', 's20')).toHaveText('44.00');
  await expect(cell(b, 'i-a6', 's23')).toHaveText('33.00');

  // A grades online: one typed grade and a first block (1 + 125 entries: under the threshold of 200)
  await typeGrade(a, 'i-a6', 's40', '80');
  await pasteBlock(a, [61, 62, 63, 64, 65]);
  await expect(cell(a, 'i-a5', 's40')).toHaveText('65.00');
  await expect(a.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');
  expect(await archivedEpochs()).toBe(archived);
  const afterFirstBlock = await stampNow(a);

  // a second block takes the course past the threshold: the server folds the epoch and archives its log
  await pasteBlock(a, [71, 72, 73, 74, 75]);
  await expect.poll(archivedEpochs, { timeout: 20_000 }).toBe(archived + 1);

  // A keeps working on the new epoch: its grades and totals stand (mean of the six assignments)
  await expect(cell(a, 'i-a1', 's40')).toHaveText('71.00');
  await expect(cell(a, 'i-a6', 's40')).toHaveText('80.00');
  await expect(cell(a, 'course', 's40')).toHaveText('74.17'); // (71+72+73+74+75+80)/6
  // a grade typed after the re-base goes into the new epoch, moves the total, and undoes
  await typeGrade(a, 'i-a6', 's40', '90');
  await expect(cell(a, 'course', 's40')).toHaveText('75.83'); // (365+90)/6
  await a.getByRole('button', { name: 'Undo' }).click();
  await expect(cell(a, 'i-a6', 's40')).toHaveText('80.00');
  await expect(cell(a, 'course', 's40')).toHaveText('74.17');

  // B comes back: its offline grades are replayed onto the new epoch, and both show the same grades
  await ctxB.setOffline(false);
  await expect(b.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced', { timeout: 30_000 });
  const expected: [string, string, string][] = [
    ['i-a6', 's20', '44.00'],
    ['i-a6', 's23', '33.00'],
    ['course', 's20', '68.17'], // (71+72+73+74+75+44)/6
    ['course', 's23', '66.33'], // (365+33)/6
    ['i-a1', 's40', '71.00'],
    ['i-a6', 's40', '80.00'],
    ['course', 's40', '74.17'],
  ];
  for (const p of [a, b])
    for (const [col, user, text] of expected) await expect(cell(p, col, user), `${col}/${user}`).toHaveText(text, { timeout: 20_000 });
  for (const p of [a, b]) await expect(p.getByRole('button', { name: /conflict/ })).toHaveCount(0);
  expect(await archivedEpochs()).toBe(archived + 1); // B's replay did not fold the course again

  // the history page: the current epoch starts with the re-base; times before it come from the archive
  await a.getByRole('link', { name: 'History' }).click();
  await expect(a.getByTestId('history-table')).toContainText('History compacted (re-base)');
  const past = a.getByTestId('past-report');
  await a.getByLabel('Grader report as it stood at').fill(afterFirstBlock);
  await expect(cell(past, 'i-a1', 's40')).toHaveText('61.00');
  await expect(cell(past, 'i-a6', 's40')).toHaveText('80.00');
  await expect(cell(past, 'course', 's40')).toHaveText('65.83'); // (61+62+63+64+65+80)/6
  await a.getByLabel('Grader report as it stood at').fill(beforeAll);
  await expect(cell(past, 'i-a1', 's40')).toHaveText(seeded);

  // a second re-base (B's two blocks) while A's history page stays open: a time in the epoch folded since
  // is fetched anew (the archives the page fetched before do not hold it)
  await pasteBlock(b, [81, 82, 83, 84, 85]);
  await expect(cell(b, 'i-a5', 's40')).toHaveText('85.00');
  const inSecondEpoch = await stampNow(b);
  await pasteBlock(b, [91, 92, 93, 94, 95]);
  await expect.poll(archivedEpochs, { timeout: 20_000 }).toBe(archived + 2);
  // A's open page follows: the current log now holds only the new re-base
  await expect(a.getByTestId('history-table').locator('tbody tr')).toHaveCount(1);
  await expect(a.getByTestId('history-table')).toContainText('History compacted (re-base)');
  await a.getByLabel('Grader report as it stood at').fill(inSecondEpoch);
  await expect(cell(past, 'i-a1', 's40')).toHaveText('81.00');
  await expect(cell(past, 'course', 's40')).toHaveText('82.50'); // (81+82+83+84+85+80)/6
  await expect(cell(b, 'course', 's40')).toHaveText('90.83'); // (91+92+93+94+95+80)/6, live on B
  await ctxA.close();
  await ctxB.close();
});

// History in real Chromium: a change appears in the log with old and new values, the grader report can be
// seen as it stood before it, and reverting it is a new change.
import { expect, test } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';

test('a teacher sees a change in the history, the report as it stood before, and reverts it', async ({ page }) => {
  await signIn(page, 'teacher2');
  await openCourse(page, 'Physics 101');
  const before = (await cell(page, 'i-lab2', 's20').textContent())!.trim();
  // a local datetime string one second before the change, in the browser's own time zone
  const stamp = await page.evaluate(() => {
    const d = new Date(Date.now() - 1000);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  });
  await page.waitForTimeout(1100); // the change must fall in a later second than the stamp (history times are seconds)
  await cell(page, 'i-lab2', 's20').click();
  await page.keyboard.type('3');
  await page.keyboard.press('Enter');
  await expect(cell(page, 'i-lab2', 's20')).toHaveText('3.00');

  await page.getByRole('link', { name: 'History' }).click();
  await page.getByLabel('Student').selectOption({ label: 'Ada Eriksen' });
  const log = page.getByTestId('history-table');
  const row = log.locator('tbody tr').first();
  await expect(row).toContainText('Lab 2: Projectiles · Ada Eriksen');
  await expect(row).toContainText(before.replace(/\.00$/, '').replace(/0$/, ''));
  await expect(row).toContainText('3');

  await page.getByLabel('Grader report as it stood at').fill(stamp);
  const past = page.getByTestId('past-report');
  await expect(cell(past, 'i-lab2', 's20')).toHaveText(before);

  await row.getByRole('button', { name: 'Revert' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Reverted' })).toBeVisible();
  await page.getByRole('link', { name: 'Physics 101' }).click();
  await expect(cell(page, 'i-lab2', 's20')).toHaveText(before);
});

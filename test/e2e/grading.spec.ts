// A teacher's grading flow in real Chromium: keyboard entry (Enter moves down), an outlier warning,
// pasting a block from a spreadsheet with a preview, and undo of one's own steps.
import { expect, test } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';

test('a teacher grades by keyboard and paste, and undoes', async ({ page }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');

  // type, Enter moves down to the next student in the same column
  await cell(page, 'i-q2', 's20').click();
  await page.keyboard.type('7');
  await page.keyboard.press('Enter');
  await expect(cell(page, 'i-q2', 's20')).toHaveText('7.00');
  await page.keyboard.type('8,5');
  await page.keyboard.press('Enter');
  await expect(cell(page, 'i-q2', 's40')).toHaveText('8.50');

  // an outlier needs a second Enter
  await cell(page, 'i-q2', 's20').click();
  await page.keyboard.type('99');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'typing slip' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(cell(page, 'i-q2', 's20')).toHaveText('7.00');

  // paste a 2 x 2 block from a spreadsheet at Quiz 1 / first student
  await cell(page, 'i-q1', 's20').click();
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData('text/plain', '1\t2\n3\t4\n');
    document.activeElement!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  const preview = page.getByTestId('bulk-preview');
  await expect(preview).toBeVisible();
  await expect(preview.getByTestId('bulk-count')).toHaveText('4');
  await preview.getByRole('button', { name: 'Apply' }).click();
  await expect(cell(page, 'i-q1', 's20')).toHaveText('1.00');
  await expect(cell(page, 'i-q2', 's40')).toHaveText('4.00');

  // undo takes back the whole paste as one step, then the typed grade
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(cell(page, 'i-q2', 's40')).toHaveText('8.50');
  await expect(cell(page, 'i-q1', 's20')).not.toHaveText('1.00');
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(cell(page, 'i-q2', 's40')).not.toHaveText('8.50');
  await page.getByRole('button', { name: 'Redo' }).click();
  await expect(cell(page, 'i-q2', 's40')).toHaveText('8.50');

  // a shorthand code of one's own: "inc" means 0 and excluded
  await page.getByText('Shorthand codes').click();
  await page.getByRole('button', { name: 'Add a code' }).click();
  await page.getByLabel('Code 3', { exact: true }).fill('inc');
  await page.getByLabel('Grade for code 3').fill('0');
  await page.getByLabel('Code 3 excludes the grade').check();
  await page.getByRole('button', { name: 'Save codes' }).click();
  await cell(page, 'i-q3', 's20').click();
  await page.keyboard.type('inc');
  await page.keyboard.press('Enter');
  await expect(cell(page, 'i-q3', 's20')).toHaveClass(/excluded/);
  await expect(cell(page, 'i-q3', 's20')).toContainText('0.00');
});

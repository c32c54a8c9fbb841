// Import and export in real Chromium: a CSV with one bad row imports nothing and names the row and column;
// the corrected file imports as one undoable step; an export downloads a file and reports what it holds.
import { expect, test } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';

test('a CSV with a bad row imports nothing and names it; the fixed file imports; export reports its content', async ({ page }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Modern History');
  const before = (await cell(page, 'i-a1', 's20').textContent())!.trim();
  await page.getByRole('link', { name: 'Import / export' }).click();

  const bad = 'id,Assignment 1,Assignment 2\ns20,55,60\ns21,abc,61\n';
  await page.getByLabel('CSV file, or Moodle XML results file').setInputFiles({ name: 'grades.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.getByRole('button', { name: 'Preview the import' }).click();
  const problems = page.getByTestId('import-problems');
  await expect(problems).toContainText('row 3');
  await expect(problems).toContainText('Assignment 1');
  await expect(page.getByRole('button', { name: /^Import \d+ change/ })).toHaveCount(0);
  await page.getByRole('link', { name: 'Modern History' }).click();
  await expect(cell(page, 'i-a1', 's20')).toHaveText(before);

  await page.getByRole('link', { name: 'Import / export' }).click();
  const good = 'id,Assignment 1,Assignment 2\ns20,55,60\ns21,58,61\n';
  await page.getByLabel('CSV file, or Moodle XML results file').setInputFiles({ name: 'grades.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await page.getByRole('button', { name: 'Preview the import' }).click();
  await expect(page.getByTestId('import-plan')).toContainText('change(s)');
  await page.getByRole('button', { name: /^Import \d+ change/ }).click();
  await expect(page.getByTestId('transfer-status')).toContainText('Imported');

  const download = page.waitForEvent('download');
  await page.getByLabel('Format').selectOption('csv');
  await page.getByRole('button', { name: 'Export' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('hist201-grades.csv');
  await expect(page.getByTestId('export-summary')).toContainText('25 user(s)');

  await page.getByRole('link', { name: 'Modern History' }).click();
  await expect(cell(page, 'i-a1', 's20')).toHaveText('55.00');
  await expect(cell(page, 'i-a2', 's21')).toHaveText('61.00');
});

// Reports in real Chromium: a teacher opens a student's user report, and switching to the student's view
// hides what is hidden from students (Physics 101's final exam is hidden; totals follow the course setting).
import { expect, test } from '@playwright/test';
import { openCourse, signIn } from './helpers';

test('a teacher reads a user report, and the student view hides hidden items', async ({ page }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  await page.getByRole('link', { name: 'User report' }).click();
  const report = page.getByTestId('user-report');
  await expect(report).toBeVisible();
  await page.getByLabel('Student').selectOption({ label: 'Ben Dubois' });
  await expect(report).toContainText('Ben Dubois: teacher view');
  await expect(report.getByTestId('grade-i-final')).toHaveText(/\d/);
  await expect(report.getByTestId('grade-course')).toHaveText(/\d/);
  const teacherTotal = await report.getByTestId('grade-course').textContent();
  await page.screenshot({ path: 'test-results/screens/user-report.png', fullPage: true });

  await page.getByLabel('View as').selectOption('student');
  await expect(report).toContainText('as the student sees it');
  // hidden item: not shown to the student; with "hide totals if they contain hidden items" = Hide, the totals are blank
  await expect(report.locator('[data-item="i-final"]')).toHaveCount(0);
  await expect(report.getByTestId('grade-course')).not.toHaveText(teacherTotal!);
});

test('the outcomes report shows each outcome with its average on the scale and the number rated', async ({ page }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  await page.getByRole('link', { name: 'Outcomes' }).click();
  const row = page.getByTestId('outcomes-report').getByRole('row', { name: /scientific communication/ });
  await expect(row).toContainText('Not yet, Developing, Competent, Excellent');
  const cells = row.getByRole('cell');
  await expect(cells.nth(1)).toHaveText(/^(Not yet|Developing|Competent|Excellent)\s*\([1-4]\.\d\d\)$/);
  await expect(cells.nth(2)).toHaveText('32'); // four out of five students are rated
});

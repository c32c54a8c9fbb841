// Pictures in real Chromium: a grade distribution per item and per total, and a student's trend, each with
// its numbers as a table; no serious accessibility violations.
import { expect, test } from '@playwright/test';
import { seriousViolations } from './axe';
import { openCourse, signIn } from './helpers';

test('a teacher sees the distribution of an item and a student trend', async ({ page }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  await page.getByRole('link', { name: 'Statistics' }).click();
  const dist = page.getByTestId('distribution');
  await expect(dist).toContainText('Course total: 40 graded');
  await page.getByLabel('Item or total').selectOption({ label: 'Final exam' });
  await expect(dist).toContainText('Final exam:');
  const [, graded, missing] = /Final exam: (\d+) graded, (\d+) without a grade/.exec((await dist.textContent()) ?? '') ?? [];
  expect(Number(graded) + Number(missing)).toBe(40);
  expect(Number(missing)).toBeGreaterThanOrEqual(10); // a quarter of the class has not sat the final yet
  await expect(dist.locator('svg rect')).toHaveCount(10);
  await page.getByLabel('Student', { exact: true }).selectOption({ label: 'Ben Dubois' });
  await expect(page.getByTestId('trend')).toContainText('Ben Dubois: percentage per item');
  await page.screenshot({ path: 'test-results/screens/statistics.png', fullPage: true });
  expect(await seriousViolations(page)).toEqual([]);
});

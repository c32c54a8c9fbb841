// The overview report in real Chromium: a student's totals across their courses (released grades only),
// and a teacher's view of one student across the courses they teach.
import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('a student sees their totals across courses; a teacher sees a student across their courses', async ({ page, browser }) => {
  await signIn(page, 'student20');
  await page.getByRole('link', { name: 'Overview' }).click();
  const own = page.getByTestId('overview-own');
  await expect(own.getByRole('row')).toHaveCount(4); // header + the three demo courses student20 is enrolled in
  await expect(own).toContainText('Modern History');
  await expect(own).toContainText('Calculus I');
  await expect(own.getByRole('row', { name: /Modern History/ })).toContainText('%');

  const ctx = await browser.newContext();
  const tp = await ctx.newPage();
  await signIn(tp, 'teacher1');
  await tp.getByRole('link', { name: 'Overview' }).click();
  await tp.getByLabel('Student').selectOption({ label: 'Ada Eriksen' });
  const t = tp.getByTestId('overview-teacher');
  await expect(t.getByRole('row', { name: /Physics 101/ })).toContainText('%');
  await expect(t.getByRole('row', { name: /Modern History/ })).toContainText('%');
  await ctx.close();
});

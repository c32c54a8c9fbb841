// The grader report's views in real Chromium: filter by group with a group average, sort by a column,
// collapse a category to its total, and no serious accessibility violations.
import { expect, test } from '@playwright/test';
import { seriousViolations } from './axe';
import { openCourse, signIn } from './helpers';

test('filter by group, sort by course total, collapse a category; means cover everyone', async ({ page }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  const grid = page.getByTestId('grader-grid');
  await expect(grid).toHaveAttribute('aria-rowcount', '41');
  await expect(page.getByTestId('mean-course-Overall average')).toContainText('(40)');

  await page.getByLabel('Group').selectOption('Group A');
  await expect(grid).toHaveAttribute('aria-rowcount', '21');
  await expect(page.getByTestId('mean-course-Group A average')).toContainText('(20)');
  await expect(page.getByTestId('mean-course-Overall average')).toContainText('(40)');

  // sort by course total, descending: the first row holds the highest total
  await grid.getByRole('button', { name: /^Course total/ }).click();
  await grid.getByRole('button', { name: /^Course total/ }).click();
  await expect(grid.getByRole('columnheader', { name: /Course total/ })).toHaveAttribute('aria-sort', 'descending');
  const totals = await grid.locator('tbody td[data-testid^="cell-course-"]').allTextContents();
  const numbers = totals.map(Number).filter((n) => !Number.isNaN(n));
  expect(numbers.length).toBeGreaterThan(5);
  expect(numbers).toEqual([...numbers].sort((a, b) => b - a));

  // collapse Labs to its total: the lab columns go, the Labs total stays
  await grid.getByRole('button', { name: /^Labs: Full view/ }).click();
  await expect(grid.getByRole('columnheader', { name: /Lab 1: Pendulum/ })).toHaveCount(0);
  await expect(grid.getByRole('columnheader', { name: /Labs total/ })).toBeVisible();

  expect(await seriousViolations(page)).toEqual([]);
});

test('the selected grade: feedback, exclusion and per-grade lock; column hide; all undoable', async ({ page }) => {
  await signIn(page, 'teacher2');
  await openCourse(page, 'Physics 101');
  const c = page.getByTestId('cell-i-q2-s40');
  await c.click();
  const ins = page.getByTestId('cell-inspector');
  await expect(ins).toContainText('Ada Ivanova · Quiz 2');
  await ins.getByLabel('Feedback').fill('Good reasoning, check units.');
  await ins.getByRole('button', { name: 'Save feedback' }).click();
  await expect(c.getByLabel('has feedback')).toBeVisible();

  const totalBefore = await page.getByTestId('cell-c-quizzes-s40').textContent();
  await ins.getByLabel('Excluded from totals').check();
  await expect(c).toHaveClass(/excluded/);
  await expect(page.getByTestId('cell-c-quizzes-s40')).not.toHaveText(totalBefore!);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(c).not.toHaveClass(/excluded/);
  await expect(page.getByTestId('cell-c-quizzes-s40')).toHaveText(totalBefore!);

  await ins.getByLabel('Grade locked').check();
  await expect(c.getByLabel('locked')).toBeVisible();
  await ins.getByRole('button', { name: 'Hide from students' }).click();
  const header = page.getByTestId('grader-grid').getByRole('columnheader', { name: /Quiz 2/ });
  await expect(header).toContainText('hidden');
  // undo both, leaving the demo course as other tests expect it
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(header).not.toContainText('hidden');
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(c.getByLabel('locked')).toHaveCount(0);
});

test('[UX-3] a class longer than the screen: only rows in view are in the page; by keyboard to the last student, whose name, course total and the headers stay in view', async ({ page }) => {
  await signIn(page, 'assistant');
  await openCourse(page, 'Physics 101');
  const grid = page.getByTestId('grader-grid');
  await expect(grid).toHaveAttribute('aria-rowcount', '41');
  // virtualised: fewer row elements than students, in the order shown
  const shown = await grid.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('aria-rowindex'))));
  expect(shown.length).toBeLessThan(40);
  expect(shown).toEqual([...shown].sort((a, b) => a - b));

  /** Whether the element lies inside the grid's scrolling box (not scrolled out of it, not under another edge). */
  const inGrid = (selector: string) =>
    grid.evaluate((g, sel) => {
      const el = g.parentElement!.querySelector(sel); // the scroller: the table and its frozen columns
      if (!el) return false;
      const box = g.parentElement!.getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.left >= box.left - 1 && r.right <= box.right + 1;
    }, selector);

  /** Whether the focused cell is the element at its own centre (not covered by the frozen names or totals). */
  const focusUncovered = () =>
    grid.evaluate((g) => {
      const el = g.querySelector('td:focus');
      if (!el) return false;
      // the page itself may need scrolling for the cell to be in the window (elementFromPoint sees only the window)
      const below = el.getBoundingClientRect().bottom - window.innerHeight;
      if (below > 0) window.scrollBy(0, below + 4);
      const r = el.getBoundingClientRect();
      const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return top !== null && el.contains(top);
    });

  await grid.locator('tbody td[role="gridcell"]').first().focus();
  // down one student at a time: the grid follows, and no cell ends up under the header or the means row
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press('ArrowDown');
    await expect(grid.locator('td:focus')).toHaveAttribute('data-r', String(i + 1));
    await expect.poll(focusUncovered).toBe(true);
  }
  for (let i = 0; i < 5; i++) await page.keyboard.press('PageDown');
  await expect(grid.locator('td:focus')).toHaveAttribute('data-r', '39');
  await expect.poll(() => inGrid('td:focus')).toBe(true);
  await expect.poll(() => inGrid('.fname[data-r="39"]')).toBe(true);
  await expect.poll(() => inGrid('.ftotal[data-r="39"]')).toBe(true);
  await expect.poll(() => inGrid('thead th.corner')).toBe(true);
  expect(await grid.locator('tbody tr[aria-rowindex="2"]').count()).toBe(0); // the first student's row left the page

  // right to the course total, the last column: its pinned copy shows the focus
  for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
  await expect(grid.locator('td:focus')).toHaveAttribute('data-testid', /^cell-course-/);
  await expect(page.locator('.ftotal.focused')).toHaveAttribute('data-r', '39');
  await expect.poll(() => inGrid('.ftotal.focused')).toBe(true);
  // one left, the last item column: in view, and neither the name column nor the course total covers it
  await page.keyboard.press('ArrowLeft');
  await expect.poll(() => inGrid('td:focus')).toBe(true);
  await expect.poll(focusUncovered).toBe(true);
  await expect.poll(() => inGrid('.fname[data-r="39"]')).toBe(true);
  await expect.poll(() => inGrid('.ftotal[data-r="39"]')).toBe(true);
  await expect.poll(() => inGrid('thead th.pinned')).toBe(true);
  // back to the first column, then right one column at a time: every cell is uncovered as the grid follows
  await page.keyboard.press('Home');
  for (let i = 0; i < 10; i++) {
    await expect.poll(focusUncovered).toBe(true);
    await page.keyboard.press('ArrowRight');
  }
});

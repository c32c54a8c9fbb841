// Gradebook setup in real Chromium against `npm start`: a teacher changes Modern History's setup (aggregation,
// weights, a calculation, a move) and sees the grader report follow; an axe scan finds no serious problems.
// Uses Modern History (hist201), which no other e2e file changes; the tests run in order on one data dir.
import { expect, test, type Page } from '@playwright/test';
import { seriousViolations } from './axe';
import { cell, openCourse, signIn } from './helpers';

const ITEMS = ['i-a1', 'i-a2', 'i-a3', 'i-a4'];

async function openSetup(page: Page): Promise<void> {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Modern History');
  await page.getByRole('link', { name: 'Gradebook setup' }).click();
  await expect(page.getByTestId('setup-tree')).toBeVisible();
}

async function setCourseAggregation(page: Page, label: string): Promise<void> {
  await page.getByTestId('setup-row-c-course').getByRole('button', { name: /^Edit/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Aggregation').selectOption({ label });
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('setup-row-c-course')).toContainText(label);
}

const num = (s: string | null): number => Number((s ?? '').replace(/[^\d.-]/g, ''));

test('[SET-3] a teacher changes the course aggregation and the grader report totals follow', async ({
  page,
}) => {
  await openSetup(page);
  await setCourseAggregation(page, 'Highest grade');
  await page.getByRole('link', { name: 'Grader report' }).click();
  await expect(page.getByTestId('grader-grid')).toBeVisible();
  // with "Highest grade" over 0-100 items the course total (0-100) is the student's best assignment
  for (const student of ['s3', 's7']) {
    const grades = [];
    for (const it of ITEMS) {
      const t = await cell(page, it, student).textContent();
      if (t && /\d/.test(t)) grades.push(num(t));
    }
    await expect(cell(page, 'course', student)).toHaveText(Math.max(...grades).toFixed(2));
  }
});

test('[SET-2] editing a Natural weight renormalises the other effective weights', async ({ page }) => {
  await openSetup(page);
  await setCourseAggregation(page, 'Natural');
  // four 100-point items: 25 % each
  for (const it of ITEMS) await expect(page.getByTestId(`effective-${it}`)).toHaveText('25.00 %');
  const w = page.getByTestId('weight-i-a1');
  await w.fill('50');
  await w.press('Enter');
  await expect(page.getByTestId('effective-i-a1')).toHaveText('50.00 %');
  for (const it of ITEMS.slice(1)) await expect(page.getByTestId(`effective-${it}`)).toHaveText('16.67 %');
  await expect(page.getByTestId('setup-status')).toContainText('Weight of Assignment 1 saved');
  // one undo puts the automatic weights back
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('effective-i-a1')).toHaveText('25.00 %');
});

test('[SET-6] a calculation with a typo shows the error at its position and is fixed via completion', async ({
  page,
}) => {
  await openSetup(page);
  await page
    .getByTestId('setup-row-c-course')
    .getByRole('button', { name: /^Add item/ })
    .click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Item name').fill('Mean of the first two');
  await dialog.getByLabel('ID number').fill('a1');
  await expect(dialog.locator('#item-idnumber-err')).toContainText('already used');
  await dialog.getByLabel('ID number').fill('first2');
  await expect(dialog.locator('#item-idnumber-err')).toHaveText('');
  await dialog.getByText('Calculation', { exact: true }).first().click();
  const calc = dialog.getByTestId('calculation');
  const typo = '=([[a1]] + [[a9]]) / 2';
  await calc.fill(typo);
  const status = dialog.getByTestId('calculation-status');
  await expect(status).toContainText('[[a9]]');
  await expect(status).toContainText(`at column ${typo.indexOf('[[a9]]') + 1}`);
  await expect(dialog.getByTestId('calculation-where').locator('mark')).toHaveText('[');
  // retype the second reference with completion: [[a lists a1..a4; ArrowDown picks a2, Enter inserts it
  await calc.fill('');
  await calc.pressSequentially('=([[a1]] + [[a');
  const list = dialog.getByRole('listbox', { name: 'Item idnumbers' });
  await expect(list).toBeVisible();
  await expect(calc).toHaveAttribute('aria-expanded', 'true');
  await expect(list.getByRole('option')).toHaveCount(4);
  await calc.press('ArrowDown');
  await expect(list.getByRole('option', { selected: true })).toContainText('[[a2]]');
  await calc.press('Enter');
  await expect(calc).toHaveValue('=([[a1]] + [[a2]]');
  await expect(list).toBeHidden();
  await calc.pressSequentially(') / 2');
  await expect(status).toContainText('Calculation is valid');
  await expect(dialog.getByTestId('depends-on')).toContainText('Assignment 1');
  await expect(dialog.getByTestId('depends-on')).toContainText('Assignment 2');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  const row = page.locator('tr', { hasText: 'Mean of the first two' });
  await expect(row).toContainText('Calculated');
  // the grader report shows the new calculated column with (a1 + a2) / 2
  await page.getByRole('link', { name: 'Grader report' }).click();
  const grid = page.getByTestId('grader-grid');
  await expect(grid.getByRole('columnheader', { name: /Mean of the first two/ })).toBeVisible();
});

test('[SET-1][SET-4] the tree works by keyboard and an item moves with the keyboard', async ({ page }) => {
  await openSetup(page);
  const course = page.getByTestId('setup-row-c-course');
  await course.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('setup-row-i-a1')).toBeFocused();
  await page.keyboard.press('ArrowLeft'); // on an item: to its parent
  await expect(course).toBeFocused();
  await page.keyboard.press('ArrowLeft'); // collapse
  await expect(course).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByTestId('setup-row-i-a1')).toHaveCount(0);
  await page.keyboard.press('ArrowRight'); // expand
  await expect(course).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('End');
  await expect(page.locator('tr[data-testid^="setup-row-"]').last()).toBeFocused();

  // M on a focused row opens its Move dialog; Escape closes it and focus goes back to the row
  await page.getByTestId('setup-row-i-a4').focus();
  await page.keyboard.press('m');
  await expect(page.getByRole('dialog', { name: /Move Assignment 4/ })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('setup-row-i-a4')).toBeFocused();

  // Move Assignment 4 before Assignment 1, keyboard only
  const move = page.getByTestId('setup-row-i-a4').getByRole('button', { name: /^Move/ });
  await page.getByTestId('setup-row-i-a4').focus();
  await move.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: /Move Assignment 4/ });
  await expect(dialog).toBeVisible();
  // focus starts on the chosen place (a radio in the "Move to" group), not on the close button
  await expect(dialog.getByRole('group', { name: 'Move to' }).getByRole('radio').first()).toBeFocused();
  const target = dialog.getByLabel('Before "Assignment 1" in Modern History');
  await target.focus();
  await page.keyboard.press('Space');
  await expect(target).toBeChecked();
  await dialog.getByRole('button', { name: 'Move', exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  const items = page.locator('tr[data-testid^="setup-row-i-"]');
  await expect(items.first()).toHaveAttribute('data-testid', 'setup-row-i-a4');
  await expect(page.getByTestId('setup-status')).toContainText('Moved Assignment 4');
  await expect(page.getByTestId('setup-row-i-a4')).toBeFocused(); // focus follows the moved row
  // the grader report's first column is now Assignment 4
  await page.getByRole('link', { name: 'Grader report' }).click();
  await expect(page.getByTestId('grader-grid').getByRole('columnheader').nth(1)).toContainText(
    'Assignment 4',
  );
});

test('[SET-9] without grade:manage the setup is read-only', async ({ page }) => {
  await signIn(page, 'assistant');
  await openCourse(page, 'Physics 101');
  await page.getByRole('link', { name: 'Gradebook setup' }).click();
  await expect(page.getByTestId('setup-tree')).toBeVisible();
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByRole('button', { name: /^Move/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Delete/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^View/ }).first()).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/setup-physics.png', fullPage: true });
});

test('[SET-11] the setup page and its item dialog have no serious or critical axe violations', async ({
  page,
}) => {
  await openSetup(page);
  const scan = async () => {
    await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
    const result = await page.evaluate(async () => {
      const axe = (
        window as unknown as {
          axe: {
            run: (ctx?: unknown) => Promise<{
              violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[];
            }>;
          };
        }
      ).axe;
      return axe.run(document);
    });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  };
  expect(await scan()).toEqual([]);
  await page.screenshot({ path: 'test-results/screens/setup.png', fullPage: true });
  await page.getByTestId('setup-row-i-a2').getByRole('button', { name: /^Edit/ }).click();
  await page.getByRole('dialog').getByText('Calculation', { exact: true }).first().click();
  await page.getByRole('dialog').getByTestId('calculation').fill('=[[a');
  expect(await scan()).toEqual([]);
  await page.screenshot({ path: 'test-results/screens/setup-item.png', fullPage: true });
});

test('[SET-5][SET-8] delete says what goes; clean-up deletes empty columns in one step that undo restores', async ({
  page,
}) => {
  await openSetup(page);
  // an empty column: no grades, nothing reads it
  await page
    .getByTestId('setup-row-c-course')
    .getByRole('button', { name: /^Add item/ })
    .click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Item name').fill('Old attendance column');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  const emptyRow = page.locator('tr', { hasText: 'Old attendance column' });
  await expect(emptyRow).toHaveCount(1);

  // deleting a graded item names the grades it takes
  await page
    .getByTestId('setup-row-i-a2')
    .getByRole('button', { name: /^Delete/ })
    .click();
  dialog = page.getByRole('dialog', { name: 'Delete Assignment 2?' });
  await expect(dialog.getByTestId('delete-consequences')).toContainText(
    /\d+ grades in "Assignment 2" will be deleted/,
  );
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('setup-row-i-a2')).toHaveCount(1);

  await page.getByRole('button', { name: 'Clean up empty columns' }).click();
  dialog = page.getByRole('dialog', { name: 'Clean up empty columns' });
  await expect(dialog.getByRole('checkbox', { name: /Old attendance column/ })).toBeChecked();
  await expect(dialog.getByRole('checkbox', { name: /Assignment/ })).toHaveCount(0);
  await dialog.getByRole('button', { name: /^Delete 1 column$/ }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(emptyRow).toHaveCount(0);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(emptyRow).toHaveCount(1);
});

test('[SET-4] an item moves by drag and drop onto another item', async ({ page }) => {
  await openSetup(page);
  const items = page.locator('tr[data-testid^="setup-row-i-"]');
  const firstBefore = await items.first().getAttribute('data-testid');
  await page.getByTestId('setup-row-i-a3').dragTo(page.locator(`tr[data-testid="${firstBefore}"]`));
  await expect(items.first()).toHaveAttribute('data-testid', 'setup-row-i-a3');
  await expect(page.getByTestId('setup-status')).toContainText('Moved Assignment 3');
});

test("[SET-7] changing an item range can keep each grade's percentage", async ({ page }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Modern History');
  const before = num(await cell(page, 'i-a2', 's3').textContent());
  await page.getByRole('link', { name: 'Gradebook setup' }).click();
  await page.getByTestId('setup-row-i-a2').getByRole('button', { name: /^Edit/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Maximum grade').fill('200');
  await dialog.getByLabel("Yes: keep each grade's percentage").check();
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('setup-row-i-a2')).toContainText('0–200');
  await page.getByRole('link', { name: 'Grader report' }).click();
  await expect(cell(page, 'i-a2', 's3')).toHaveText((before * 2).toFixed(2));
});

test('[SET-10] course settings: letters are checked and the choice is kept', async ({ page }) => {
  await openSetup(page);
  await page.getByRole('button', { name: 'Course settings' }).click();
  let dialog = page.getByRole('dialog', { name: 'Course grade settings' });
  await dialog.getByLabel('Grade display type').selectOption({ label: 'Real (letter)' });
  await dialog.getByLabel("Use this course's own letters").check();
  await dialog.getByLabel('Lowest percentage, row 1', { exact: true }).fill('101');
  await dialog.getByRole('button', { name: 'Save settings' }).click();
  await expect(dialog.locator('#set-letters-err')).toContainText('row 1');
  await dialog.getByLabel('Lowest percentage, row 1', { exact: true }).fill('95');
  await dialog.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('setup-status')).toHaveText('Settings saved.');
  await page.getByRole('button', { name: 'Course settings' }).click();
  dialog = page.getByRole('dialog', { name: 'Course grade settings' });
  await expect(dialog.getByLabel('Grade display type')).toHaveValue('real_letter');
  await expect(dialog.getByLabel('Lowest percentage, row 1', { exact: true })).toHaveValue('95');
});

test('[SET-7] renaming an ID number keeps the calculations that read it working', async ({ page }) => {
  await openSetup(page);
  await page
    .getByTestId('setup-row-c-course')
    .getByRole('button', { name: /^Add item/ })
    .click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Item name').fill('Assignment 3 doubled');
  await dialog.getByText('Calculation', { exact: true }).first().click();
  await dialog.getByTestId('calculation').fill('=[[a3]] * 2');
  await dialog.getByLabel('Maximum grade').fill('200');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);

  await page.getByTestId('setup-row-i-a3').getByRole('button', { name: /^Edit/ }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('ID number').fill('springs');
  await expect(dialog.locator('#item-idnumber-note')).toContainText('Assignment 3 doubled');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await page
    .locator('tr', { hasText: 'Assignment 3 doubled' })
    .getByRole('button', { name: /^Edit/ })
    .click();
  await expect(page.getByRole('dialog').getByTestId('calculation')).toHaveValue('=[[springs]] * 2');
  await expect(page.getByRole('dialog').getByTestId('calculation-status')).toContainText(
    'Calculation is valid',
  );
});

test("[SET-7] a category total's range change with rescale keeps an overridden total's percentage", async ({
  page,
}) => {
  await openSetup(page);
  await setCourseAggregation(page, 'Mean of grades'); // a total with its own range (Natural has none)
  await page.getByRole('link', { name: 'Grader report' }).click();
  const computedBefore = num(await cell(page, 'course', 's7').textContent());
  await page.getByTestId('pinned-course-s3').click(); // the course total as it shows, pinned at the right
  const ins = page.getByTestId('cell-inspector');
  await ins.getByLabel('Override total').fill('80');
  await ins.getByRole('button', { name: 'Override' }).click();
  await expect(cell(page, 'course', 's3')).toHaveText('80.00');

  await page.getByRole('link', { name: 'Gradebook setup' }).click();
  await page.getByTestId('setup-row-c-course').getByRole('button', { name: /^Edit/ }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('category-rescale')).toHaveCount(0); // nothing to ask while the range stays
  await dialog.getByLabel('Maximum grade of the total').fill('50');
  const ask = dialog.getByTestId('category-rescale');
  await expect(ask).toContainText('1 overridden total');
  // as in Moodle, the choice has no default: saving without one is refused and says why
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(ask).toContainText('choose whether to rescale');
  await expect(ask.getByRole('radio').first()).toBeFocused(); // the keyboard lands on the question
  await expect(page.getByRole('dialog')).toHaveCount(1);
  expect(await seriousViolations(page)).toEqual([]); // the question and its error pass axe (SET-11)
  await ask.getByLabel("Yes: keep each overridden total's percentage").check();
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('setup-row-c-course')).toContainText('0–50');

  await page.getByRole('link', { name: 'Grader report' }).click();
  await expect(cell(page, 'course', 's3')).toHaveText('40.00'); // 80 of 100 -> 40 of 50: still 80 %
  // a computed total is not overridden by the rescale: it is recomputed in the new range (half the points)
  await expect
    .poll(async () => Math.abs(num(await cell(page, 'course', 's7').textContent()) - computedBefore / 2))
    .toBeLessThanOrEqual(0.01);
  // the range change and the rescale are one undo step
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(cell(page, 'course', 's3')).toHaveText('80.00');
});

test.describe('on a touch screen', () => {
  test.use({ hasTouch: true, viewport: { width: 1024, height: 1366 } }); // a tablet held upright

  test('[SET-4] a row moves by dragging its grip with a finger, onto a visible drop target', async ({
    page,
  }) => {
    await openSetup(page);
    const items = page.locator('tr[data-testid^="setup-row-i-"]');
    const first = (await items.first().getAttribute('data-testid'))!.replace('setup-row-', '');
    const mover = (await items.nth(2).getAttribute('data-testid'))!.replace('setup-row-', '');
    await page.getByTestId(`setup-row-${first}`).scrollIntoViewIfNeeded();
    const grip = await page.getByTestId(`grip-${mover}`).boundingBox();
    const target = await page.getByTestId(`setup-row-${first}`).boundingBox();
    if (!grip || !target) throw new Error('rows not laid out');
    // real touch input through Chromium (Playwright's touchscreen only taps): it arrives as pointerType 'touch'
    const cdp = await page.context().newCDPSession(page);
    const at = (x: number, y: number) => [{ x: Math.round(x), y: Math.round(y) }];
    const from = { x: grip.x + grip.width / 2, y: grip.y + grip.height / 2 };
    const to = { x: target.x + target.width / 2, y: target.y + target.height / 2 };
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(from.x, from.y) });
    const STEPS = 6;
    for (let k = 1; k <= STEPS; k++)
      await cdp.send('Input.dispatchTouchEvent', {
        type: 'touchMove',
        touchPoints: at(from.x + ((to.x - from.x) * k) / STEPS, from.y + ((to.y - from.y) * k) / STEPS),
      });
    // while the finger is down the target row is marked and the ghost says where the row will go
    await expect(page.getByTestId(`setup-row-${first}`)).toHaveClass(/drop-before/);
    const name = (await page.getByTestId(`setup-row-${first}`).locator('.label').textContent())!.trim();
    await expect(page.getByTestId('drag-ghost')).toContainText(`Before ${name}`);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await expect(page.getByTestId('drag-ghost')).toHaveCount(0);
    await expect(items.first()).toHaveAttribute('data-testid', `setup-row-${mover}`);
    await expect(page.getByTestId('setup-status')).toContainText('Moved');
    await expect(page.getByTestId(`setup-row-${mover}`)).toBeFocused();
  });

  test('[SET-4] a touch drag the browser cancels, or one dropped where the row cannot go, moves nothing', async ({
    page,
  }) => {
    await openSetup(page);
    const items = page.locator('tr[data-testid^="setup-row-i-"]');
    const order = async () => items.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-testid')));
    const before = await order();
    const mover = before[1]!.replace('setup-row-', '');
    const grip = (await page.getByTestId(`grip-${mover}`).boundingBox())!;
    const target = (await items.first().boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd' | 'touchCancel', x = 0, y = 0) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints:
          type === 'touchEnd' || type === 'touchCancel' ? [] : [{ x: Math.round(x), y: Math.round(y) }],
      });
    await touch('touchStart', grip.x + grip.width / 2, grip.y + grip.height / 2);
    await touch('touchMove', 500, target.y + target.height / 2);
    await expect(items.first()).toHaveClass(/drop-before/);
    await touch('touchCancel'); // e.g. a system gesture takes the touch
    await expect(page.getByTestId('drag-ghost')).toHaveCount(0);
    await expect(items.first()).not.toHaveClass(/drop-before/);
    expect(await order()).toEqual(before);
    // dropped on the table header, which is not a place a row can go
    await touch('touchStart', grip.x + grip.width / 2, grip.y + grip.height / 2);
    const head = (await page.getByRole('columnheader', { name: 'Range' }).boundingBox())!;
    await touch('touchMove', head.x + head.width / 2, head.y + head.height / 2);
    await expect(page.getByTestId('drag-ghost')).toContainText('Not over a place it can go');
    await touch('touchEnd');
    await expect(page.getByTestId('drag-ghost')).toHaveCount(0);
    expect(await order()).toEqual(before);
  });

  test('[SET-4] holding a dragged row at the top edge scrolls a long tree up to a target out of view', async ({
    page,
  }) => {
    await page.setViewportSize({ width: 1024, height: 600 }); // a tablet on its side: the tree is taller
    await openSetup(page);
    const items = page.locator('tr[data-testid^="setup-row-i-"]');
    const first = (await items.first().getAttribute('data-testid'))!.replace('setup-row-', '');
    const mover = (await items.last().getAttribute('data-testid'))!.replace('setup-row-', '');
    await page.getByTestId(`grip-${mover}`).scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    const grip = (await page.getByTestId(`grip-${mover}`).boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number, y: number) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: type === 'touchEnd' ? [] : [{ x: Math.round(x), y: Math.round(y) }],
      });
    await touch('touchStart', grip.x + grip.width / 2, grip.y + grip.height / 2);
    await touch('touchMove', 500, 300);
    await touch('touchMove', 500, 20); // and hold it there, in the top edge band
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBe(0);
    const target = (await page.getByTestId(`setup-row-${first}`).boundingBox())!;
    await touch('touchMove', 500, target.y + target.height / 2);
    await expect(page.getByTestId(`setup-row-${first}`)).toHaveClass(/drop-before/);
    await touch('touchEnd', 0, 0);
    await expect(items.first()).toHaveAttribute('data-testid', `setup-row-${mover}`);
  });
});

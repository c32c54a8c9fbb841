// Several graders on one course: offline edits of the same grade become a visible conflict holding both
// values on both devices, and settling it is a change that reaches everyone. Real Chromium, real server.
import { expect, test, type Page } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';

async function typeGrade(page: Page, item: string, user: string, value: string): Promise<void> {
  await cell(page, item, user).click();
  await page.keyboard.type(value);
  await page.keyboard.press('Enter');
}

test('same-cell edits made offline on two devices give one visible conflict with both values, settled once for all', async ({ browser }) => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  const pa = await a.newPage();
  const pb = await b.newPage();
  await signIn(pa, 'teacher1');
  await signIn(pb, 'teacher2');
  await openCourse(pa, 'Physics 101');
  await openCourse(pb, 'Physics 101');
  await expect(pa.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');
  await expect(pb.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');

  await a.setOffline(true);
  await b.setOffline(true);
  await expect(pa.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
  await expect(pb.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
  await typeGrade(pa, 'i-lab1', 's40', '11');
  await typeGrade(pb, 'i-lab1', 's40', '14');
  await expect(cell(pa, 'i-lab1', 's40')).toHaveText('11.00');
  await expect(cell(pb, 'i-lab1', 's40')).toHaveText('14.00');

  await a.setOffline(false);
  await b.setOffline(false);
  for (const p of [pa, pb]) {
    await expect(p.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced', { timeout: 20_000 });
    await expect(p.getByRole('button', { name: '1 conflict' })).toBeVisible();
    await expect(cell(p, 'i-lab1', 's40')).toHaveClass(/conflict/);
    await p.getByRole('button', { name: '1 conflict' }).click();
    const panel = p.getByTestId('conflicts-panel');
    await expect(panel.locator('.v', { hasText: /^11$/ })).toHaveCount(1);
    await expect(panel.locator('.v', { hasText: /^14$/ })).toHaveCount(1);
  }
  // both devices show the same (deterministic) value while the conflict stands
  await expect(cell(pb, 'i-lab1', 's40')).toHaveText((await cell(pa, 'i-lab1', 's40').textContent()) ?? '');

  await pa.screenshot({ path: 'test-results/screens/conflict.png' });
  const panelA = pa.getByTestId('conflicts-panel');
  // the candidate whose value is 14 (its time stamp may contain "14" too: match the value itself)
  await panelA.locator('.cand', { has: pa.locator('.v', { hasText: /^14$/ }) }).getByRole('button', { name: 'Keep this' }).click();
  for (const p of [pa, pb]) {
    await expect(cell(p, 'i-lab1', 's40')).toHaveText('14.00');
    await expect(cell(p, 'i-lab1', 's40')).not.toHaveClass(/conflict/);
  }
  await a.close();
  await b.close();
});

test('a non-editing teacher sees the gradebook but cannot type grades', async ({ page }) => {
  await signIn(page, 'assistant');
  await openCourse(page, 'Physics 101');
  await cell(page, 'i-lab1', 's20').click();
  await page.keyboard.type('5');
  await expect(page.locator('#grid-editor')).toHaveCount(0);
  await expect(page.getByText('changing grades needs an editing role')).toBeVisible();
});

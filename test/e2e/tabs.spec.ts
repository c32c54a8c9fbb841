// Several tabs of one device: one tab leads (talks to the server, writes the device store), the others follow
// it over a BroadcastChannel; an edit in a following tab reaches the server; closing the leader hands over.
import { expect, test } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';

test('tabs of one device share one connection; edits in any tab sync; the lead passes on when a tab closes', async ({ page, browser, context }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  const second = await context.newPage();
  await second.goto('/course?id=phys101');
  await expect(second.getByTestId('grader-grid')).toBeVisible();
  // one websocket from this device, whatever the number of tabs (the sync server counts open connections)
  const syncPort = Number(process.env.E2E_SYNC_PORT ?? 4274);
  const open = async () => Number(/^markbook_connections (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${syncPort}/metrics`)).text())?.[1]);
  await expect.poll(open).toBe(1);

  // an edit in the following tab shows in the leading tab and in another device
  const other = await browser.newContext();
  const op = await other.newPage();
  await signIn(op, 'teacher2');
  await openCourse(op, 'Physics 101');
  await cell(second, 'i-q3', 's20').click();
  await second.keyboard.type('6');
  await second.keyboard.press('Enter');
  await expect(cell(page, 'i-q3', 's20')).toHaveText('6.00');
  await expect(cell(op, 'i-q3', 's20')).toHaveText('6.00');

  // the leader closes: the other tab takes over and keeps syncing
  await page.close();
  await cell(second, 'i-q3', 's40').click();
  await second.keyboard.type('5');
  await second.keyboard.press('Enter');
  await expect(cell(op, 'i-q3', 's40')).toHaveText('5.00');
  await other.close();
});

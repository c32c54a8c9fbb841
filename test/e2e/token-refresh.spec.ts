// Access tokens that expire while several tabs of one device hold sockets (issue #5 with #4's tabs): the server
// closes each socket with 4401 at expiry and every tab refreshes at the same moment. Refresh tokens rotate and a
// spent one ends the session, so the tabs must share one refresh. Runs its own sync server (3 s tokens) and app
// server on loopback over the shared build/, so other specs keep their normal token lifetime.
import { expect, test } from '@playwright/test';
import { cell, signIn } from './helpers';
import { ownServers } from './own-servers';

const TOKEN_SECONDS = 3;
const BASE_URL = ownServers('token', Number(process.env.E2E_TOKEN_PORT ?? 4295), { accessTtlSec: TOKEN_SECONDS });

test('two tabs holding sockets through several token expiries stay signed in and keep syncing', async ({ browser }) => {
  test.setTimeout(90_000);
  const device = await browser.newContext({ baseURL: BASE_URL });
  const physics = await device.newPage();
  await signIn(physics, 'teacher1');
  await physics.goto('/course?id=phys101');
  await expect(physics.getByTestId('grader-grid')).toBeVisible();
  // a second tab leads another course, so each tab holds its own socket and both are closed at each expiry
  const history = await device.newPage();
  await history.goto('/course?id=hist201');
  await expect(history.getByTestId('grader-grid')).toBeVisible();

  // three token lifetimes: every socket is closed with 4401 and both tabs refresh at once, three times over
  await physics.waitForTimeout(3 * TOKEN_SECONDS * 1000 + 1000);

  await cell(physics, 'i-q3', 's20').click();
  await physics.keyboard.type('7');
  await physics.keyboard.press('Enter');
  await cell(history, 'i-a1', 's3').click();
  await history.keyboard.type('64');
  await history.keyboard.press('Enter');

  // another device signing in now sees both edits: both tabs were still allowed to write after the expiries
  const other = await browser.newContext({ baseURL: BASE_URL });
  const check = await other.newPage();
  await signIn(check, 'teacher1');
  await check.goto('/course?id=phys101');
  await expect(cell(check, 'i-q3', 's20')).toHaveText('7.00');
  await check.goto('/course?id=hist201');
  await expect(cell(check, 'i-a1', 's3')).toHaveText('64.00');
  for (const p of [physics, history]) await expect(p.getByText(/sign in again|signed out/i)).toHaveCount(0);
  await other.close();
  await device.close();
});

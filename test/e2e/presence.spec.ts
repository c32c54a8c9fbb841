// Presence in the grid across token renewals (issue #6): with 3 s access tokens every socket is closed with 4401 and
// renewed over and over; another grader's outline on a cell must never blink meanwhile, and must go when they leave.
// Runs its own sync server and app server on loopback (over the shared build/), so other specs keep normal tokens.
import { expect, test } from '@playwright/test';
import { cell, signIn } from './helpers';
import { ownServers } from './own-servers';

const TOKEN_SECONDS = 3;
const BASE_URL = ownServers('presence', Number(process.env.E2E_PRESENCE_PORT ?? 4297), { accessTtlSec: TOKEN_SECONDS });

test("another grader's outline stays on their cell through token renewals on both sides, and goes when they leave", async ({ browser }) => {
  test.setTimeout(90_000);
  const deviceA = await browser.newContext({ baseURL: BASE_URL });
  const a = await deviceA.newPage();
  await signIn(a, 'teacher1');
  await a.goto('/course?id=phys101');
  await expect(a.getByTestId('grader-grid')).toBeVisible();
  const deviceB = await browser.newContext({ baseURL: BASE_URL });
  const b = await deviceB.newPage();
  await signIn(b, 'teacher2');
  await b.goto('/course?id=phys101');
  await cell(b, 'i-q3', 's20').click();
  const watched = cell(a, 'i-q3', 's20');
  await expect(watched).toHaveClass(/\bpresent\b/);
  await expect(watched).toHaveAttribute('title', /is here/);

  // From now on the page itself records every moment the outline is missing (an observer on the grid, so even a
  // blink of one frame is caught; cells can be redrawn, so the cell is looked up again on every change).
  await a.evaluate(() => {
    const w = window as unknown as { presenceGaps: number };
    w.presenceGaps = 0;
    const check = (): void => {
      const el = document.querySelector('[data-testid="cell-i-q3-s20"]');
      if (!el?.classList.contains('present')) w.presenceGaps++;
    };
    new MutationObserver(check).observe(document.querySelector('[data-testid="grader-grid"]')!, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['class'],
    });
  });
  // three token lifetimes: both graders' sockets are closed with 4401 and renewed, three times over
  await a.waitForTimeout(3 * TOKEN_SECONDS * 1000 + 1000);
  expect(await a.evaluate(() => (window as unknown as { presenceGaps: number }).presenceGaps)).toBe(0);
  await expect(watched).toHaveClass(/\bpresent\b/);
  // the outline is live, not a copy kept from before the renewals: b moves on and a's outline follows
  await cell(b, 'i-q3', 's21').click();
  await expect(cell(a, 'i-q3', 's21')).toHaveClass(/\bpresent\b/);
  await expect(watched).not.toHaveClass(/\bpresent\b/);

  // b leaves (closes the tab): a no longer shows b anywhere
  await b.close();
  await expect(cell(a, 'i-q3', 's21')).not.toHaveClass(/\bpresent\b/);
  await expect(a.getByTestId('others')).toHaveCount(0);
  await deviceB.close();
  await deviceA.close();
});

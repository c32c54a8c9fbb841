// The site directory in real Chromium: a users CSV with a bad row changes nothing and names row and column;
// the fixed file imports the user (and they become a member of the cohort it names); the directory exports.
import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('an admin imports users from a CSV, all or nothing, and exports the directory', async ({ page }) => {
  await signIn(page, 'admin');
  await page.getByRole('link', { name: 'Cohorts' }).click();
  await page.getByRole('link', { name: /Site directory/ }).click();
  await expect(page.getByText(/\d+ users, 3 courses/)).toBeVisible();
  const count = Number(/(\d+) users/.exec((await page.getByText(/\d+ users, 3 courses/).textContent()) ?? '')![1]);

  const bad = 'username,firstname,lastname,email,suspended\nnewbie,New,Person,new@example.edu,0\nbroken,Bad,Row,bad@example.edu,maybe\n';
  await page.getByLabel('Users CSV file').setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await expect(page.getByTestId('users-problems')).toContainText('row 3');
  await expect(page.getByTestId('users-problems')).toContainText('suspended');
  await expect(page.getByRole('button', { name: 'Import' })).toHaveCount(0);

  const good = 'username,firstname,lastname,email,suspended\nnewbie,New,Person,new@example.edu,0\n';
  await page.getByLabel('Users CSV file').setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await expect(page.getByTestId('users-plan')).toContainText('1 new user(s)');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('directory-status')).toContainText('1 new');
  await expect(page.getByText(`${count + 1} users, 3 courses`)).toBeVisible();

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download site JSON' }).click();
  const file = await download;
  const text = await (await file.createReadStream()).toArray();
  const site = JSON.parse(Buffer.concat(text as Buffer[]).toString('utf8')) as { users: { username: string }[] };
  expect(site.users.some((u) => u.username === 'newbie')).toBe(true);
});

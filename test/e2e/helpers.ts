// Shared steps of the browser tests: signing in as a demo person and opening a course.
import { expect, type Locator, type Page } from '@playwright/test';

export const PASSWORD = 'markbook';

export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toBeVisible();
}

export async function openCourse(page: Page, name: string): Promise<void> {
  await page.getByRole('link', { name }).click();
  await expect(page.getByTestId('grader-grid')).toBeVisible();
}

/** The text of one grid cell, by column (item/category id) and user id. */
export function cell(within: Page | Locator, column: string, user: string): Locator {
  return within.getByTestId(`cell-${column}-${user}`);
}

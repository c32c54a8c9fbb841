// Dynamic cohorts in a real browser: an admin sees the demo rules, edits one (it becomes disabled), watches the live
// count follow the edit, enables it with the count shown first, runs Process now and sees the members with their
// reason; axe finds no serious or critical problems. Expected people come from the domain, never from the page.
import { expect, test, type Page } from '@playwright/test';
import { signIn } from './helpers';
import { buildDemoSiteJson, buildDemoRules } from '../../src/lib/domain/interchange/demo-site';
import { SiteIndex, matchingUserIds, parseRule, ruleToJson } from '../../src/lib/domain/cohorts/index';

const site = buildDemoSiteJson();
const physcalc = buildDemoRules().find((r) => r.id === 'rule-physcalc')!;
const count = (ruleJson: unknown): number =>
  matchingUserIds(new SiteIndex(site), parseRule(ruleJson), { now: Math.floor(Date.now() / 1000) }).length;
const original = ruleToJson(physcalc);
const editedJson = {
  ...original,
  conditions: [
    (original['conditions'] as unknown[])[0],
    { type: 'course_completed', operator: 'any', courseId: 'hist201' },
  ],
};

async function axeProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx?: unknown,
          ) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] }>;
        };
      }
    ).axe;
    return axe.run(document);
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
}

async function openCohorts(page: Page): Promise<void> {
  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cohorts' }).click();
  await expect(page.getByRole('heading', { name: 'Dynamic cohorts' })).toBeVisible();
  await expect(page.getByTestId('rules-table')).toBeVisible();
}

test('[COH-L2][COH-L3][COH-P1][COH-P7] edit a rule, watch the count, enable it, process now, see members and why', async ({
  page,
}) => {
  const before = count(original);
  const after = count(editedJson);
  expect(after).not.toBe(before); // the demo data makes the edit visible

  await openCohorts(page);
  const table = page.getByTestId('rules-table');
  for (const name of ['Physics students who completed Calculus', 'Staff', 'Physics quiz high scorers'])
    await expect(table.getByRole('rowheader', { name, exact: true })).toBeVisible();
  const row = table.locator('tr[data-rule="rule-physcalc"]');
  await expect(row.getByTestId('rule-status')).toHaveText('Enabled');
  await expect(row.getByTestId('rule-count')).toHaveText(String(before));
  await expect(page.getByTestId('cohort-size-co-physcalc')).toHaveText('0');
  expect(await axeProblems(page)).toEqual([]);

  await row.getByRole('rowheader').getByRole('link').click();
  await expect(page.getByTestId('preview-count')).toHaveText(String(before));
  await expect(page.getByTestId('editor-status')).toContainText('Enabled');
  await page
    .getByRole('group', { name: /Condition 2/ })
    .getByLabel('Course')
    .selectOption({ label: 'Modern History' });
  await expect(page.getByTestId('preview-count')).toHaveText(String(after));

  // would this user match, and which condition fails?
  const outsider = site.users.find((u) => u.id === 's2')!;
  await page.getByLabel('Username or user id').fill(outsider.username);
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByTestId('explain-result')).toContainText(
    count({
      ...editedJson,
      conditions: [
        { type: 'user_profile', field: 'username', operator: 'equals', value: outsider.username },
        ...(editedJson.conditions as unknown[]),
      ],
    }) === 1
      ? 'matches.'
      : 'does not match.',
  );
  expect(await axeProblems(page)).toEqual([]);

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('save-status')).toContainText('disabled until you review it');
  await expect(page.getByTestId('editor-status')).toContainText('Disabled');

  await page.getByRole('button', { name: 'Enable…' }).click();
  await expect(page.getByTestId('enable-count')).toHaveText(String(after));
  await page.getByRole('button', { name: 'Enable rule' }).click();
  await expect(page.getByTestId('save-status')).toContainText(`Enabled. ${after}`);
  await expect(page.getByTestId('editor-status')).toContainText('Enabled');

  await page.getByRole('link', { name: '← All rules' }).click();
  await expect(
    page.getByTestId('rules-table').locator('tr[data-rule="rule-physcalc"]').getByTestId('rule-status'),
  ).toHaveText('Enabled');
  await page.getByRole('button', { name: 'Process now' }).click();
  await expect(page.getByTestId('process-status')).toContainText(`${after} membership`);
  await expect(page.getByTestId('cohort-size-co-physcalc')).toHaveText(String(after));
  await page.screenshot({ path: 'test-results/screens/cohorts.png', fullPage: true });

  await page
    .getByRole('region', { name: 'Cohorts' })
    .getByRole('link', { name: 'Physics students who completed Calculus' })
    .click();
  const members = page.getByTestId('members-table').locator('tbody tr');
  await expect(members).toHaveCount(after);
  for (const r of await members.all()) {
    await expect(r).toContainText('Physics students who completed Calculus');
    await expect(r).toContainText('process now');
  }
  expect(await axeProblems(page)).toEqual([]);
});

test('[COH-L3][COH-P1] enable a rule from the list with its count first, then process only that rule', async ({
  page,
}) => {
  const staffRule = buildDemoRules().find((r) => r.id === 'rule-staff')!;
  const staff = count(ruleToJson(staffRule));
  await openCohorts(page);
  const row = page.getByTestId('rules-table').locator('tr[data-rule="rule-staff"]');
  await expect(row.getByTestId('rule-count')).toHaveText(String(staff));
  page.once('dialog', (d) => {
    expect(d.message()).toContain(`matches ${staff} users`);
    void d.accept();
  });
  await row.getByRole('button', { name: /^Enable/ }).click();
  await expect(row.getByTestId('rule-status')).toHaveText('Enabled');
  await row.getByRole('rowheader').getByRole('link').click();
  await page.getByRole('button', { name: 'Process this rule now' }).click();
  await expect(page.getByTestId('save-status')).toContainText(`Processed: ${staff} membership`);
  await page.getByRole('link', { name: '← All rules' }).click();
  await expect(page.getByTestId('cohort-size-co-staff')).toHaveText(String(staff));
});

test('a teacher sees no Cohorts link and the page says who it is for', async ({ page }) => {
  await signIn(page, 'teacher1');
  await expect(
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cohorts' }),
  ).toHaveCount(0);
  await page.goto('/cohorts');
  await expect(page.getByText('Cohorts are managed by site administrators and managers.')).toBeVisible();
});

test('[COH-R4][COH-E4][COH-L1] a new rule: errors appear beside the field at fault, and it saves disabled', async ({
  page,
}) => {
  await openCohorts(page);
  await page.getByRole('link', { name: 'New rule' }).click();
  await expect(page.getByRole('heading', { name: 'New rule' })).toBeVisible();
  await page.getByLabel('Rule name').fill('Quiz scorers in the council');
  await page.getByLabel('Condition type').selectOption({ label: 'Quiz result' });
  await page.getByRole('button', { name: 'Add condition' }).click();
  const cond = page.getByRole('group', { name: /Condition 1/ });
  const quiz = site.quizzes[0]!;
  // above the quiz's maximum grade: the rule cannot be evaluated, and the field says why
  await cond.getByLabel('Maximum grade').fill(String(quiz.grade + 5));
  await cond.getByLabel('Maximum grade').press('Tab');
  await expect(cond.getByLabel('Maximum grade')).toHaveAttribute('aria-invalid', 'true');
  await expect(cond.locator('p.error')).toBeVisible();
  await cond.getByLabel('Maximum grade').fill(String(quiz.grade));
  await cond.getByLabel('Maximum grade').press('Tab');
  await expect(cond.getByLabel('Maximum grade')).toHaveAttribute('aria-invalid', 'false');
  const expected = count({
    operator: 'AND',
    cohortId: null,
    conditions: [{ type: 'quiz_result', quizId: quiz.id, minGrade: 0, maxGrade: quiz.grade }],
  });
  await expect(page.getByTestId('preview-count')).toHaveText(String(expected));

  // a cohort another rule manages is refused, beside the Cohort field (one rule per cohort)
  await page.getByLabel('Cohort', { exact: true }).selectOption({ label: 'Staff' });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#rule-cohort-err')).toBeVisible();
  await expect(page.getByTestId('save-status')).toContainText('Not saved');
  await page.getByLabel('Cohort', { exact: true }).selectOption({ label: 'Student council' });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('save-status')).toContainText('disabled until you enable it');
  await expect(page.getByTestId('editor-status')).toContainText('Disabled');
  expect(await axeProblems(page)).toEqual([]);
  await page.screenshot({ path: 'test-results/screens/cohort-rule.png', fullPage: true });
  await page.getByRole('link', { name: '← All rules' }).click();
  await expect(
    page.getByTestId('rules-table').getByRole('rowheader', { name: 'Quiz scorers in the council' }),
  ).toBeVisible();
});

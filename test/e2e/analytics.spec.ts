// Learning analytics in a real browser: an admin imports the OULAD module AAA files, evaluates the at-risk model with
// logistic regression (AUC and ROC chart), trains and predicts as of 2015-01-15, and acts on an insight; the TF.js
// backend shown is WASM or CPU (no GPU here); axe finds nothing serious. Expected figures come from the domain.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { signIn } from './helpers';
import { parseCsv } from '../../src/lib/ml/csv';
import { mapOulad, OULAD_FILES, type OuladTables } from '../../src/lib/domain/analytics/oulad';
import { buildActivityData } from '../../src/lib/domain/analytics/data';
import { evaluate } from '../../src/lib/domain/analytics/evaluation';
import { defaultRegistry, resolveTimeSplitting } from '../../src/lib/domain/analytics/registry';
import { buildDataset } from '../../src/lib/domain/analytics/dataset';
import { predictModel, trainModel, validateModelConfig } from '../../src/lib/domain/analytics/model';
import { listInsights } from '../../src/lib/domain/analytics/insights';
import { OULAD_TEST_FROM } from '../../src/lib/domain/analytics/oulad-model';
import { importMoodleLog } from '../../src/lib/domain/analytics/moodle-log';
import { defaultModelConfigs } from '../../src/lib/state/analytics-view';

const DIR = 'test/fixtures/analytics/oulad-e2e';
const FILES = Object.values(OULAD_FILES).map((f) => `${DIR}/${f}`);
const NOW = Date.UTC(2015, 0, 15) / 1000; // the analysis date typed on the page

async function expected() {
  const tables = {} as Record<keyof OuladTables, Record<string, string>[]>;
  for (const [k, f] of Object.entries(OULAD_FILES))
    tables[k as keyof OuladTables] = parseCsv(readFileSync(`${DIR}/${f}`, 'utf8'), f);
  const rows = mapOulad(tables);
  const data = buildActivityData(rows);
  const reg = defaultRegistry();
  const model = validateModelConfig(reg, defaultModelConfigs()[1]);
  const target = reg.targets.get(model.targetId);
  // Evaluation runs on every finished course (the real clock: OULAD ended in 2014).
  const ds = buildDataset({
    data,
    analyser: reg.analysers.get(target.analyser),
    target,
    indicators: model.indicatorIds.map((i) => reg.indicators.get(i)),
    timeSplitting: resolveTimeSplitting(reg, model.timeSplittingId!),
    now: Math.floor(Date.now() / 1000),
    mode: 'training',
    averages: model.averages,
    missingFlags: model.missingFlags,
  });
  const honest = await evaluate({
    protocol: 'honest',
    backend: reg.backends.get('lr'),
    target,
    dataset: ds,
    testFrom: OULAD_TEST_FROM,
    ruleIndicator: 'due_submitted_share',
  });
  const trained = await trainModel({ reg, model, data, now: NOW, usedForTraining: new Set() });
  const predicted = await predictModel({
    reg,
    model,
    data,
    now: NOW,
    alreadyPredicted: new Set(),
    trained: trained.trained,
  });
  const course = predicted.predictions[0]!.courseId;
  const insights = listInsights({
    viewerId: 'x',
    canList: () => true,
    courseId: course,
    modelId: model.id,
    target,
    predictions: predicted.predictions,
    actions: [],
  });
  const rule = validateModelConfig(
    reg,
    defaultModelConfigs().find((m) => m.id === 'no-teaching'),
  );
  const ruled = await predictModel({
    reg,
    model: rule,
    data,
    now: NOW,
    alreadyPredicted: new Set(),
    trained: null,
  });
  const ruleCourses = new Set(ruled.predictions.map((p) => p.courseId)).size;
  const noTeaching = `${ruled.predictions.length} new insights in ${ruleCourses} course${ruleCourses === 1 ? '' : 's'} (${ruled.processedKeys.length} samples analysed).`;
  const logFile = 'test/fixtures/analytics/moodle-log.csv';
  const logs = importMoodleLog(parseCsv(readFileSync(logFile, 'utf8'), 'moodle-log.csv'), 1).rows;
  return {
    rows,
    logs,
    noTeaching,
    model,
    auc: honest.ranges[0]!.model!.auc,
    trained,
    predicted,
    course,
    insights,
  };
}

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

test('[ANA-1.1][ANA-1.2][ANA-6.3][ANA-6.5][ANA-7][ANA-8.0][ANA-8.1][ANA-8.3] import OULAD, evaluate, train, predict, act on an insight, edit a model', async ({
  page,
}) => {
  test.setTimeout(60_000);
  const want = await expected();
  const status = page.getByTestId('analytics-status');

  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Analytics' }).click();
  await expect(page.getByRole('heading', { name: 'Learning analytics' })).toBeVisible();

  // A partial choice is refused with the missing files named.
  await page.getByLabel('OULAD files').setInputFiles(FILES.slice(0, 2));
  await page.getByRole('button', { name: 'Import OULAD' }).click();
  await expect(page.getByTestId('analytics-error')).toContainText('studentAssessment.csv: file not chosen');

  await page.getByLabel('OULAD files').setInputFiles(FILES);
  await page.getByRole('button', { name: 'Import OULAD' }).click();
  await expect(status).toHaveText(
    `Imported ${want.rows.courses.length} presentations, ${want.rows.enrolments.length} enrolments and ${want.rows.submissions.length} submissions.`,
  );
  await expect(page.getByTestId('oulad-citation')).toContainText('https://doi.org/10.1038/sdata.2017.171');
  await expect(page.getByTestId('data-counts')).toContainText(`${want.rows.enrolments.length} enrolments`);

  // A Moodle-style log: a bad file is refused whole, naming row and column; a good one is appended.
  await page.getByLabel('Moodle log CSV').setInputFiles('test/fixtures/analytics/moodle-log-bad.csv');
  await page.getByRole('button', { name: 'Import log' }).click();
  await expect(page.getByTestId('analytics-error')).toContainText('moodle-log-bad.csv row 3, column "crud"');
  await expect(page.getByTestId('data-counts')).toContainText('0 log events');
  await page.getByLabel('Moodle log CSV').setInputFiles('test/fixtures/analytics/moodle-log.csv');
  await page.getByRole('button', { name: 'Import log' }).click();
  await expect(status).toHaveText(`Imported ${want.logs} log events.`);
  await expect(page.getByTestId('data-counts')).toContainText(`${want.logs} log events`);

  await page.getByLabel(/Train and predict as of/).fill('2015-01-15');
  await page.getByRole('button', { name: 'Set date' }).click();
  await expect(status).toHaveText('Analysis date: 2015-01-15.');
  expect(await axeProblems(page)).toEqual([]);

  await page.getByRole('link', { name: want.model.name }).click();
  await expect(page.getByTestId('model-editor')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('tf-backend')).toContainText(/TensorFlow\.js backend: (WASM|CPU) — /);
  await expect(page.getByRole('radio', { name: /logistic regression/i })).toBeChecked();

  await page.getByRole('button', { name: 'Evaluate' }).click();
  await expect(status).toHaveText(`Evaluation finished: AUC ${want.auc.toFixed(3)}.`, { timeout: 30_000 });
  const report = page.getByTestId('evaluation-report');
  await expect(report.getByRole('row', { name: /^AUC/ }).first()).toContainText(want.auc.toFixed(3));
  await expect(report.getByRole('columnheader', { name: 'Moodle (random splits)' }).first()).toBeVisible();
  await expect(report.getByTestId('roc-chart').first()).toBeVisible();
  await expect(report.getByTestId('range-chart')).toBeVisible();

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(status).toHaveText(`Trained on ${want.trained.samples} samples.`, { timeout: 30_000 });
  await page.getByRole('button', { name: 'Predict', exact: true }).click();
  const n = want.predicted.predictions.length;
  await expect(status).toContainText(`${n} new insights in 1 course`, { timeout: 30_000 });
  expect(await axeProblems(page)).toEqual([]);

  // [ANA-6.5] The trained model exports as JSON and imports back; a file that is not one is refused by path.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export trained model' }).click();
  const file = await (await download).path();
  const exported = JSON.parse(readFileSync(file, 'utf8')) as { trained: { format: string; samples: number } };
  expect(exported.trained).toMatchObject({
    format: 'markbook-analytics-model',
    samples: want.trained.samples,
  });
  await page.getByLabel('Import a trained model (JSON)').setInputFiles({
    name: 'wrong.json',
    mimeType: 'application/json',
    buffer: Buffer.from('{"model":{}}'),
  });
  await page.getByRole('button', { name: 'Import trained model' }).click();
  await expect(page.getByTestId('analytics-error')).toContainText('$.trained');
  await page.getByLabel('Import a trained model (JSON)').setInputFiles(file);
  await page.getByRole('button', { name: 'Import trained model' }).click();
  await expect(status).toHaveText(`Imported a trained model (lr, ${want.trained.samples} samples).`);

  // A rule-based model (Moodle's "No teaching") predicts without training.
  await page.getByRole('link', { name: '← Analytics' }).click();
  await page.getByRole('link', { name: 'No teaching', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeDisabled();
  await page.getByRole('button', { name: 'Predict', exact: true }).click();
  await expect(status).toHaveText(want.noTeaching);

  // The models list now shows the model trained and its last evaluation.
  await page.getByRole('link', { name: '← Analytics' }).click();
  const modelRow = page
    .getByTestId('models-table')
    .getByRole('row', { name: new RegExp(want.model.name.replace(/[()]/g, '.')) });
  await expect(modelRow).toContainText(`Yes (${want.trained.samples} samples)`);
  await expect(modelRow).toContainText(`AUC ${want.auc.toFixed(3)}`);

  await page.getByRole('link', { name: 'Insights' }).click();
  await page.getByTestId('insight-courses').getByRole('link').first().click();
  const rows = page.getByTestId('insight-row');
  await expect(rows).toHaveCount(want.insights.rows.length);
  const top = want.insights.rows[0]!.prediction;
  const first = rows.first();
  await expect(first.getByRole('link', { name: /Open their report/ })).toHaveAttribute(
    'href',
    `/report?id=${want.course}&user=${top.userId}`,
  );
  await expect(first.getByRole('link', { name: /Message the student/ })).toBeVisible();
  await first.getByText(/indicator values/).click();
  await expect(first.getByRole('rowheader', { name: 'due_submitted_share' })).toBeVisible();
  // Machine-learning targets offer fixed / not applicable / incorrectly flagged (useful / not useful are for rules).
  await expect(first.getByRole('button', { name: 'Useful', exact: true })).toHaveCount(0);
  await first.getByRole('button', { name: 'Fixed', exact: true }).click();
  await expect(page.getByTestId('insights-status')).toContainText('Recorded "Fixed"');
  await expect(rows).toHaveCount(want.insights.rows.length - 1);
  const actionsReport = page.getByTestId('actions-report');
  await expect(actionsReport.getByRole('row', { name: 'Fixed' })).toContainText('1');
  await expect(actionsReport.getByRole('row', { name: 'Viewed details' })).toContainText('1');
  await expect(page.getByText('Usefulness (fixed + useful over all feedback): 100 %')).toBeVisible();
  await expect(page.getByTestId('oulad-citation')).toBeVisible();
  expect(await axeProblems(page)).toEqual([]);

  // [ANA-8.0] A new model without an id or indicators is refused; each problem sits beside its field.
  await page.getByRole('link', { name: '← Analytics' }).click();
  await page.getByRole('link', { name: 'New model' }).click();
  await page.getByLabel('Name').fill('Half-made model');
  await page.getByRole('button', { name: 'Save model' }).click();
  await expect(page.getByTestId('error-id')).toContainText('must be a non-empty string');
  await expect(page.getByTestId('error-indicatorIds')).toContainText('must be a non-empty array');
  await expect(page.getByLabel('Model id')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Model id').fill('half-made');
  await page.getByRole('checkbox', { name: /^Mean score so far/ }).check();
  await page.getByRole('button', { name: 'Save model' }).click();
  await expect(status).toHaveText('Saved.');
  await expect(page.getByRole('heading', { name: 'Half-made model', level: 1 })).toBeVisible();
  expect(await axeProblems(page)).toEqual([]);
});

// Figures for learning analytics in the app (issue 8, item 10) on the full OULAD files (32,593 registrations):
// the worker's import job (parse + map) and the worker -> page transfer in Node, then in the system Chromium the
// whole flow an admin runs: import into IndexedDB, reload, evaluate (both protocols), train, predict, open insights.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { parseCsv } from '../../src/lib/ml/csv.ts';
import { mapOulad, OULAD_FILES, type OuladTables } from '../../src/lib/domain/analytics/oulad.ts';
import { listInsights } from '../../src/lib/domain/analytics/insights.ts';
import { atRisk } from '../../src/lib/domain/analytics/targets.ts';
import type { PredictionRow } from '../../src/lib/domain/analytics/model.ts';
import { startSyncServer } from '../../sync-server/server.ts';
import { startStaticServer } from '../../sync-server/static.ts';
import { report, timeRuns } from './util.ts';

const root = resolve(import.meta.dirname, '../..');
const OULAD = '/work/shared/data/oulad';

async function nodeFigures(): Promise<void> {
  const texts = Object.fromEntries(
    Object.entries(OULAD_FILES).map(([k, f]) => [k, readFileSync(join(OULAD, f), 'utf8')]),
  );
  let rows: ReturnType<typeof mapOulad> | null = null;
  const t0 = performance.now();
  const tables = {} as Record<keyof OuladTables, Record<string, string>[]>;
  for (const [k, f] of Object.entries(OULAD_FILES)) tables[k as keyof OuladTables] = parseCsv(texts[k]!, f);
  const tParse = performance.now() - t0;
  rows = mapOulad(tables);
  const tMap = performance.now() - t0 - tParse;
  // The user waits behind a progress bar; a few seconds for 7 MB of CSV is acceptable, more is not.
  report('OULAD parse (worker), 7 MB CSV', tParse, 2000);
  report('OULAD map onto analytics rows (worker)', tMap, 1000);
  // postMessage structured-clones the rows back to the page for IndexedDB.
  const tClone = performance.now();
  structuredClone(rows);
  report(
    `structured clone of ${rows.enrolments.length + rows.submissions.length} rows (transfer)`,
    performance.now() - tClone,
    500,
  );

  // Insights page for the largest presentation: every student flagged (worst case), listed within a frame budget.
  const counts = new Map<string, number>();
  for (const e of rows.enrolments) counts.set(e.courseId, (counts.get(e.courseId) ?? 0) + 1);
  const [course, n] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  const preds: PredictionRow[] = rows.enrolments
    .filter((e) => e.courseId === course)
    .map((e, i) => ({
      id: `m:1:${e.id}:0`,
      modelId: 'm',
      modelVersion: 1,
      targetId: 'at_risk',
      courseId: course,
      sampleId: e.id,
      userId: e.userId,
      rangeIndex: 0,
      prediction: 1,
      score: 0.6 + (i % 40) / 100,
      calculations: { mean_score: 0.1, due_submitted_share: -1 },
      timecreated: 0,
      timestart: 0,
      timeend: 1,
    }));
  const times = await timeRuns(5, () =>
    listInsights({
      viewerId: 'u',
      canList: () => true,
      courseId: course,
      modelId: 'm',
      target: atRisk,
      predictions: preds,
      actions: [],
    }),
  );
  report(`listInsights, ${n} students in ${course} (median of 5)`, times[2]!, 16);
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newestMtime(join(path, e))));
}

/** Rebuilds the app when src/ changed since the last build (the stamp `npm start` also writes). */
function buildIfStale(): void {
  const stamp = join(root, 'build', '.built');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(join(root, 'src'))) return;
  const r = spawnSync(join(root, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('vite build failed');
  writeFileSync(stamp, String(Date.now()));
}

export async function run(): Promise<void> {
  await nodeFigures();
  buildIfStale();
  const dataDir = mkdtempSync(join(tmpdir(), 'markbook-anabench-'));
  const sync = await startSyncServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    appOrigins: ['http://127.0.0.1:4583'],
    seed: {
      accounts: [
        {
          userId: 'a',
          username: 'admin',
          password: 'bench-pass',
          siteRole: 'admin',
          displayName: 'Bench Admin',
        },
      ],
      courseRoles: [],
      docs: [],
    },
  });
  const app = await startStaticServer({
    root: join(root, 'build'),
    port: 4583,
    syncUrl: `ws://127.0.0.1:${sync.port}`,
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-gpu',
    ],
  });
  try {
    const page = await (await browser.newContext({ baseURL: app.url })).newPage();
    await page.goto('/');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('bench-pass');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    await page.goto('/analytics');
    const status = page.getByTestId('analytics-status');
    const waitStatus = async (re: RegExp, timeout = 120_000): Promise<string> => {
      // Browser-side code is passed as text: tsconfig.node.json (which checks benches) has no DOM library.
      await page.waitForFunction(
        `new RegExp(${JSON.stringify(re.source)}, ${JSON.stringify(re.flags)}).test(document.querySelector('[data-testid="analytics-status"]')?.textContent ?? '')`,
        undefined,
        { timeout },
      );
      return (await status.textContent()) ?? '';
    };

    await page.getByLabel('OULAD files').setInputFiles(Object.values(OULAD_FILES).map((f) => join(OULAD, f)));
    // Phase changes of the progress label, stamped in the page, split the import into worker and IndexedDB parts.
    await page.evaluate(`
      window.phases = [];
      new MutationObserver(() => {
        const label = document.querySelector('[data-testid="job-progress"] label')?.textContent ?? '';
        const last = window.phases[window.phases.length - 1];
        if (label && (!last || last[0] !== label)) window.phases.push([label, performance.now()]);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    `);
    let t = performance.now();
    const tPage = (await page.evaluate('performance.now()')) as number;
    await page.getByRole('button', { name: 'Import OULAD' }).click();
    const imported = await waitStatus(/^Imported|^Failed/);
    report('import full OULAD: read, worker parse+map, IndexedDB write', performance.now() - t, 15_000);
    const phases = (await page.evaluate('window.phases')) as [string, number][];
    const saving = phases.find((p) => p[0].startsWith('Saving'))?.[1];
    if (saving !== undefined) {
      report('  of which file read + worker parse, map, transfer', saving - tPage, 3000);
      report(
        '  of which IndexedDB write (206k rows, one transaction)',
        performance.now() - t - (saving - tPage),
        12_000,
      );
    }
    console.log(`  ${imported}`);
    await page.getByLabel(/Train and predict as of/).fill('2015-01-15');
    await page.getByRole('button', { name: 'Set date' }).click();

    // A fresh page load: the worker starts empty and reads the device tables back in batches before evaluating.
    await page.reload();
    await page.getByRole('link', { name: 'Students at risk of not passing (no click logs)' }).click();
    await page.getByTestId('model-editor').waitFor({ timeout: 60_000 });
    console.log(`  ${(await page.getByTestId('tf-backend').textContent())?.trim()}`);
    t = performance.now();
    await page.getByRole('button', { name: 'Evaluate' }).click();
    console.log(`  ${await waitStatus(/^Evaluation finished|^Failed/)}`);
    report('evaluate both protocols, LR (incl. IndexedDB -> worker)', performance.now() - t, 20_000);
    await page.getByTestId('roc-chart').first().waitFor();

    t = performance.now();
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    console.log(`  ${await waitStatus(/^Trained|^Failed/)}`);
    report('train, LR', performance.now() - t, 10_000);
    t = performance.now();
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    console.log(`  ${await waitStatus(/new insights|^Failed/)}`);
    report('predict and store insights', performance.now() - t, 10_000);

    await page.goto('/analytics/insights');
    const first = page.getByTestId('insight-courses').getByRole('link').first();
    await first.waitFor();
    t = performance.now();
    await first.click();
    await page.getByTestId('insight-row').first().waitFor();
    report(
      `open a course's insights (${await page.getByTestId('insight-row').count()} rows)`,
      performance.now() - t,
      1000,
    );
  } finally {
    await browser.close();
    await app.close();
    await sync.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

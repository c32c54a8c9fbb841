// The app's analytics worker module itself (real host, real domain), driven through its message handler: OULAD and
// log imports all-or-nothing with cancel, and the analysis date that makes 2014 presentations "ongoing" for predict.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnalyticsResponse } from '../ml/analytics-host';
import { OULAD_FILES, mapOulad, type OuladTables } from '../domain/analytics/oulad';
import { parseCsv } from '../ml/csv';
import type { EvaluationReport } from '../domain/analytics/evaluation';
import type { PredictResult, TrainResult } from '../domain/analytics/model';
import { OULAD_TEST_FROM } from '../domain/analytics/oulad-model';
import type { AppRequest, OuladImportResult } from './analytics-app.worker';
import { defaultModelConfigs } from './analytics-view';

const DIR = 'test/fixtures/analytics/oulad-e2e';
const texts = Object.fromEntries(
  Object.entries(OULAD_FILES).map(([k, f]) => [k, readFileSync(`${DIR}/${f}`, 'utf8')]),
) as Record<keyof OuladTables, string>;
const model = defaultModelConfigs()[1]!;

type G = {
  postMessage?: (m: AnalyticsResponse) => void;
  onmessage?: ((ev: { data: AppRequest }) => void) | null;
};
const g = globalThis as G;
let replies: AnalyticsResponse[] = [];
let nextId = 1;

beforeEach(async () => {
  replies = [];
  g.postMessage = (m) => replies.push(m);
  vi.resetModules();
  await import('./analytics-app.worker');
});
afterEach(() => {
  delete g.postMessage;
  g.onmessage = null;
});

type Call = AppRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
function send(call: Call): number {
  const id = nextId++;
  g.onmessage!({ data: { ...call, id } as AppRequest });
  return id;
}
async function reply(id: number): Promise<AnalyticsResponse & { type: 'result' | 'error' }> {
  for (;;) {
    const r = replies.find((m) => m.id === id && m.type !== 'progress');
    if (r) return r as AnalyticsResponse & { type: 'result' | 'error' };
    await new Promise((res) => setTimeout(res, 1));
  }
}
async function value<T>(id: number): Promise<T> {
  const r = await reply(id);
  if (r.type !== 'result') throw new Error(`job ${id} failed: ${r.message}`);
  return r.value as T;
}
const evaluateAuc = async (): Promise<number> =>
  (
    await value<EvaluationReport>(
      send({
        type: 'evaluate',
        model,
        protocol: 'honest',
        testFrom: OULAD_TEST_FROM,
        ruleIndicator: 'due_submitted_share',
      }),
    )
  ).ranges[0]!.model!.auc;

describe('analytics app worker', () => {
  it('[ANA-1.2] imports OULAD texts as the domain maps them, with progress per file, and can evaluate them', async () => {
    const id = send({ type: 'import-oulad', files: texts });
    const rows = await value<OuladImportResult>(id);
    const t = {} as Record<keyof OuladTables, Record<string, string>[]>;
    for (const [k, f] of Object.entries(OULAD_FILES))
      t[k as keyof OuladTables] = parseCsv(texts[k as keyof OuladTables], f);
    expect(rows).toEqual(mapOulad(t));
    const phases = replies
      .filter((m) => m.id === id && m.type === 'progress')
      .map((m) => (m as { phase: string }).phase);
    for (const f of Object.values(OULAD_FILES)) expect(phases).toContain(`reading ${f}`);
    expect(Number.isFinite(await evaluateAuc())).toBe(true);
  });

  it('[ANA-1.2] a bad OULAD file is refused with file, row and column, and the rows already held stay', async () => {
    await value(send({ type: 'import-oulad', files: texts }));
    const before = await evaluateAuc();
    const bad = texts.studentInfo.replace(/,Pass\n/, ',Passed\n');
    const r = await reply(send({ type: 'import-oulad', files: { ...texts, studentInfo: bad } }));
    expect(r.type).toBe('error');
    expect(r.type === 'error' && r.problems?.[0]?.at).toMatch(
      /^studentInfo\.csv row \d+, column "final_result"$/,
    );
    const missing = await reply(send({ type: 'import-oulad', files: { courses: texts.courses } }));
    expect(missing.type === 'error' && missing.problems?.map((p) => p.at)).toContain('vle.csv');
    expect(await evaluateAuc()).toBe(before);
  });

  it('[ANA-1.2] a cancelled import stops with nothing changed', async () => {
    await value(send({ type: 'import-oulad', files: texts }));
    const before = await evaluateAuc();
    const id = send({
      type: 'import-oulad',
      files: { ...texts, courses: texts.courses.split('\n').slice(0, 2).join('\n') },
    });
    g.onmessage!({ data: { id: nextId++, type: 'cancel', target: id } });
    const r = await reply(id);
    expect(r.type === 'error' && r.cancelled).toBe(true);
    expect(await evaluateAuc()).toBe(before);
  });

  it('[ANA-2.5] a job cancelled while queued never runs', async () => {
    await value(send({ type: 'import-oulad', files: texts }));
    const first = send({ type: 'evaluate', model, protocol: 'honest', testFrom: OULAD_TEST_FROM });
    const queued = send({ type: 'train', model, usedForTraining: [] });
    g.onmessage!({ data: { id: nextId++, type: 'cancel', target: queued } });
    expect((await reply(first)).type).toBe('result');
    const r = await reply(queued);
    expect(r.type === 'error' && r.cancelled).toBe(true);
  });

  it('[ANA-3][ANA-8.1] the analysis date makes the 2014 presentation ongoing: predictions only then', async () => {
    await value(send({ type: 'import-oulad', files: texts }));
    await value(send({ type: 'set-now', now: Date.UTC(2015, 0, 15) / 1000 }));
    const trained = await value<TrainResult>(send({ type: 'train', model, usedForTraining: [] }));
    const at2015 = await value<PredictResult>(
      send({ type: 'predict', model, trained: trained.trained, alreadyPredicted: [] }),
    );
    expect(at2015.predictions.length).toBeGreaterThan(0);
    expect(new Set(at2015.predictions.map((p) => p.courseId))).toEqual(new Set(['AAA-2014J']));
    await value(send({ type: 'set-now', now: null })); // today: every presentation has finished
    const today = await value<PredictResult>(
      send({ type: 'predict', model, trained: trained.trained, alreadyPredicted: [] }),
    );
    expect(today.predictions).toEqual([]);
  });

  it('[ANA-1.1] a bad log CSV is refused whole, naming row and column', async () => {
    const r = await reply(
      send({
        type: 'import-log',
        text: readFileSync('test/fixtures/analytics/moodle-log-bad.csv', 'utf8'),
        fileName: 'bad.csv',
        firstSeq: 1,
      }),
    );
    expect(r.type === 'error' && r.problems?.map((p) => p.at)).toContain('bad.csv row 3, column "crud"');
  });
});

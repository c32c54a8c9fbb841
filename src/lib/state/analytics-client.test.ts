// The page-side client against the real analytics host over a real MessageChannel (the same messages a worker
// carries): results, progress, and errors that keep their field-addressed problems.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createAnalyticsHost, type AnalyticsRequest } from '../ml/analytics-host';
import { parseCsv } from '../ml/csv';
import { mapOulad, OULAD_FILES, type OuladTables } from '../domain/analytics/oulad';
import { buildActivityData } from '../domain/analytics/data';
import { evaluate, type EvaluationReport } from '../domain/analytics/evaluation';
import { defaultRegistry, resolveTimeSplitting } from '../domain/analytics/registry';
import { buildDataset } from '../domain/analytics/dataset';
import { modelEditorData, validateModelConfig, type ModelEditorData } from '../domain/analytics/model';
import { OULAD_TEST_FROM } from '../domain/analytics/oulad-model';
import { toBatches, type ActivityDataRows } from '../domain/analytics/types';
import { AnalyticsClient, AnalyticsJobError, type WorkerLike } from './analytics-client';
import { defaultModelConfigs } from './analytics-view';

const NOW = Date.UTC(2016, 0, 1) / 1000; // every OULAD presentation has finished
const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function connect(): AnalyticsClient {
  const ch = new MessageChannel();
  channels.push(ch);
  const host = createAnalyticsHost((m) => ch.port2.postMessage(m), {
    now: () => NOW,
    pause: () => new Promise((r) => setTimeout(r, 0)),
  });
  let queue = Promise.resolve();
  ch.port2.addEventListener('message', (ev) => {
    const req = ev.data as AnalyticsRequest;
    queue = queue.then(() => host.handle(req));
  });
  ch.port2.start();
  ch.port1.start();
  return new AnalyticsClient(ch.port1 as unknown as WorkerLike);
}

function rows(): ActivityDataRows {
  const t = {} as Record<keyof OuladTables, Record<string, string>[]>;
  for (const [k, f] of Object.entries(OULAD_FILES))
    t[k as keyof OuladTables] = parseCsv(readFileSync(`test/fixtures/analytics/oulad-e2e/${f}`, 'utf8'), f);
  return mapOulad(t);
}

describe('analytics client', () => {
  it('[ANA-9] the editor data comes back from the worker host', async () => {
    const ed = await connect().run<ModelEditorData>({ type: 'editor' }).result;
    expect(ed.targets.map((t) => t.id)).toEqual(modelEditorData(defaultRegistry()).targets.map((t) => t.id));
  });

  it('[ANA-8.0] a bad model is refused with the JSON path of each problem', async () => {
    const model = { ...defaultModelConfigs()[1], indicatorIds: ['mean_score', 'missing_one'] };
    const err = await connect()
      .run({ type: 'evaluate', model, protocol: 'honest' })
      .result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnalyticsJobError);
    expect((err as AnalyticsJobError).problems).toContainEqual({
      at: '$.indicatorIds[1]',
      message: 'unknown indicator "missing_one"',
    });
  });

  it('[ANA-1][ANA-7] rows sent in batches evaluate as in the domain, with progress on the way', async () => {
    const c = connect();
    const r = rows();
    for (const [table, list] of Object.entries(r) as [keyof ActivityDataRows, unknown[]][])
      for (const b of toBatches(list, 400)) await c.run({ type: 'append', table, rows: b }).result;
    const phases = new Set<string>();
    const model = defaultModelConfigs()[1]!;
    const report = await c.run<EvaluationReport>(
      {
        type: 'evaluate',
        model,
        protocol: 'honest',
        testFrom: OULAD_TEST_FROM,
        ruleIndicator: 'due_submitted_share',
      },
      (phase, done, total) => {
        expect(done).toBeLessThanOrEqual(total);
        phases.add(phase);
      },
    ).result;
    const reg = defaultRegistry();
    const m = validateModelConfig(reg, model);
    const target = reg.targets.get(m.targetId);
    const direct = await evaluate({
      protocol: 'honest',
      backend: reg.backends.get('lr'),
      target,
      testFrom: OULAD_TEST_FROM,
      ruleIndicator: 'due_submitted_share',
      dataset: buildDataset({
        data: buildActivityData(r),
        analyser: reg.analysers.get(target.analyser),
        target,
        indicators: m.indicatorIds.map((i) => reg.indicators.get(i)),
        timeSplitting: resolveTimeSplitting(reg, m.timeSplittingId!),
        now: NOW,
        mode: 'training',
        averages: m.averages,
        missingFlags: m.missingFlags,
      }),
    });
    expect(report.ranges[0]!.model!.auc).toBe(direct.ranges[0]!.model!.auc);
    expect([...phases].sort()).toEqual(['evaluation', 'indicators']);
  });
});

// The analytics worker host driven as the page would: rows appended in batches, jobs with progress, a cancel
// that stops a running job, validation errors with paths, and the NN backend initialised on demand (cpu in Node).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { toBatches } from '../domain/analytics/types.ts';
import { createAnalyticsHost, type AnalyticsResponse } from './analytics-host.ts';
import { createNeuralNetworkBackend } from './nn-backend.ts';
import { selectTfBackend } from './tf-backend-select.ts';
import { syntheticWorld, T0, WEEK } from '../../../test/fixtures/analytics/synthetic-world.ts';

const NOW = T0 + 3 * 14 * WEEK + 5 * WEEK;
const model = {
  id: 'm',
  name: 'Dropout',
  targetId: 'course_dropout',
  indicatorIds: ['read_actions', 'due_submitted_share', 'recent_activity'],
  timeSplittingId: 'quarters',
  backendId: 'lr',
};

function setup() {
  const out: AnalyticsResponse[] = [];
  const host = createAnalyticsHost((m) => out.push(m), {
    now: () => NOW,
    pause: () => new Promise((r) => setTimeout(r, 0)),
    async initTf(prefer) {
      const choice = await selectTfBackend(tf, { prefer: prefer ?? 'cpu' });
      return {
        choice,
        register: (reg) => reg.backends.register(createNeuralNetworkBackend(tf, { epochs: 3 })),
      };
    },
  });
  return { host, out, result: (id: number) => out.find((m) => m.id === id && m.type !== 'progress') };
}

async function load(host: ReturnType<typeof setup>['host']) {
  const w = syntheticWorld({ courses: 4, studentsPerCourse: 60 });
  let id = 1000;
  for (const table of ['courses', 'activities', 'logs', 'submissions', 'enrolments', 'users'] as const)
    for (const batch of toBatches(w[table] as unknown[], 2000))
      await host.handle({ id: id++, type: 'append', table, rows: batch });
}

describe('analytics worker host', () => {
  it('[ANA-1][ANA-8.1] rows arrive in batches; train then predict report progress and return results', async () => {
    const { host, out, result } = setup();
    await load(host);
    await host.handle({ id: 1, type: 'train', model, usedForTraining: [] });
    const trained = result(1);
    expect(trained?.type).toBe('result');
    const t = (trained as { value: { trained: unknown; usedKeys: string[] } }).value;
    expect(out.some((m) => m.id === 1 && m.type === 'progress' && m.phase === 'indicators')).toBe(true);
    await host.handle({ id: 2, type: 'predict', model, trained: t.trained, alreadyPredicted: [] });
    const p = result(2) as {
      type: 'result';
      value: { predictions: { courseId: string }[]; processedKeys: string[] };
    };
    expect(p.value.processedKeys.length).toBeGreaterThan(0);
    expect(p.value.predictions.every((x) => x.courseId === 'c4')).toBe(true);
  });

  it('[ANA-2.4] a cancel request stops a running evaluation, which then reports "cancelled" and no result', async () => {
    const { host, out, result } = setup();
    await load(host);
    const job = host.handle({ id: 5, type: 'evaluate', model, protocol: 'moodle', seed: 1 });
    // Cancel as soon as the first progress message is out (the host yields between courses).
    while (!out.some((m) => m.id === 5 && m.type === 'progress')) await new Promise((r) => setTimeout(r, 0));
    await host.handle({ id: 6, type: 'cancel', target: 5 });
    await job;
    expect(result(5)).toMatchObject({ type: 'error', cancelled: true });
  });

  it('[ANA-8.0] an invalid model comes back as an error naming the JSON path', async () => {
    const { host, result } = setup();
    await host.handle({
      id: 7,
      type: 'train',
      model: { ...model, indicatorIds: ['nope'] },
      usedForTraining: [],
    });
    const e = result(7) as { type: 'error'; problems: readonly { at: string }[] };
    expect(e.type).toBe('error');
    expect(e.problems.map((p) => p.at)).toContain('$.indicatorIds[0]');
  });

  it('[ANA-6.3] the NN backend becomes available after init-tf, which reports the backend chosen', async () => {
    const { host, result } = setup();
    await load(host);
    await host.handle({ id: 8, type: 'train', model: { ...model, backendId: 'nn' }, usedForTraining: [] });
    expect(result(8)).toMatchObject({ type: 'error' });
    await host.handle({ id: 9, type: 'init-tf', prefer: 'cpu' });
    expect(result(9)).toMatchObject({ type: 'result', value: { backend: 'cpu' } });
    await host.handle({ id: 10, type: 'editor' });
    expect((result(10) as { value: { backends: { id: string }[] } }).value.backends.map((b) => b.id)).toEqual(
      ['lr', 'nn'],
    );
    await host.handle({ id: 11, type: 'train', model: { ...model, backendId: 'nn' }, usedForTraining: [] });
    expect(result(11)).toMatchObject({ type: 'result', value: { trained: { backend: 'nn' } } });
  });
});

// The pure parts of the analytics device tables (fake-indexeddb is not installed; the IndexedDB round trip is
// covered by test/e2e/analytics.spec.ts): used-sample rows, batch counts, trained-model export and import.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/shared/errors';
import { logisticRegressionBackend, toChunks } from '../domain/analytics/backend';
import { defaultRegistry } from '../domain/analytics/registry';
import { validateModelConfig } from '../domain/analytics/model';
import { usedKey } from '../domain/analytics/dataset';
import { ANALYTICS_BATCH_SIZE } from '../domain/analytics/types';
import { defaultModelConfigs } from '../state/analytics-view';
import {
  batchCount,
  parseTrainedExport,
  trainedExportJson,
  usedKeysOf,
  usedOwner,
  usedRows,
} from './analytics-store';

function problemsOf(f: () => unknown): readonly { at: string; message: string }[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  return [];
}

describe('analytics store', () => {
  it('[ANA-2.5] used keys survive the table round trip, even with # and : in sample ids', () => {
    const keys = [usedKey('AAA-2014J:11391', 0), usedKey('c#1:u', 3), usedKey('x', 12)];
    const rows = usedRows(usedOwner('train', 'm', 2), keys);
    expect(rows[1]).toEqual({ modelId: 'train:m:v2', sampleId: 'c#1:u', rangeIndex: 3 });
    expect(usedKeysOf(rows)).toEqual(keys);
    expect(() => usedRows('o', ['no-range'])).toThrow(/not a <sample>#<range> key/);
  });

  it('[ANA-2.5] a new model version and the other purpose start with no used samples', () => {
    const owners = new Set([
      usedOwner('train', 'm', 1),
      usedOwner('train', 'm', 2),
      usedOwner('predict', 'm', 1),
    ]);
    expect(owners.size).toBe(3);
  });

  it('[ANA-1] writes are counted in batches of ANALYTICS_BATCH_SIZE', () => {
    const n = ANALYTICS_BATCH_SIZE;
    expect(batchCount({ logs: new Array(n + 1).fill(0), courses: [1], users: [] })).toBe(3);
    expect(batchCount({ logs: new Array(2 * n).fill(0) })).toBe(2);
  });

  it('[ANA-6.5] a trained model exports and imports unchanged', async () => {
    const x = new Float64Array([0, 1, 1, 0, 2, 1, 3, 0, 4, 1, 5, 0]);
    const y = new Float64Array([0, 0, 0, 1, 1, 1]);
    const trained = await logisticRegressionBackend.train(toChunks(x, y, 6, 2), {
      targetType: 'binary',
      classes: [0, 1],
      featureNames: ['a', 'b'],
      trainedAt: 100,
    });
    const config = validateModelConfig(defaultRegistry(), defaultModelConfigs()[1]);
    const text = trainedExportJson(config, {
      modelId: config.id,
      modelVersion: 1,
      trained,
      samples: 6,
      trainedAt: 100,
    });
    const back = parseTrainedExport(text);
    expect(back.trained).toEqual(trained);
    expect(back.samples).toBe(6);
    expect(back.model).toEqual(config);
  });

  it('[ANA-6.5] a bad export names the path at fault and nothing is returned', () => {
    expect(problemsOf(() => parseTrainedExport('{oops'))[0]!.at).toBe('$');
    expect(problemsOf(() => parseTrainedExport('{"model":{}}'))[0]!.at).toBe('$.trained');
    const p = problemsOf(() => parseTrainedExport(JSON.stringify({ trained: { format: 'other' } })));
    expect(p.length).toBeGreaterThan(0);
    expect(p.every((x) => x.at.startsWith('$.trained'))).toBe(true);
  });
});

// TF.js neural-network backend pinned to cpu and to wasm in Node: learns a separable problem, round-trips
// through JSON, continues from a previous model; backend selection rejects software WebGL renderers.
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { seededRng } from '../domain/shared/clock.ts';
import { parseTrainedModel, toChunks } from '../domain/analytics/backend.ts';
import { rocAuc } from '../domain/analytics/metrics.ts';
import { createNeuralNetworkBackend, hiddenLayers, moodleBatchSize, moodleEpochs } from './nn-backend.ts';
import { isSoftwareRenderer, selectTfBackend } from './tf-backend-select.ts';

const WASM_DIR = join(
  resolve(import.meta.dirname, '../../..'),
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/',
);

function data(n: number, seed: number) {
  const rng = seededRng(seed);
  const p = 4;
  const x = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) x[i * p + j] = rng.next() * 2 - 1;
    // Non-linear rule (an XOR of signs) a linear model cannot learn.
    y[i] = x[i * p]! * x[i * p + 1]! > 0 ? 1 : 0;
  }
  return { x, y, p, n };
}

const spec = {
  targetType: 'binary' as const,
  classes: [0, 1],
  featureNames: ['a', 'b', 'c', 'd'],
  trainedAt: 0,
  seed: 3,
};

describe('neural network backend', () => {
  it('[ANA-6.4] sizes the network, batches and epochs like moodlemlbackend', () => {
    expect(hiddenLayers(1, 30)).toEqual([10]);
    expect(hiddenLayers(500, 30)).toEqual([10, 10]);
    expect(hiddenLayers(500, 12)).toEqual([8, 8]);
    expect(moodleEpochs(1000)).toBe(580);
    expect(moodleEpochs(10000)).toBe(170);
    expect(moodleBatchSize(20000)).toBe(2000);
    expect(moodleBatchSize(500)).toBe(500);
  });

  it('[ANA-6.3] WebGL on a software renderer is not a GPU', () => {
    expect(
      isSoftwareRenderer(
        'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
      ),
    ).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0)')).toBe(
      false,
    );
  });

  for (const pin of ['cpu', 'wasm'] as const) {
    it(`[ANA-6.4] pinned to ${pin}: learns a non-linear rule, exports and re-imports to the same predictions`, async () => {
      const choice = await selectTfBackend(tf, { prefer: pin, wasmPath: WASM_DIR });
      expect(choice.backend).toBe(pin);
      expect(tf.getBackend()).toBe(pin);
      const nn = createNeuralNetworkBackend(tf, { epochs: 150 });
      const tr = data(1500, 1);
      const te = data(500, 2);
      let progress = 0;
      const model = await nn.train(toChunks(tr.x, tr.y, tr.n, tr.p, 400), spec, {
        onProgress: (d) => (progress = d),
      });
      expect(progress).toBe(150);
      expect((model.params as { tfBackend: string }).tfBackend).toBe(pin);
      const pred = await nn.predict(model, toChunks(te.x, null, te.n, te.p));
      const p1 = Float64Array.from({ length: te.n }, (_, i) => pred.values[i * 2 + 1]!);
      expect(rocAuc(te.y, p1)).toBeGreaterThan(0.9);
      const back = parseTrainedModel(JSON.parse(JSON.stringify(model)));
      const again = await nn.predict(back, toChunks(te.x, null, te.n, te.p));
      expect(Array.from(again.values)).toEqual(Array.from(pred.values));
    });
  }

  it('[ANA-6.4] continues training from a previous model (keeps its columns and layers)', async () => {
    await selectTfBackend(tf, { prefer: 'cpu' });
    const nn = createNeuralNetworkBackend(tf, { epochs: 5 });
    const a = data(800, 4);
    const first = await nn.train(toChunks(a.x, a.y, a.n, a.p), spec);
    const second = await nn.train(toChunks(a.x, a.y, a.n, a.p), { ...spec, previous: first });
    expect(second.samples).toBe(1600);
    expect((second.params as { units: number[] }).units).toEqual((first.params as { units: number[] }).units);
  });

  it('[ANA-6.4] training without one of the classes is refused', async () => {
    const nn = createNeuralNetworkBackend(tf, { epochs: 1 });
    await expect(nn.train(toChunks(new Float64Array(8), new Float64Array(2), 2, 4), spec)).rejects.toThrow(
      /class 1 has 0 samples/,
    );
  });
});

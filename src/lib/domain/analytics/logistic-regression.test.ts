// IRLS logistic regression: recovers known coefficients, satisfies its optimality condition, stays finite on separable data.
import { describe, expect, it } from 'vitest';
import { seededRng } from '../shared/clock.ts';
import {
  choleskySolve,
  fitLogistic,
  fitRidge,
  predictLinear,
  predictLogistic,
} from './logistic-regression.ts';
import { createLogisticRegressionBackend, toChunks } from './backend.ts';

function synthetic(n: number, w: number[], seed: number) {
  const rng = seededRng(seed);
  const p = w.length - 1;
  const x = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = w[0]!;
    for (let j = 0; j < p; j++) {
      // Standard-normal-ish features (sum of uniforms), so standardisation barely changes the scale.
      const v = (rng.next() + rng.next() + rng.next() - 1.5) * 2;
      x[i * p + j] = v;
      t += w[j + 1]! * v;
    }
    y[i] = rng.next() < 1 / (1 + Math.exp(-t)) ? 1 : 0;
  }
  return { x, y, p };
}

describe('logistic regression (IRLS)', () => {
  it('[ANA-6.1] Cholesky solves a small SPD system', () => {
    const a = new Float64Array([4, 2, 2, 3]);
    const b = choleskySolve(a, new Float64Array([2, 1]), 2);
    // 4x + 2y = 2, 2x + 3y = 1 -> x = 0.5, y = 0.
    expect(b[0]).toBeCloseTo(0.5, 12);
    expect(b[1]).toBeCloseTo(0, 12);
  });

  it('[ANA-6.1] recovers the generating coefficients on a large sample', () => {
    const truth = [-0.5, 1.5, -1, 0];
    const { x, y, p } = synthetic(40000, truth, 3);
    const m = fitLogistic(x, y, 40000, p, { lambda: 0 });
    expect(m.converged).toBe(true);
    // Back to the raw feature scale: w_raw_j = w_j / scale_j.
    const raw = truth.slice(1).map((_, j) => m.weights[j + 1]! / m.std.scale[j]!);
    raw.forEach((w, j) => expect(Math.abs(w - truth[j + 1]!)).toBeLessThan(0.08));
  });

  it('[ANA-6.1] at the solution the penalised gradient is zero (checked independently of the solver)', () => {
    const { x, y, p } = synthetic(3000, [0.3, 1, -2, 0.5, 0.1], 11);
    const lambda = 1;
    const m = fitLogistic(x, y, 3000, p, { lambda });
    const prob = predictLogistic(m, x, 3000, p);
    for (let j = 0; j <= p; j++) {
      let g = 0;
      for (let i = 0; i < 3000; i++) {
        const z = j === 0 ? 1 : (x[i * p + j - 1]! - m.std.mean[j - 1]!) / m.std.scale[j - 1]!;
        g += z * (y[i]! - prob[i]!);
      }
      if (j > 0) g -= lambda * m.weights[j]!;
      expect(Math.abs(g)).toBeLessThan(1e-6);
    }
  });

  it('[ANA-6.1] perfectly separable data still gives finite weights and correct ranking', () => {
    const x = new Float64Array([-2, -1, -0.5, 0.5, 1, 2]);
    const y = new Float64Array([0, 0, 0, 1, 1, 1]);
    const m = fitLogistic(x, y, 6, 1);
    expect(m.weights.every(Number.isFinite)).toBe(true);
    const pr = predictLogistic(m, x, 6, 1);
    expect(pr[0]!).toBeLessThan(0.5);
    expect(pr[5]!).toBeGreaterThan(0.5);
  });

  it('[ANA-6.1] missing values (NaN) count as 0 and constant columns do not break the fit', () => {
    const x = new Float64Array([NaN, 1, 1, 1, -1, 1, 2, 1]);
    const y = new Float64Array([0, 1, 0, 1]);
    const m = fitLogistic(x, y, 4, 2);
    expect(m.weights.every(Number.isFinite)).toBe(true);
  });

  it('[ANA-6.2] ridge regression fits a noiseless line', () => {
    const x = new Float64Array([0, 1, 2, 3, 4]);
    const y = new Float64Array([1, 3, 5, 7, 9]);
    const m = fitRidge(x, y, 5, 1, 0);
    const pr = predictLinear(m, new Float64Array([10]), 1, 1);
    expect(pr[0]).toBeCloseTo(21, 8);
  });

  it('[ANA-6.1] a backend with a larger L2 penalty shrinks the weights; a negative penalty is refused', async () => {
    const { x, y, p } = synthetic(2000, [0.2, 1.5, -1, 0.5], 11);
    const spec = {
      targetType: 'binary' as const,
      classes: [0, 1],
      featureNames: ['a', 'b', 'c'],
      trainedAt: 0,
      seed: 1,
    };
    const norm = async (lambda: number) => {
      const m = await createLogisticRegressionBackend({ lambda }).train(toChunks(x, y, 2000, p), spec);
      const w = (m.params as { models: { weights: number[] }[]; lambda: number }).models[0]!.weights;
      expect((m.params as { lambda: number }).lambda).toBe(lambda);
      return Math.hypot(...w.slice(1));
    };
    expect(await norm(2000)).toBeLessThan((await norm(1)) * 0.8);
    expect(() => createLogisticRegressionBackend({ lambda: -1 })).toThrow(/lambda/);
  });
});

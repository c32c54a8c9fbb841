// Evaluation metrics against small hand-worked examples.
import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  bestF1Threshold,
  binaryMetrics,
  populationSd,
  rocAuc,
  rocCurve,
  weightedF1,
} from './metrics.ts';

describe('metrics', () => {
  it('[ANA-7.2] AUC counts positive-above-negative pairs, ties as half', () => {
    // Pairs (pos, neg): (0.9,0.1) win, (0.9,0.5) win, (0.5,0.1) win, (0.5,0.5) tie -> 3.5 / 4.
    expect(rocAuc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1])).toBeCloseTo(0.875, 12);
    expect(rocAuc([1, 0], [0.2, 0.8])).toBe(0);
    expect(Number.isNaN(rocAuc([1, 1], [0.2, 0.8]))).toBe(true);
  });

  it('[ANA-7.2] PR-AUC is average precision over recall steps', () => {
    // Ranked: 1 (P=1, R=.5), 0, 1 (P=2/3, R=1) -> 0.5*1 + 0.5*2/3.
    expect(averagePrecision([1, 0, 1], [0.9, 0.8, 0.7])).toBeCloseTo(0.5 + 1 / 3, 12);
  });

  it('[ANA-7.2] confusion-matrix metrics at a threshold', () => {
    // y: 1 1 1 0 0 0 0 0; predicted positive at >= 0.5: rows 0,1,3 -> TP 2, FP 1, FN 1, TN 4.
    const y = [1, 1, 1, 0, 0, 0, 0, 0];
    const s = [0.9, 0.8, 0.2, 0.7, 0.1, 0.1, 0.3, 0.4];
    const m = binaryMetrics(y, s, 0.5);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.mcc).toBeCloseTo((2 * 4 - 1 * 1) / Math.sqrt(3 * 3 * 5 * 5), 12);
    const brier = (0.01 + 0.04 + 0.64 + 0.49 + 0.01 + 0.01 + 0.09 + 0.16) / 8;
    expect(m.brier).toBeCloseTo(brier, 12);
    // Negative class: precision 4/5, recall 4/5 -> F1 0.8; weighted (3 * 2/3 + 5 * 0.8) / 8.
    expect(m.weightedF1).toBeCloseTo((3 * (2 / 3) + 5 * 0.8) / 8, 12);
    expect(m.accuracy).toBeCloseTo(6 / 8, 12);
  });

  it('[ANA-7.1] weighted F1 of "nobody at risk" is high on imbalanced data (why Moodle\'s gate misleads)', () => {
    const y = [...new Array(90).fill(0), ...new Array(10).fill(1)];
    const pred = new Array(100).fill(0);
    // Class 0: P .9, R 1 -> F1 = 1.8/1.9; class 1: 0.
    expect(weightedF1(y, pred, [0, 1])).toBeCloseTo((90 * (1.8 / 1.9)) / 100, 12);
    expect(weightedF1(y, pred, [0, 1])).toBeGreaterThan(0.7);
  });

  it('[ANA-7.2] ROC curve runs from (0,0) to (1,1) and is thinned to the requested size', () => {
    const y = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const s = Array.from({ length: 500 }, (_, i) => (i * 7919) % 500);
    const c = rocCurve(y, s, 21);
    expect(c).toHaveLength(21);
    expect(c[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(c[20]).toMatchObject({ fpr: 1, tpr: 1 });
  });

  it('[ANA-7.2] the F1-best threshold separates cleanly separable scores', () => {
    expect(bestF1Threshold([0, 0, 1, 1], [0.1, 0.2, 0.6, 0.7])).toBe(0.6);
  });

  it('[ANA-7.1] population SD divides by n', () => {
    expect(populationSd([1, 3])).toBe(1);
  });
});

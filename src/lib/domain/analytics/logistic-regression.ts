// Exact L2-regularised logistic regression by Newton/IRLS on Float64Array (plus one-vs-rest multiclass and ridge
// regression for linear targets). Pure math: no tfjs, no clock, no randomness.
import { throwIfCancelled, type CancelToken } from '../shared/cancel.ts';

export interface Standardiser {
  readonly mean: number[];
  readonly scale: number[];
}

export interface LogisticModel {
  /** weights[0] = intercept, then one per (standardised) feature. */
  readonly weights: number[];
  readonly std: Standardiser;
  readonly iterations: number;
  readonly converged: boolean;
}

export interface IrlsOptions {
  /** L2 penalty on standardised coefficients (not the intercept). */
  readonly lambda?: number;
  readonly maxIterations?: number;
  /** Stop when the largest coefficient change is below this. */
  readonly tolerance?: number;
  /** Per-row weights (e.g. class balancing); 1 when omitted. */
  readonly sampleWeights?: Float64Array;
  readonly cancel?: CancelToken;
}

/** NaN (missing) -> 0, as Moodle's Python backend fills missing values. */
const val = (v: number): number => (Number.isNaN(v) ? 0 : v);

export function fitStandardiser(x: Float64Array, rows: number, p: number): Standardiser {
  const mean = new Array<number>(p).fill(0);
  const sq = new Array<number>(p).fill(0);
  for (let i = 0; i < rows; i++) {
    const o = i * p;
    for (let j = 0; j < p; j++) {
      const v = val(x[o + j]!);
      mean[j]! += v;
      sq[j]! += v * v;
    }
  }
  const scale = new Array<number>(p);
  for (let j = 0; j < p; j++) {
    mean[j] = rows > 0 ? mean[j]! / rows : 0;
    const variance = rows > 0 ? sq[j]! / rows - mean[j]! * mean[j]! : 0;
    // Constant columns get scale 1 and end up all zeros (Moodle's Python backend drops them).
    scale[j] = variance > 1e-12 ? Math.sqrt(variance) : 1;
  }
  return { mean, scale };
}

/** Builds the standardised design matrix with a leading 1 column: rows x (p + 1). */
function design(x: Float64Array, rows: number, p: number, s: Standardiser): Float64Array {
  const q = p + 1;
  const z = new Float64Array(rows * q);
  for (let i = 0; i < rows; i++) {
    const o = i * p;
    const oz = i * q;
    z[oz] = 1;
    for (let j = 0; j < p; j++) {
      const v = val(x[o + j]!);
      z[oz + 1 + j] =
        s.scale[j] === 1 && Math.abs(v - s.mean[j]!) < 1e-15 ? 0 : (v - s.mean[j]!) / s.scale[j]!;
    }
  }
  return z;
}

/** Factorises symmetric positive-definite A (q x q, row-major) in place into its lower Cholesky factor L. */
export function choleskyFactor(a: Float64Array, q: number): void {
  for (let j = 0; j < q; j++) {
    let d = a[j * q + j]!;
    for (let k = 0; k < j; k++) d -= a[j * q + k]! * a[j * q + k]!;
    if (!(d > 0)) d = 1e-10; // numerically singular direction: damp instead of failing
    const l = Math.sqrt(d);
    a[j * q + j] = l;
    for (let i = j + 1; i < q; i++) {
      let s = a[i * q + j]!;
      for (let k = 0; k < j; k++) s -= a[i * q + k]! * a[j * q + k]!;
      a[i * q + j] = s / l;
    }
  }
}

/** Solves L Lᵀ b = c given the factor from choleskyFactor. */
export function choleskySolveFactored(l: Float64Array, c: Float64Array, q: number): Float64Array {
  const y = new Float64Array(q);
  for (let i = 0; i < q; i++) {
    let s = c[i]!;
    for (let k = 0; k < i; k++) s -= l[i * q + k]! * y[k]!;
    y[i] = s / l[i * q + i]!;
  }
  const b = new Float64Array(q);
  for (let i = q - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < q; k++) s -= l[k * q + i]! * b[k]!;
    b[i] = s / l[i * q + i]!;
  }
  return b;
}

/** Solves A b = c for symmetric positive-definite A (q x q, row-major) by Cholesky; A is overwritten. */
export function choleskySolve(a: Float64Array, c: Float64Array, q: number): Float64Array {
  choleskyFactor(a, q);
  return choleskySolveFactored(a, c, q);
}

const sigmoid = (t: number): number => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

/**
 * [ANA-6.1] Fits P(y=1) = sigmoid(w·z) by Newton-Raphson (IRLS) on the penalised log-likelihood.
 * Labels must be 0/1. Converges in a handful of iterations; each costs O(n·q²).
 */
export function fitLogistic(
  x: Float64Array,
  y: Float64Array,
  rows: number,
  p: number,
  o: IrlsOptions = {},
): LogisticModel {
  const lambda = o.lambda ?? 1;
  const maxIt = o.maxIterations ?? 25;
  const tol = o.tolerance ?? 1e-6;
  const std = fitStandardiser(x, rows, p);
  const z = design(x, rows, p, std);
  const q = p + 1;
  let w = new Float64Array(q);
  // Start the intercept at the log-odds of the base rate: one Newton step fewer on imbalanced labels.
  let ySum = 0;
  let wSum = 0;
  for (let i = 0; i < rows; i++) {
    const sw = o.sampleWeights ? o.sampleWeights[i]! : 1;
    ySum += sw * y[i]!;
    wSum += sw;
  }
  const base = wSum > 0 ? Math.min(Math.max(ySum / wSum, 1e-6), 1 - 1e-6) : 0.5;
  w[0] = Math.log(base / (1 - base));
  /** Penalised log-likelihood (what IRLS maximises). */
  const objective = (wv: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < rows; i++) {
      const oz = i * q;
      let t = 0;
      for (let j = 0; j < q; j++) t += z[oz + j]! * wv[j]!;
      const sw = o.sampleWeights ? o.sampleWeights[i]! : 1;
      // log(1 + e^t), computed without overflow.
      const softplus = t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
      f += sw * (y[i]! * t - softplus);
    }
    for (let j = 1; j < q; j++) f -= (lambda / 2) * wv[j]! * wv[j]!;
    return f;
  };
  let fCur = objective(w);
  const h = new Float64Array(q * q);
  const g = new Float64Array(q);
  // Once steps are small the Hessian barely changes: keep its factor and only re-evaluate the gradient
  // (a chord Newton step costs O(n·q) instead of O(n·q²)); the fixed point, gradient = 0, is the same.
  const REUSE_BELOW = 0.1;
  let factorFresh = false;
  let lastDelta = Infinity;
  // A chord step must shrink the step size; otherwise the next iteration refreshes the Hessian.
  let contractLimit = Infinity;
  let converged = false;
  let it = 0;
  for (; it < maxIt * 3; it++) {
    throwIfCancelled(o.cancel, 'training');
    const newHessian = !(lastDelta < REUSE_BELOW && factorFresh && !(lastDelta > contractLimit));
    if (newHessian) h.fill(0);
    g.fill(0);
    for (let i = 0; i < rows; i++) {
      const oz = i * q;
      let t = 0;
      for (let j = 0; j < q; j++) t += z[oz + j]! * w[j]!;
      const pr = sigmoid(t);
      const sw = o.sampleWeights ? o.sampleWeights[i]! : 1;
      const r = sw * (y[i]! - pr);
      if (!newHessian) {
        for (let j = 0; j < q; j++) g[j] = g[j]! + z[oz + j]! * r;
        continue;
      }
      const wt = sw * Math.max(pr * (1 - pr), 1e-10);
      for (let j = 0; j < q; j++) {
        const zj = z[oz + j]!;
        if (zj === 0) continue;
        g[j] = g[j]! + zj * r;
        const a = wt * zj;
        const row = j * q;
        for (let k = 0; k <= j; k++) h[row + k] = h[row + k]! + a * z[oz + k]!;
      }
    }
    for (let j = 1; j < q; j++) g[j] = g[j]! - lambda * w[j]!;
    if (newHessian) {
      for (let j = 0; j < q; j++) {
        for (let k = 0; k < j; k++) h[k * q + j] = h[j * q + k]!;
        if (j > 0) h[j * q + j] = h[j * q + j]! + lambda;
      }
      choleskyFactor(h, q);
      factorFresh = true;
    }
    const step = choleskySolveFactored(h, g, q);
    // Backtracking: Newton without step control can overshoot on nearly separable data; while steps are large,
    // halve them until the penalised log-likelihood does not fall. Small steps (the chord regime) skip the check;
    // a chord step that fails to contract triggers a fresh Hessian instead.
    let bigStep = false;
    for (let j = 0; j < q; j++) if (Math.abs(step[j]!) >= REUSE_BELOW) bigStep = true;
    let next = new Float64Array(q);
    for (let j = 0; j < q; j++) next[j] = w[j]! + step[j]!;
    if (bigStep) {
      if (Number.isNaN(fCur)) fCur = objective(w);
      let fNext = objective(next);
      for (let halvings = 0; halvings < 30 && fNext < fCur - 1e-12 * Math.abs(fCur); halvings++) {
        for (let j = 0; j < q; j++) step[j] = step[j]! / 2;
        next = new Float64Array(q);
        for (let j = 0; j < q; j++) next[j] = w[j]! + step[j]!;
        fNext = objective(next);
      }
      fCur = fNext;
    } else fCur = NaN; // recomputed lazily when a large step comes again
    let maxDelta = 0;
    for (let j = 0; j < q; j++) maxDelta = Math.max(maxDelta, Math.abs(step[j]!));
    w = next;
    contractLimit = newHessian ? Infinity : lastDelta / 2;
    lastDelta = maxDelta;
    // Chord steps converge linearly, so their stopping test is stricter than a Newton step's.
    if (maxDelta < (newHessian ? tol : tol / 10)) {
      converged = true;
      it++;
      break;
    }
  }
  return { weights: [...w], std, iterations: it, converged };
}

/** P(y = 1) for each row. */
export function predictLogistic(m: LogisticModel, x: Float64Array, rows: number, p: number): Float64Array {
  const out = new Float64Array(rows);
  const w = m.weights;
  for (let i = 0; i < rows; i++) {
    const o = i * p;
    let t = w[0]!;
    for (let j = 0; j < p; j++) {
      const v = val(x[o + j]!);
      const sc = m.std.scale[j]!;
      t += (w[j + 1]! * (v - m.std.mean[j]!)) / sc;
    }
    out[i] = sigmoid(t);
  }
  return out;
}

/** [ANA-6.2] Ridge regression (linear targets): exact normal-equation solve on standardised features. */
export function fitRidge(
  x: Float64Array,
  y: Float64Array,
  rows: number,
  p: number,
  lambda = 1,
): LogisticModel {
  const std = fitStandardiser(x, rows, p);
  const z = design(x, rows, p, std);
  const q = p + 1;
  const h = new Float64Array(q * q);
  const g = new Float64Array(q);
  for (let i = 0; i < rows; i++) {
    const oz = i * q;
    for (let j = 0; j < q; j++) {
      const zj = z[oz + j]!;
      g[j] = g[j]! + zj * y[i]!;
      for (let k = 0; k <= j; k++) h[j * q + k] = h[j * q + k]! + zj * z[oz + k]!;
    }
  }
  for (let j = 0; j < q; j++) {
    for (let k = 0; k < j; k++) h[k * q + j] = h[j * q + k]!;
    if (j > 0) h[j * q + j] = h[j * q + j]! + lambda;
  }
  return { weights: [...choleskySolve(h, g, q)], std, iterations: 1, converged: true };
}

export function predictLinear(m: LogisticModel, x: Float64Array, rows: number, p: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let t = m.weights[0]!;
    for (let j = 0; j < p; j++)
      t += (m.weights[j + 1]! * (val(x[i * p + j]!) - m.std.mean[j]!)) / m.std.scale[j]!;
    out[i] = t;
  }
  return out;
}

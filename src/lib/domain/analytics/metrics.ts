// Classification metrics for evaluations: ROC AUC, PR-AUC, positive-class precision/recall/F1, MCC, Brier,
// weighted F1 (Moodle's score) and ROC curve points. Pure arithmetic on arrays.

export interface BinaryMetrics {
  readonly n: number;
  readonly positives: number;
  /** ROC AUC (probability a random positive scores above a random negative; ties count half). NaN if one class is absent. */
  readonly auc: number;
  /** Average precision (area under the precision-recall step curve). */
  readonly prAuc: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly mcc: number;
  readonly brier: number;
  /** Moodle's score: F1 of each class weighted by its support. */
  readonly weightedF1: number;
  readonly accuracy: number;
  readonly threshold: number;
}

export interface RocPoint {
  readonly fpr: number;
  readonly tpr: number;
  readonly threshold: number;
}

const safeDiv = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Order of indices by score descending. */
function byScoreDesc(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b]! - scores[a]!);
}

/** ROC AUC with average ranks for ties (Mann-Whitney U). */
export function rocAuc(y: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = y.length;
  const idx = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!] === 1) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Average precision: sum over thresholds of (recall step) x precision, ties processed together. */
export function averagePrecision(y: ArrayLike<number>, scores: ArrayLike<number>): number {
  const idx = byScoreDesc(scores);
  let totalPos = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) totalPos++;
  if (totalPos === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!] === 1) tp++;
      else fp++;
    }
    const recall = tp / totalPos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
    i = j + 1;
  }
  return ap;
}

/** ROC curve points, at most `maxPoints` (evenly thinned), from (0,0) to (1,1). */
export function rocCurve(y: ArrayLike<number>, scores: ArrayLike<number>, maxPoints = 101): RocPoint[] {
  const idx = byScoreDesc(scores);
  let P = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) P++;
  const N = y.length - P;
  const pts: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!] === 1) tp++;
      else fp++;
    }
    pts.push({ fpr: safeDiv(fp, N), tpr: safeDiv(tp, P), threshold: scores[idx[i]!]! });
    i = j + 1;
  }
  if (pts.length <= maxPoints) return pts;
  const out: RocPoint[] = [];
  for (let k = 0; k < maxPoints; k++) out.push(pts[Math.round((k * (pts.length - 1)) / (maxPoints - 1))]!);
  return out;
}

/** All binary metrics for labels y in {0,1} and scores = P(y=1), classifying at `threshold`. */
export function binaryMetrics(
  y: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold = 0.5,
): BinaryMetrics {
  const n = y.length;
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let brier = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    const pos = y[i] === 1;
    const pred = s >= threshold;
    if (pred && pos) tp++;
    else if (pred) fp++;
    else if (pos) fn++;
    else tn++;
    brier += (s - (pos ? 1 : 0)) ** 2;
  }
  const precision = safeDiv(tp, tp + fp);
  const recall = safeDiv(tp, tp + fn);
  const f1 = safeDiv(2 * precision * recall, precision + recall);
  const negPrecision = safeDiv(tn, tn + fn);
  const negRecall = safeDiv(tn, tn + fp);
  const negF1 = safeDiv(2 * negPrecision * negRecall, negPrecision + negRecall);
  const P = tp + fn;
  const N = tn + fp;
  const mccDen = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return {
    n,
    positives: P,
    auc: rocAuc(y, scores),
    prAuc: averagePrecision(y, scores),
    precision,
    recall,
    f1,
    mcc: mccDen === 0 ? 0 : (tp * tn - fp * fn) / mccDen,
    brier: n === 0 ? NaN : brier / n,
    weightedF1: n === 0 ? NaN : (P * f1 + N * negF1) / n,
    accuracy: n === 0 ? NaN : (tp + tn) / n,
    threshold,
  };
}

/** Weighted F1 over any set of classes (Moodle's evaluation score for multiclass targets). */
export function weightedF1(
  y: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: readonly number[],
): number {
  const n = y.length;
  if (n === 0) return NaN;
  let total = 0;
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < n; i++) {
      const a = y[i] === c;
      const b = predicted[i] === c;
      if (a && b) tp++;
      else if (b) fp++;
      else if (a) fn++;
    }
    const p = safeDiv(tp, tp + fp);
    const r = safeDiv(tp, tp + fn);
    total += (tp + fn) * safeDiv(2 * p * r, p + r);
  }
  return total / n;
}

/** Threshold maximising positive-class F1 on the given (training) scores; used without looking at test data. */
export function bestF1Threshold(y: ArrayLike<number>, scores: ArrayLike<number>): number {
  const idx = byScoreDesc(scores);
  let P = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) P++;
  if (P === 0) return 0.5;
  let tp = 0;
  let fp = 0;
  let best = -1;
  let bestT = 0.5;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!] === 1) tp++;
      else fp++;
    }
    const f1 = (2 * tp) / (2 * tp + fp + (P - tp));
    if (f1 > best) {
      best = f1;
      bestT = scores[idx[j]!]!;
    }
    i = j + 1;
  }
  return bestT;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Population standard deviation (numpy's default, as Moodle's backends use). */
export function populationSd(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}

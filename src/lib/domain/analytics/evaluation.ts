// Model evaluation, two protocols side by side: Moodle's (10 random 80/20 row splits, weighted F1 mean and
// population SD, the 0.7 / 0.05 gates) and an honest one (train on earlier courses, test on later ones) with
// AUC, PR-AUC, positive-class metrics, MCC and Brier next to majority and rule baselines. Pure; RNG injected.
import type { Rng } from '../shared/clock.ts';
import { throwIfCancelled, type JobOptions } from '../shared/cancel.ts';
import { checkClasses, toChunks, type MlBackend, type Predictions } from './backend.ts';
import { subsetDataset, type Dataset } from './dataset.ts';
import {
  bestF1Threshold,
  binaryMetrics,
  mean,
  populationSd,
  rocCurve,
  weightedF1,
  type BinaryMetrics,
  type RocPoint,
} from './metrics.ts';
import type { Target } from './targets.ts';

/** Moodle evaluation constants (`analytics/classes/model.php`, `lib/mlbackend/php/classes/processor.php`). */
export const MOODLE_MIN_SCORE = 0.7;
export const MOODLE_ACCEPTED_DEVIATION = 0.05;
export const MOODLE_EVALUATION_ITERATIONS = 10;
export const MOODLE_TEST_FRACTION = 0.2;
/** Moodle status bit flags (`\core_analytics\model::OK` etc.). */
export const STATUS = { OK: 0, GENERAL_ERROR: 1, NO_DATASET: 2, LOW_SCORE: 4, NOT_ENOUGH_DATA: 8 } as const;

export interface MoodleEvaluation {
  /** Mean weighted F1 over the iterations. */
  readonly score: number;
  /** Population SD of the iterations' weighted F1. */
  readonly deviation: number;
  readonly scores: readonly number[];
  readonly status: number;
  readonly messages: readonly string[];
  /** Binary targets: model and baseline metrics at threshold 0.5, averaged over the iterations. */
  readonly metrics?: {
    readonly model: MetricSet;
    readonly majority: MetricSet;
    readonly rule: MetricSet | null;
  };
}

export type MetricSet = BinaryMetrics;

export interface RangeEvaluation {
  readonly rangeIndex: number;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly testPositiveRate: number;
  /** Model metrics on the test part (binary targets). */
  readonly model: MetricSet | null;
  readonly baselines: { readonly majority: MetricSet | null; readonly rule: MetricSet | null };
  readonly roc: readonly RocPoint[];
  /** Multiclass: weighted F1 and accuracy; linear: RMSE and MAE. */
  readonly other?: Readonly<Record<string, number>>;
  readonly moodle?: MoodleEvaluation;
  /** Why the range has no metrics (e.g. a class missing from the training courses). */
  readonly note?: string;
}

export interface EvaluationReport {
  readonly protocol: 'honest' | 'moodle';
  readonly targetId: string;
  readonly backendId: string;
  readonly ranges: readonly RangeEvaluation[];
  /** Moodle protocol only: the whole dataset (all ranges), as Moodle reports one score per time splitting. */
  readonly moodle?: MoodleEvaluation;
  readonly trainAnalysables: readonly string[];
  readonly testAnalysables: readonly string[];
}

export interface EvaluateOptions extends JobOptions {
  readonly protocol: 'honest' | 'moodle';
  readonly backend: MlBackend;
  readonly target: Target;
  readonly dataset: Dataset;
  /** Honest protocol: analysables starting at or after this time are the test set; default: the median start. */
  readonly testFrom?: number;
  /** Moodle protocol: random splits. */
  readonly rng?: Rng;
  readonly iterations?: number;
  /** Indicator whose value < 1 means "missed a due assessment" (rule baseline). */
  readonly ruleIndicator?: string;
  readonly trainedAt?: number;
  /** Honest protocol: folds for the course-grouped threshold choice (1 = in-sample). */
  readonly thresholdFolds?: number;
}

const positive = (t: Target): number => t.classes[t.classes.length - 1]!;

async function fitPredict(
  o: EvaluateOptions,
  train: Dataset,
  test: Dataset,
): Promise<{ trainScores: Predictions; testScores: Predictions }> {
  const { backend, target } = o;
  const model = await backend.train(
    toChunks(train.x, train.y, train.rows, train.nFeatures),
    {
      targetType: target.type,
      classes: target.classes,
      featureNames: train.featureNames,
      trainedAt: o.trainedAt ?? 0,
      seed: 1,
    },
    { cancel: o.cancel },
  );
  const trainScores = await backend.predict(model, toChunks(train.x, null, train.rows, train.nFeatures), {
    cancel: o.cancel,
  });
  const testScores = await backend.predict(model, toChunks(test.x, null, test.rows, test.nFeatures), {
    cancel: o.cancel,
  });
  return { trainScores, testScores };
}

const column = (p: Predictions, c: number): Float64Array => {
  const out = new Float64Array(p.rows);
  for (let i = 0; i < p.rows; i++) out[i] = p.values[i * p.width + c]!;
  return out;
};

function argmax(p: Predictions, classes: readonly number[]): Float64Array {
  const out = new Float64Array(p.rows);
  for (let i = 0; i < p.rows; i++) {
    let best = 0;
    for (let c = 1; c < p.width; c++)
      if (p.values[i * p.width + c]! > p.values[i * p.width + best]!) best = c;
    out[i] = classes[best]!;
  }
  return out;
}

/** [ANA-7.3] Rule baseline "missed a due assessment": score 1 when the share of due work submitted is below 100 %. */
function ruleScores(d: Dataset, indicator: string): Float64Array | null {
  const col = d.indicatorIds.indexOf(indicator);
  if (col < 0) return null;
  const n = d.indicatorIds.length;
  const out = new Float64Array(d.rows);
  for (let i = 0; i < d.rows; i++) {
    const v = d.values[i * n + col]!;
    out[i] = !Number.isNaN(v) && v < 1 ? 1 : 0;
  }
  return out;
}

function binaryY(d: Dataset, pos: number): Float64Array {
  return d.y.map((v) => (v === pos ? 1 : 0));
}

/** [ANA-7.1] One Moodle-protocol evaluation of a dataset: `iterations` random 80/20 splits, weighted F1. */
export async function moodleEvaluate(o: EvaluateOptions, d: Dataset): Promise<MoodleEvaluation> {
  const { target } = o;
  const messages: string[] = [];
  if (target.isStatic)
    return {
      score: 1,
      deviation: 0,
      scores: [],
      status: STATUS.GENERAL_ERROR,
      messages: ['static targets cannot be evaluated'],
    };
  if (d.rows === 0)
    return { score: 0, deviation: 0, scores: [], status: STATUS.NO_DATASET, messages: ['no samples'] };
  if (!o.rng) throw new Error('the Moodle protocol needs an injected rng');
  if (target.type !== 'linear') {
    const bad = checkClasses(d.y, d.rows, target.classes, 2);
    if (bad) return { score: 0, deviation: 0, scores: [], status: STATUS.NOT_ENOUGH_DATA, messages: [bad] };
  } else {
    return {
      score: 0,
      deviation: 0,
      scores: [],
      status: STATUS.GENERAL_ERROR,
      messages: ['regression targets are not supported by the Moodle protocol'],
    };
  }
  const n = d.rows;
  const iterations = o.iterations ?? MOODLE_EVALUATION_ITERATIONS;
  const scores: number[] = [];
  const perIt: { model: MetricSet; majority: MetricSet; rule: MetricSet | null }[] = [];
  const pos = positive(target);
  for (let it = 0; it < iterations; it++) {
    await o.pause?.();
    throwIfCancelled(o.cancel, 'evaluation');
    // Fisher-Yates shuffle, then the first 20 % are the test part (not stratified, not grouped — like php-ml RandomSplit).
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(o.rng.next() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    const nTest = Math.round(n * MOODLE_TEST_FRACTION);
    const isTest = new Uint8Array(n);
    for (let i = 0; i < nTest; i++) isTest[order[i]!] = 1;
    const train = subsetDataset(d, (r) => isTest[r] === 0);
    const test = subsetDataset(d, (r) => isTest[r] === 1);
    // An iteration whose training part lacks a class is skipped (Moodle's Python backend does the same).
    if (checkClasses(train.y, train.rows, target.classes, 1)) continue;
    const { testScores } = await fitPredict(o, train, test);
    scores.push(weightedF1(test.y, argmax(testScores, target.classes), target.classes));
    if (target.type === 'binary') {
      const yTest = binaryY(test, pos);
      const rate = mean([...binaryY(train, pos)]);
      const rs = o.ruleIndicator ? ruleScores(test, o.ruleIndicator) : null;
      perIt.push({
        model: binaryMetrics(yTest, column(testScores, target.classes.indexOf(pos)), 0.5),
        majority: binaryMetrics(yTest, new Float64Array(test.rows).fill(rate), rate >= 0.5 ? 0 : 2),
        rule: rs ? binaryMetrics(yTest, rs, 0.5) : null,
      });
    }
  }
  if (scores.length === 0)
    return {
      score: 0,
      deviation: 1,
      scores,
      status: STATUS.NOT_ENOUGH_DATA,
      messages: ['no iteration could be trained'],
    };
  const score = mean(scores);
  const deviation = populationSd(scores);
  let status: number = STATUS.OK;
  if (deviation > MOODLE_ACCEPTED_DEVIATION) {
    status |= STATUS.NOT_ENOUGH_DATA;
    messages.push(
      `evaluation results varied too much (SD ${deviation.toFixed(3)} > ${MOODLE_ACCEPTED_DEVIATION}); more samples may be needed`,
    );
  }
  if (score < MOODLE_MIN_SCORE) {
    status |= STATUS.LOW_SCORE;
    messages.push(`score ${score.toFixed(3)} is below ${MOODLE_MIN_SCORE}`);
  }
  if (status === STATUS.OK)
    messages.push(
      "This is a good model for using to obtain predictions (by Moodle's gates; see the honest protocol).",
    );
  if (perIt.length === 0) return { score, deviation, scores, status, messages };
  const rules = perIt.map((p) => p.rule).filter((r): r is MetricSet => r !== null);
  return {
    score,
    deviation,
    scores,
    status,
    messages,
    metrics: {
      model: averageMetrics(perIt.map((p) => p.model)),
      majority: averageMetrics(perIt.map((p) => p.majority)),
      rule: rules.length === perIt.length ? averageMetrics(rules) : null,
    },
  };
}

/** Field-wise mean of metric sets (NaN fields stay NaN). */
function averageMetrics(ms: readonly MetricSet[]): MetricSet {
  const keys = Object.keys(ms[0]!) as (keyof MetricSet)[];
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = mean(ms.map((m) => m[k]));
  return out as unknown as MetricSet;
}

/** Median of the distinct analysable start times: courses starting at or after it are "later". */
function defaultTestFrom(d: Dataset): number {
  const starts = [...new Set(d.analysableStart)].sort((a, b) => a - b);
  return starts[Math.floor(starts.length / 2)] ?? 0;
}

/** Folds for choosing the decision threshold by course-grouped cross-validation on the training part. */
export const THRESHOLD_FOLDS = 5;

async function groupedThreshold(
  o: EvaluateOptions,
  train: Dataset,
  pos: number,
  sTrain: Float64Array,
  yTrain: Float64Array,
): Promise<number> {
  const groups = [...new Set(train.analysableIds)].sort();
  const k = Math.min(o.thresholdFolds ?? THRESHOLD_FOLDS, groups.length);
  if (k < 2) return bestF1Threshold(yTrain, sTrain);
  const foldOf = new Map(groups.map((g, i) => [g, i % k] as const));
  const oof = new Float64Array(train.rows);
  const posCol = o.target.classes.indexOf(pos);
  for (let f = 0; f < k; f++) {
    await o.pause?.();
    throwIfCancelled(o.cancel, 'evaluation');
    const inFold = (r: number) => foldOf.get(train.analysableIds[r]!) === f;
    const fitPart = subsetDataset(train, (r) => !inFold(r));
    const holdPart = subsetDataset(train, inFold);
    if (checkClasses(fitPart.y, fitPart.rows, o.target.classes, 1)) return bestF1Threshold(yTrain, sTrain);
    const { testScores } = await fitPredict(o, fitPart, holdPart);
    let j = 0;
    for (let r = 0; r < train.rows; r++)
      if (inFold(r)) oof[r] = testScores.values[j++ * testScores.width + posCol]!;
  }
  return bestF1Threshold(yTrain, oof);
}

/** [ANA-7.2] Honest protocol for one range's rows: train on earlier analysables, test on later ones. */
async function honestRange(
  o: EvaluateOptions,
  d: Dataset,
  rangeIndex: number,
  testFrom: number,
): Promise<RangeEvaluation> {
  const { target } = o;
  const train = subsetDataset(d, (r) => d.rangeIndex[r] === rangeIndex && d.analysableStart[r]! < testFrom);
  const test = subsetDataset(d, (r) => d.rangeIndex[r] === rangeIndex && d.analysableStart[r]! >= testFrom);
  const base = { rangeIndex, trainSamples: train.rows, testSamples: test.rows };
  if (train.rows === 0 || test.rows === 0) {
    return {
      ...base,
      testPositiveRate: NaN,
      model: null,
      baselines: { majority: null, rule: null },
      roc: [],
      note: train.rows === 0 ? 'no training samples' : 'no test samples',
    };
  }
  if (target.type === 'linear') {
    const { testScores } = await fitPredict(o, train, test);
    let se = 0;
    let ae = 0;
    for (let i = 0; i < test.rows; i++) {
      const e = testScores.values[i]! - test.y[i]!;
      se += e * e;
      ae += Math.abs(e);
    }
    return {
      ...base,
      testPositiveRate: NaN,
      model: null,
      baselines: { majority: null, rule: null },
      roc: [],
      other: { rmse: Math.sqrt(se / test.rows), mae: ae / test.rows },
    };
  }
  const bad = checkClasses(train.y, train.rows, target.classes, 1);
  if (bad)
    return {
      ...base,
      testPositiveRate: NaN,
      model: null,
      baselines: { majority: null, rule: null },
      roc: [],
      note: `cannot train: ${bad}`,
    };
  const { trainScores, testScores } = await fitPredict(o, train, test);
  if (target.type === 'multiclass') {
    const pred = argmax(testScores, target.classes);
    let acc = 0;
    for (let i = 0; i < test.rows; i++) if (pred[i] === test.y[i]) acc++;
    return {
      ...base,
      testPositiveRate: NaN,
      model: null,
      baselines: { majority: null, rule: null },
      roc: [],
      other: { weightedF1: weightedF1(test.y, pred, target.classes), accuracy: acc / test.rows },
    };
  }
  const pos = positive(target);
  const posCol = target.classes.indexOf(pos);
  const yTrain = binaryY(train, pos);
  const yTest = binaryY(test, pos);
  const sTrain = column(trainScores, posCol);
  const sTest = column(testScores, posCol);
  // The decision threshold is chosen on the training courses only, never on the test year: maximum positive-class
  // F1 over out-of-fold scores from course-grouped cross-validation (in-sample scores flatter course-level columns).
  const threshold = await groupedThreshold(o, train, pos, sTrain, yTrain);
  const model = binaryMetrics(yTest, sTest, threshold);
  const trainRate = mean([...yTrain]);
  // Majority baseline: predicts the training majority for everyone, scoring everyone with the training positive rate.
  const majorityClass = trainRate >= 0.5 ? 1 : 0;
  const majority = binaryMetrics(
    yTest,
    new Float64Array(test.rows).fill(trainRate),
    majorityClass === 1 ? 0 : 2,
  );
  const rs = o.ruleIndicator ? ruleScores(test, o.ruleIndicator) : null;
  const rule = rs ? binaryMetrics(yTest, rs, 0.5) : null;
  return {
    ...base,
    testPositiveRate: mean([...yTest]),
    model,
    baselines: { majority, rule },
    roc: rocCurve(yTest, sTest),
  };
}

/** [ANA-7] Evaluates a dataset with the chosen protocol, one report row per range. */
export async function evaluate(o: EvaluateOptions): Promise<EvaluationReport> {
  const d = o.dataset;
  const rangeIdx = [...new Set(d.rangeIndex)].sort((a, b) => a - b);
  const ranges: RangeEvaluation[] = [];
  let done = 0;
  if (o.protocol === 'honest') {
    const testFrom = o.testFrom ?? defaultTestFrom(d);
    for (const r of rangeIdx) {
      await o.pause?.();
      throwIfCancelled(o.cancel, 'evaluation');
      ranges.push(await honestRange(o, d, r, testFrom));
      o.onProgress?.(++done, rangeIdx.length);
    }
    const trainA = new Set<string>();
    const testA = new Set<string>();
    for (let i = 0; i < d.rows; i++)
      (d.analysableStart[i]! < testFrom ? trainA : testA).add(d.analysableIds[i]!);
    return {
      protocol: 'honest',
      targetId: o.target.id,
      backendId: o.backend.id,
      ranges,
      trainAnalysables: [...trainA].sort(),
      testAnalysables: [...testA].sort(),
    };
  }
  const moodle = await moodleEvaluate(o, d);
  for (const r of rangeIdx) {
    throwIfCancelled(o.cancel, 'evaluation');
    const part = rangeIdx.length === 1 ? d : subsetDataset(d, (i) => d.rangeIndex[i] === r);
    // With a single range the per-range result is the whole-dataset one: do not run the ten splits twice.
    const m = rangeIdx.length === 1 ? moodle : await moodleEvaluate(o, part);
    ranges.push({
      rangeIndex: r,
      trainSamples: part.rows - Math.round(part.rows * MOODLE_TEST_FRACTION),
      testSamples: Math.round(part.rows * MOODLE_TEST_FRACTION),
      testPositiveRate: mean([...binaryY(part, positive(o.target))]),
      model: null,
      baselines: { majority: null, rule: null },
      roc: [],
      moodle: m,
    });
    o.onProgress?.(++done, rangeIdx.length);
  }
  const all = [...new Set(d.analysableIds)].sort();
  return {
    protocol: 'moodle',
    targetId: o.target.id,
    backendId: o.backend.id,
    ranges,
    moodle,
    trainAnalysables: all,
    testAnalysables: all,
  };
}

/**
 * [ANA-7.4] Leave-one-group-out validation of a binary target (e.g. one course family out): per range and group,
 * train on every other group's rows and score the group's rows; scores and decisions (each fold's own threshold,
 * chosen as in the honest protocol) are pooled over the folds before the metrics, as a test year pools its courses.
 * `trainSamples` is the mean training size of a fold; `testSamples` counts every row (each is scored once).
 */
export async function leaveOneGroupOut(
  o: Omit<EvaluateOptions, 'protocol'> & { groupOf(analysableId: string): string },
): Promise<EvaluationReport> {
  const { target } = o;
  if (target.type !== 'binary') throw new Error('leave-one-group-out validation needs a binary target');
  const d = o.dataset;
  const pos = positive(target);
  const posCol = target.classes.indexOf(pos);
  const opts: EvaluateOptions = { ...o, protocol: 'honest' };
  const rangeIdx = [...new Set(d.rangeIndex)].sort((a, b) => a - b);
  const ranges: RangeEvaluation[] = [];
  for (const ri of rangeIdx) {
    const part = subsetDataset(d, (r) => d.rangeIndex[r] === ri);
    const groupOfRow = part.analysableIds.map((id) => o.groupOf(id));
    const groups = [...new Set(groupOfRow)].sort();
    const scores = new Float64Array(part.rows);
    const decisions = new Float64Array(part.rows);
    let trainTotal = 0;
    let folds = 0;
    for (const g of groups) {
      await o.pause?.();
      throwIfCancelled(o.cancel, 'evaluation');
      const train = subsetDataset(part, (r) => groupOfRow[r] !== g);
      const test = subsetDataset(part, (r) => groupOfRow[r] === g);
      if (checkClasses(train.y, train.rows, target.classes, 1))
        throw new Error(`group ${g}: the other groups lack a class at range ${ri}`);
      const { trainScores, testScores } = await fitPredict(opts, train, test);
      const threshold = await groupedThreshold(
        opts,
        train,
        pos,
        column(trainScores, posCol),
        binaryY(train, pos),
      );
      let j = 0;
      for (let r = 0; r < part.rows; r++) {
        if (groupOfRow[r] !== g) continue;
        const s = testScores.values[j++ * testScores.width + posCol]!;
        scores[r] = s;
        decisions[r] = s >= threshold ? 1 : 0;
      }
      trainTotal += train.rows;
      folds++;
    }
    const y = binaryY(part, pos);
    const ranked = binaryMetrics(y, scores);
    const decided = binaryMetrics(y, decisions, 0.5);
    const rate = mean([...y]);
    const rs = o.ruleIndicator ? ruleScores(part, o.ruleIndicator) : null;
    ranges.push({
      rangeIndex: ri,
      trainSamples: folds > 0 ? Math.round(trainTotal / folds) : 0,
      testSamples: part.rows,
      testPositiveRate: rate,
      model: {
        ...decided,
        auc: ranked.auc,
        prAuc: ranked.prAuc,
        brier: ranked.brier,
        // Each fold has its own threshold; there is no single one to report.
        threshold: NaN,
      },
      baselines: {
        majority: binaryMetrics(y, new Float64Array(part.rows).fill(rate), rate >= 0.5 ? 0 : 2),
        rule: rs ? binaryMetrics(y, rs, 0.5) : null,
      },
      roc: rocCurve(y, scores),
    });
    o.onProgress?.(ranges.length, rangeIdx.length);
  }
  const all = [...new Set(d.analysableIds)].sort();
  return {
    protocol: 'honest',
    targetId: target.id,
    backendId: o.backend.id,
    ranges,
    trainAnalysables: all,
    testAnalysables: all,
  };
}

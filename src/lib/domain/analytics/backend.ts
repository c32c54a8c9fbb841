// The ML backend interface (train, predict, evaluate; data passed in chunks) and the exact logistic-regression
// backend in pure TS. Pure: no tfjs (that lives in src/lib/ml), no clock (trainedAt is passed in).
import { ValidationError, jsonPath, type Problem } from '../shared/errors.ts';
import type { CancelToken, JobOptions } from '../shared/cancel.ts';
import {
  fitLogistic,
  fitRidge,
  predictLinear,
  predictLogistic,
  type LogisticModel,
} from './logistic-regression.ts';
import type { TargetType } from './targets.ts';

/** A slice of a dataset; backends accept any number of them. */
export interface DataChunk {
  readonly x: Float64Array;
  /** Labels (training); absent for prediction. */
  readonly y?: Float64Array;
  readonly rows: number;
  readonly nFeatures: number;
}

export interface TrainSpec {
  readonly targetType: TargetType;
  /** Class values for binary/multiclass targets. */
  readonly classes: readonly number[];
  readonly featureNames: readonly string[];
  /** Seed for backends with random initialisation (the LR backend is deterministic). */
  readonly seed?: number;
  /** Unix seconds, recorded in the model. */
  readonly trainedAt: number;
  /**
   * A model trained earlier on other samples: backends that can continue training (the neural network) start
   * from it, as Moodle's Python backend does; the LR backend refits on the new samples only.
   */
  readonly previous?: TrainedModelJson;
}

/** Output of predict: per row, probability of each class (binary/multiclass) or the value (linear). */
export interface Predictions {
  readonly rows: number;
  /** rows x classes (classification) or rows x 1 (linear). */
  readonly values: Float64Array;
  readonly width: number;
}

/** [ANA-6.5] Trained model as stored and exported (JSON). */
export interface TrainedModelJson {
  readonly format: 'markbook-analytics-model';
  readonly formatVersion: 1;
  readonly backend: string;
  readonly targetType: TargetType;
  readonly classes: readonly number[];
  readonly featureNames: readonly string[];
  readonly samples: number;
  readonly trainedAt: number;
  /** Backend-specific parameters (plain JSON). */
  readonly params: unknown;
  /**
   * Binary targets (not in Moodle): the probability of the positive class at or above which a prediction is
   * positive, chosen on the training samples when training (best positive-class F1, ANA-7.4). Absent (older models):
   * the most likely class and Moodle's 0.6 confidence minimum decide.
   */
  readonly decisionThreshold?: number;
}

export interface MlBackend {
  readonly id: string;
  readonly name: string;
  train(
    chunks: Iterable<DataChunk> | AsyncIterable<DataChunk>,
    spec: TrainSpec,
    opts?: JobOptions,
  ): Promise<TrainedModelJson>;
  predict(
    model: TrainedModelJson,
    chunks: Iterable<DataChunk> | AsyncIterable<DataChunk>,
    opts?: JobOptions,
  ): Promise<Predictions>;
}

/** Concatenates chunks into one matrix (all chunks must have the same width). */
export async function gatherChunks(
  chunks: Iterable<DataChunk> | AsyncIterable<DataChunk>,
  needLabels: boolean,
  cancel?: CancelToken,
): Promise<{ x: Float64Array; y: Float64Array; rows: number; nFeatures: number }> {
  const list: DataChunk[] = [];
  for await (const c of chunks as AsyncIterable<DataChunk>) {
    if (cancel?.cancelled) break;
    list.push(c);
  }
  const p = list[0]?.nFeatures ?? 0;
  let rows = 0;
  list.forEach((c, i) => {
    if (c.nFeatures !== p)
      throw new ValidationError([
        { at: `chunk ${i}`, message: `has ${c.nFeatures} features, expected ${p}` },
      ]);
    if (c.x.length !== c.rows * c.nFeatures)
      throw new ValidationError([{ at: `chunk ${i}`, message: 'x length does not match rows x features' }]);
    if (needLabels && (!c.y || c.y.length !== c.rows))
      throw new ValidationError([{ at: `chunk ${i}`, message: 'labels missing' }]);
    rows += c.rows;
  });
  const x = new Float64Array(rows * p);
  const y = new Float64Array(rows);
  let r = 0;
  for (const c of list) {
    x.set(c.x, r * p);
    if (c.y) y.set(c.y, r);
    r += c.rows;
  }
  return { x, y, rows, nFeatures: p };
}

/** Yields a matrix as chunks of at most `size` rows (the transfer unit between worker and page). */
export function* toChunks(
  x: Float64Array,
  y: Float64Array | null,
  rows: number,
  nFeatures: number,
  size = 5000,
): Generator<DataChunk> {
  for (let r = 0; r < rows; r += size) {
    const n = Math.min(size, rows - r);
    yield {
      x: x.subarray(r * nFeatures, (r + n) * nFeatures),
      ...(y ? { y: y.subarray(r, r + n) } : {}),
      rows: n,
      nFeatures,
    };
  }
}

/** Checks that every class has at least `min` samples (Moodle PHP backend: each class >= 2). */
export function checkClasses(
  y: Float64Array,
  rows: number,
  classes: readonly number[],
  min: number,
): string | null {
  const counts = new Map<number, number>(classes.map((c) => [c, 0]));
  for (let i = 0; i < rows; i++) {
    const c = y[i]!;
    if (!counts.has(c)) return `label ${c} is not one of the target classes ${classes.join(', ')}`;
    counts.set(c, counts.get(c)! + 1);
  }
  for (const [c, n] of counts) if (n < min) return `class ${c} has ${n} samples; at least ${min} needed`;
  return null;
}

interface LrParams {
  /** One logistic model per class (one-vs-rest) for multiclass, one for binary, one ridge model for linear. */
  readonly models: LogisticModel[];
  readonly lambda: number;
}

/** L2 penalty: small, so the fit is close to maximum likelihood but stays finite on separable data. */
const LR_LAMBDA = 1;

export interface LogisticBackendOptions {
  /** L2 penalty on standardised weights (intercept free); default LR_LAMBDA = 1. */
  readonly lambda?: number;
}

/** [ANA-6.1] Logistic regression backend with a chosen L2 penalty (same id 'lr'; the penalty is stored with the model). */
export function createLogisticRegressionBackend(o: LogisticBackendOptions = {}): MlBackend {
  const lambda = o.lambda ?? LR_LAMBDA;
  if (!(lambda >= 0 && Number.isFinite(lambda)))
    throw new ValidationError([{ at: 'lambda', message: `must be a finite number >= 0, not ${lambda}` }]);
  return {
    id: 'lr',
    name: 'Logistic regression (exact, IRLS)',
    async train(chunks, spec, opts) {
      const d = await gatherChunks(chunks, true, opts?.cancel);
      if (d.nFeatures !== spec.featureNames.length)
        throw new ValidationError([
          { at: 'featureNames', message: `${spec.featureNames.length} names for ${d.nFeatures} features` },
        ]);
      const models: LogisticModel[] = [];
      if (spec.targetType === 'linear') {
        models.push(fitRidge(d.x, d.y, d.rows, d.nFeatures, lambda));
      } else {
        const bad = checkClasses(d.y, d.rows, spec.classes, 1);
        if (bad) throw new ValidationError([{ at: 'labels', message: bad }]);
        const positives =
          spec.targetType === 'binary' ? [spec.classes[spec.classes.length - 1]!] : spec.classes;
        positives.forEach((cls, k) => {
          const yk = d.y.map((v) => (v === cls ? 1 : 0));
          models.push(fitLogistic(d.x, yk, d.rows, d.nFeatures, { lambda, cancel: opts?.cancel }));
          opts?.onProgress?.(k + 1, positives.length);
        });
      }
      const params: LrParams = { models, lambda };
      return {
        format: 'markbook-analytics-model',
        formatVersion: 1,
        backend: 'lr',
        targetType: spec.targetType,
        classes: [...spec.classes],
        featureNames: [...spec.featureNames],
        samples: d.rows,
        trainedAt: spec.trainedAt,
        params,
      };
    },
    async predict(model, chunks, opts) {
      const params = model.params as LrParams;
      const d = await gatherChunks(chunks, false, opts?.cancel);
      if (d.nFeatures !== model.featureNames.length && d.rows > 0)
        throw new ValidationError([
          {
            at: 'features',
            message: `model expects ${model.featureNames.length} features, got ${d.nFeatures}`,
          },
        ]);
      if (model.targetType === 'linear')
        return { rows: d.rows, width: 1, values: predictLinear(params.models[0]!, d.x, d.rows, d.nFeatures) };
      const k = model.classes.length;
      const values = new Float64Array(d.rows * k);
      if (model.targetType === 'binary') {
        const p1 = predictLogistic(params.models[0]!, d.x, d.rows, d.nFeatures);
        for (let i = 0; i < d.rows; i++) {
          values[i * 2] = 1 - p1[i]!;
          values[i * 2 + 1] = p1[i]!;
        }
      } else {
        const per = params.models.map((m) => predictLogistic(m, d.x, d.rows, d.nFeatures));
        for (let i = 0; i < d.rows; i++) {
          let s = 0;
          for (let c = 0; c < k; c++) s += per[c]![i]!;
          for (let c = 0; c < k; c++) values[i * k + c] = s > 0 ? per[c]![i]! / s : 1 / k;
        }
      }
      return { rows: d.rows, width: k, values };
    },
  };
}

/** [ANA-6.1] Logistic regression backend: exact IRLS, deterministic, pure TS (L2 lambda = LR_LAMBDA). */
export const logisticRegressionBackend: MlBackend = createLogisticRegressionBackend();

/** [ANA-6.5] Validates an imported model JSON; errors name the JSON path. */
export function parseTrainedModel(json: unknown): TrainedModelJson {
  const problems: Problem[] = [];
  const o = json as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null)
    throw new ValidationError([{ at: '$', message: 'must be an object' }]);
  if (o['format'] !== 'markbook-analytics-model')
    problems.push({ at: jsonPath('$', 'format'), message: 'must be "markbook-analytics-model"' });
  if (o['formatVersion'] !== 1) problems.push({ at: jsonPath('$', 'formatVersion'), message: 'must be 1' });
  if (typeof o['backend'] !== 'string')
    problems.push({ at: jsonPath('$', 'backend'), message: 'must be a string' });
  if (!['binary', 'multiclass', 'linear'].includes(o['targetType'] as string))
    problems.push({ at: jsonPath('$', 'targetType'), message: 'must be binary, multiclass or linear' });
  if (!Array.isArray(o['classes']) || !(o['classes'] as unknown[]).every((c) => typeof c === 'number'))
    problems.push({ at: jsonPath('$', 'classes'), message: 'must be an array of numbers' });
  if (!Array.isArray(o['featureNames']))
    problems.push({ at: jsonPath('$', 'featureNames'), message: 'must be an array of strings' });
  else
    (o['featureNames'] as unknown[]).forEach((f, i) => {
      if (typeof f !== 'string')
        problems.push({ at: jsonPath('$', 'featureNames', i), message: 'must be a string' });
    });
  if (typeof o['samples'] !== 'number')
    problems.push({ at: jsonPath('$', 'samples'), message: 'must be a number' });
  if (typeof o['trainedAt'] !== 'number')
    problems.push({ at: jsonPath('$', 'trainedAt'), message: 'must be a number' });
  const thr = o['decisionThreshold'];
  if (thr !== undefined && !(typeof thr === 'number' && thr >= 0 && thr <= 1))
    problems.push({ at: jsonPath('$', 'decisionThreshold'), message: 'must be a number in [0, 1]' });
  if (o['backend'] === 'lr') {
    const models = (o['params'] as { models?: unknown } | undefined)?.models;
    if (!Array.isArray(models) || models.length === 0)
      problems.push({ at: jsonPath('$', 'params', 'models'), message: 'must be a non-empty array' });
    else
      models.forEach((m: { weights?: unknown; std?: { mean?: unknown; scale?: unknown } }, i) => {
        const n = Array.isArray(o['featureNames']) ? (o['featureNames'] as unknown[]).length : 0;
        if (!Array.isArray(m?.weights) || m.weights.length !== n + 1 || !m.weights.every(Number.isFinite))
          problems.push({
            at: jsonPath('$', 'params', 'models', i, 'weights'),
            message: `must be ${n + 1} finite numbers`,
          });
        if (!Array.isArray(m?.std?.mean) || m.std.mean.length !== n)
          problems.push({
            at: jsonPath('$', 'params', 'models', i, 'std', 'mean'),
            message: `must be ${n} numbers`,
          });
        if (!Array.isArray(m?.std?.scale) || m.std.scale.length !== n)
          problems.push({
            at: jsonPath('$', 'params', 'models', i, 'std', 'scale'),
            message: `must be ${n} numbers`,
          });
      });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return o as unknown as TrainedModelJson;
}

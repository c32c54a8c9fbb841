// TF.js neural-network backend shaped like Moodle's Python backend (moodlemlbackend/model/tensor.py, v3.0.5):
// ReLU hidden layers sized from the data, softmax output, RMSprop, ~10 batches, 80 + 1e6/(rows+1000) epochs.
// Adapter implementing the domain MlBackend interface; never imported by the domain.
import type * as TF from '@tensorflow/tfjs';
import {
  gatherChunks,
  checkClasses,
  type MlBackend,
  type TrainedModelJson,
} from '../domain/analytics/backend.ts';
import { ValidationError } from '../domain/shared/errors.ts';

interface NnParams {
  /** Feature columns kept (constant columns are dropped, as the Python backend does). */
  readonly keep: number[];
  readonly units: number[];
  /** Per layer [kernel, bias] flattened. */
  readonly weights: number[][];
  readonly shapes: number[][];
  readonly tfBackend: string;
  readonly epochs: number;
}

export interface NnOptions {
  /** Caps the epoch count (Moodle's formula can mean hundreds of epochs on small data). */
  readonly maxEpochs?: number;
  /** Fixed epoch count (benchmarks); overrides the formula. */
  readonly epochs?: number;
}

/** Moodle tensor.py sizing: size hint h = uniqueRows x (1 + ln features); > 10 -> two layers of max(8, f/3). */
export function hiddenLayers(uniqueRows: number, features: number): number[] {
  const h = uniqueRows * (1 + Math.log(Math.max(features, 1)));
  return h > 10 ? [Math.max(8, Math.floor(features / 3)), Math.max(8, Math.floor(features / 3))] : [10];
}

export function moodleEpochs(rows: number): number {
  return 80 + Math.floor(1_000_000 / (rows + 1000));
}

export function moodleBatchSize(rows: number): number {
  const nBatches = Math.min(10, Math.ceil(rows / 1000));
  return Math.max(1, Math.ceil(rows / Math.max(1, nBatches)));
}

function countUniqueRows(x: Float64Array, rows: number, p: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < rows && seen.size <= 1000; i++)
    seen.add(Array.from(x.subarray(i * p, (i + 1) * p)).join(','));
  return seen.size;
}

function buildNet(
  tf: typeof TF,
  inputs: number,
  units: number[],
  outputs: number,
  linear: boolean,
  seed: number,
): TF.Sequential {
  const model = tf.sequential();
  units.forEach((u, i) =>
    model.add(
      tf.layers.dense({
        units: u,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
        ...(i === 0 ? { inputShape: [inputs] } : {}),
      }),
    ),
  );
  model.add(
    tf.layers.dense({
      units: outputs,
      activation: linear ? 'linear' : 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + units.length }),
    }),
  );
  model.compile({
    optimizer: tf.train.rmsprop(0.001),
    loss: linear ? 'meanSquaredError' : 'categoricalCrossentropy',
  });
  return model;
}

function selectColumns(x: Float64Array, rows: number, p: number, keep: number[]): Float32Array {
  const out = new Float32Array(rows * keep.length);
  for (let i = 0; i < rows; i++)
    for (let k = 0; k < keep.length; k++) {
      const v = x[i * p + keep[k]!]!;
      out[i * keep.length + k] = Number.isNaN(v) ? 0 : v;
    }
  return out;
}

function setWeights(tf: typeof TF, model: TF.Sequential, params: NnParams): void {
  model.setWeights(params.weights.map((w, i) => tf.tensor(w, params.shapes[i]!)));
}

/** [ANA-6.4] Creates the backend over an already-initialised TF.js instance (backend chosen by the caller). */
export function createNeuralNetworkBackend(tf: typeof TF, o: NnOptions = {}): MlBackend {
  return {
    id: 'nn',
    name: 'Neural network (TensorFlow.js, Moodle Python backend layout)',
    async train(chunks, spec, opts) {
      const d = await gatherChunks(chunks, true, opts?.cancel);
      const linear = spec.targetType === 'linear';
      if (!linear) {
        const bad = checkClasses(d.y, d.rows, spec.classes, 1);
        if (bad) throw new ValidationError([{ at: 'labels', message: bad }]);
      }
      const prev = spec.previous?.backend === 'nn' ? (spec.previous.params as NnParams) : null;
      // Constant columns carry no information; the Python backend removes them and remembers which.
      const keep = prev
        ? prev.keep
        : Array.from({ length: d.nFeatures }, (_, j) => j).filter((j) => {
            const first = d.x[j]!;
            for (let i = 1; i < d.rows; i++)
              if (
                d.x[i * d.nFeatures + j] !== first &&
                !(Number.isNaN(first) && Number.isNaN(d.x[i * d.nFeatures + j]!))
              )
                return true;
            return false;
          });
      const units = prev ? prev.units : hiddenLayers(countUniqueRows(d.x, d.rows, d.nFeatures), keep.length);
      const outputs = linear ? 1 : spec.classes.length;
      const epochs = o.epochs ?? Math.min(moodleEpochs(d.rows), o.maxEpochs ?? Infinity);
      const model = buildNet(tf, keep.length, units, outputs, linear, spec.seed ?? 1);
      if (prev) setWeights(tf, model, prev);
      const xs = tf.tensor2d(selectColumns(d.x, d.rows, d.nFeatures, keep), [d.rows, keep.length]);
      const ys = linear
        ? tf.tensor2d(Float32Array.from(d.y), [d.rows, 1])
        : tf.oneHot(
            tf.tensor1d(
              Int32Array.from(d.y, (v) => spec.classes.indexOf(v)),
              'int32',
            ),
            outputs,
          );
      try {
        await model.fit(xs, ys, {
          epochs,
          batchSize: moodleBatchSize(d.rows),
          shuffle: true,
          verbose: 0,
          callbacks: {
            onEpochEnd: async (epoch) => {
              opts?.onProgress?.(epoch + 1, epochs);
              if (opts?.cancel?.cancelled) model.stopTraining = true;
            },
          },
        });
        if (opts?.cancel?.cancelled) throw new Error('training cancelled');
        const ws = model.getWeights();
        const params: NnParams = {
          keep,
          units,
          weights: ws.map((w) => Array.from(w.dataSync())),
          shapes: ws.map((w) => w.shape as number[]),
          tfBackend: tf.getBackend(),
          epochs,
        };
        const out: TrainedModelJson = {
          format: 'markbook-analytics-model',
          formatVersion: 1,
          backend: 'nn',
          targetType: spec.targetType,
          classes: [...spec.classes],
          featureNames: [...spec.featureNames],
          samples: d.rows + (spec.previous?.samples ?? 0),
          trainedAt: spec.trainedAt,
          params,
        };
        return out;
      } finally {
        xs.dispose();
        ys.dispose();
        model.dispose();
      }
    },
    async predict(m, chunks, opts) {
      const params = m.params as NnParams;
      const d = await gatherChunks(chunks, false, opts?.cancel);
      const linear = m.targetType === 'linear';
      const outputs = linear ? 1 : m.classes.length;
      if (d.rows === 0) return { rows: 0, width: outputs, values: new Float64Array(0) };
      if (d.nFeatures !== m.featureNames.length)
        throw new ValidationError([
          { at: 'features', message: `model expects ${m.featureNames.length} features, got ${d.nFeatures}` },
        ]);
      const model = buildNet(tf, params.keep.length, params.units, outputs, linear, 1);
      setWeights(tf, model, params);
      const xs = tf.tensor2d(selectColumns(d.x, d.rows, d.nFeatures, params.keep), [
        d.rows,
        params.keep.length,
      ]);
      try {
        const pred = model.predict(xs) as TF.Tensor;
        const values = Float64Array.from(await pred.data());
        pred.dispose();
        return { rows: d.rows, width: outputs, values };
      } finally {
        xs.dispose();
        model.dispose();
      }
    },
  };
}

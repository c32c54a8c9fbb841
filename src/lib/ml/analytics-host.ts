// Typed request/response host over the analytics domain and ML backends, with progress and cancel: the body of
// the analytics web worker, also usable in Node. Adapter: holds rows in memory; never touches IndexedDB or the DOM.
import { cancelSource, CancelledError, type CancelSource } from '../domain/shared/cancel.ts';
import { seededRng } from '../domain/shared/clock.ts';
import { ValidationError, type Problem } from '../domain/shared/errors.ts';
import { buildActivityData, type ActivityData } from '../domain/analytics/data.ts';
import { MemoryIndicatorCache, buildDatasetAsync } from '../domain/analytics/dataset.ts';
import { evaluate, type EvaluationReport } from '../domain/analytics/evaluation.ts';
import {
  defaultRegistry,
  resolveTimeSplitting,
  type AnalyticsRegistry,
} from '../domain/analytics/registry.ts';
import {
  modelEditorData,
  predictModel,
  trainModel,
  validateModelConfig,
  type ModelEditorData,
  type PredictResult,
  type TrainResult,
} from '../domain/analytics/model.ts';
import { parseTrainedModel } from '../domain/analytics/backend.ts';
import type { ActivityDataRows } from '../domain/analytics/types.ts';
import type { TfBackendChoice, TfBackendName } from './tf-backend-select.ts';

type Table = keyof ActivityDataRows;

/** Requests the page sends; every one carries an id that its progress, result or error messages repeat. */
export type AnalyticsRequest =
  | { id: number; type: 'append'; table: Table; rows: unknown[] }
  | { id: number; type: 'clear' }
  | { id: number; type: 'editor' }
  | { id: number; type: 'init-tf'; prefer?: TfBackendName; wasmPath?: string }
  | {
      id: number;
      type: 'evaluate';
      model: unknown;
      protocol: 'honest' | 'moodle';
      testFrom?: number;
      seed?: number;
      ruleIndicator?: string;
      /** Folds used to choose the decision threshold (OULAD_THRESHOLD_FOLDS for OULAD data). */
      thresholdFolds?: number;
    }
  | { id: number; type: 'train'; model: unknown; usedForTraining: string[]; previous?: unknown }
  | { id: number; type: 'predict'; model: unknown; trained: unknown; alreadyPredicted: string[] }
  | { id: number; type: 'cancel'; target: number };

export type AnalyticsResponse =
  | { id: number; type: 'progress'; phase: string; done: number; total: number }
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; message: string; problems?: readonly Problem[]; cancelled?: boolean };

export type AnalyticsResult =
  EvaluationReport | TrainResult | PredictResult | ModelEditorData | TfBackendChoice | { rows: number };

export interface HostOptions {
  /** Current time in unix seconds (the worker passes the real clock). */
  now(): number;
  /** Yields to the event loop so cancel requests are received mid-job (setTimeout 0 in a worker). */
  pause?(): Promise<void>;
  /** Loads TF.js and registers the NN backend; the worker imports tfjs lazily so LR-only use stays light. */
  initTf?(
    prefer: TfBackendName | undefined,
    wasmPath: string | undefined,
  ): Promise<{ choice: TfBackendChoice; register(reg: AnalyticsRegistry): void }>;
}

export interface AnalyticsHost {
  handle(req: AnalyticsRequest): Promise<void>;
}

/** [ANA-4][ANA-6] Creates the host; `post` receives every response message. */
export function createAnalyticsHost(post: (msg: AnalyticsResponse) => void, o: HostOptions): AnalyticsHost {
  const reg = defaultRegistry();
  const rows: { [K in Table]: unknown[] } = {
    courses: [],
    activities: [],
    logs: [],
    submissions: [],
    enrolments: [],
    users: [],
  };
  let data: ActivityData | null = null;
  const cache = new MemoryIndicatorCache();
  const running = new Map<number, CancelSource>();
  let tf: TfBackendChoice | null = null;

  const getData = (): ActivityData => (data ??= buildActivityData(rows as unknown as ActivityDataRows));
  const progress = (id: number, phase: string) => (done: number, total: number) =>
    post({ id, type: 'progress', phase, done, total });

  async function run(
    req: Exclude<AnalyticsRequest, { type: 'cancel' }>,
    c: CancelSource,
  ): Promise<AnalyticsResult> {
    switch (req.type) {
      case 'append': {
        if (!(req.table in rows))
          throw new ValidationError([{ at: 'table', message: `unknown table "${req.table}"` }]);
        // appended one by one: spreading 100k+ rows into push() overflows the call stack
        const into = rows[req.table] as unknown[];
        for (const r of req.rows) into.push(r);
        data = null; // indexes are rebuilt lazily on the next job
        return { rows: rows[req.table].length };
      }
      case 'clear':
        for (const k of Object.keys(rows) as Table[]) rows[k] = [];
        data = null;
        return { rows: 0 };
      case 'editor':
        return modelEditorData(reg);
      case 'init-tf': {
        if (!o.initTf) throw new Error('TensorFlow.js is not available in this host');
        const r = await o.initTf(req.prefer, req.wasmPath);
        if (!reg.backends.has('nn')) r.register(reg);
        tf = r.choice;
        return tf;
      }
      case 'evaluate': {
        const model = validateModelConfig(reg, req.model);
        if (model.timeSplittingId === null)
          throw new ValidationError([
            { at: '$.timeSplittingId', message: 'choose a time splitting to evaluate' },
          ]);
        const target = reg.targets.get(model.targetId);
        const ts = resolveTimeSplitting(reg, model.timeSplittingId);
        const ds = await buildDatasetAsync({
          data: getData(),
          analyser: reg.analysers.get(target.analyser),
          target,
          indicators: model.indicatorIds.map((i) => reg.indicators.get(i)),
          timeSplitting: ts,
          now: o.now(),
          mode: 'training',
          cache,
          averages: model.averages,
          missingFlags: model.missingFlags,
          onProgress: progress(req.id, 'indicators'),
          cancel: c.token,
          ...(o.pause ? { pause: o.pause } : {}),
        });
        return evaluate({
          protocol: req.protocol,
          backend: reg.backends.get(model.backendId),
          target,
          dataset: ds,
          ...(req.testFrom !== undefined ? { testFrom: req.testFrom } : {}),
          rng: seededRng(req.seed ?? 1),
          ...(req.ruleIndicator ? { ruleIndicator: req.ruleIndicator } : {}),
          ...(req.thresholdFolds !== undefined ? { thresholdFolds: req.thresholdFolds } : {}),
          onProgress: progress(req.id, 'evaluation'),
          cancel: c.token,
          ...(o.pause ? { pause: o.pause } : {}),
        });
      }
      case 'train': {
        const model = validateModelConfig(reg, req.model);
        return trainModel({
          reg,
          model,
          data: getData(),
          now: o.now(),
          cache,
          usedForTraining: new Set(req.usedForTraining),
          ...(req.previous ? { previous: parseTrainedModel(req.previous) } : {}),
          onProgress: progress(req.id, 'indicators'),
          cancel: c.token,
          ...(o.pause ? { pause: o.pause } : {}),
        });
      }
      case 'predict': {
        const model = validateModelConfig(reg, req.model);
        return predictModel({
          reg,
          model,
          data: getData(),
          now: o.now(),
          cache,
          alreadyPredicted: new Set(req.alreadyPredicted),
          trained: req.trained === null || req.trained === undefined ? null : parseTrainedModel(req.trained),
          onProgress: progress(req.id, 'indicators'),
          cancel: c.token,
          ...(o.pause ? { pause: o.pause } : {}),
        });
      }
    }
  }

  return {
    async handle(req) {
      if (req.type === 'cancel') {
        running.get(req.target)?.cancel();
        return;
      }
      const c = cancelSource();
      running.set(req.id, c);
      try {
        const value = await run(req, c);
        if (c.token.cancelled) throw new CancelledError();
        post({ id: req.id, type: 'result', value });
      } catch (e) {
        if (e instanceof CancelledError || c.token.cancelled)
          post({ id: req.id, type: 'error', message: 'cancelled', cancelled: true });
        else if (e instanceof ValidationError)
          post({ id: req.id, type: 'error', message: e.message, problems: e.problems });
        else post({ id: req.id, type: 'error', message: e instanceof Error ? e.message : String(e) });
      } finally {
        running.delete(req.id);
      }
    },
  };
}

/** Which TF.js backend the host runs on, once initialised (shown next to training progress). */
export type { TfBackendChoice };

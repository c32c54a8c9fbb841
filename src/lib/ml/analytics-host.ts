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
import { mapOulad, OULAD_FILES, type OuladTables } from '../domain/analytics/oulad.ts';
import { importMoodleLog } from '../domain/analytics/moodle-log.ts';
import type { ActivityDataRows, LogEventRow } from '../domain/analytics/types.ts';
import { parseCsv } from './csv.ts';
import type { NnOptions } from './nn-backend.ts';
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
  /** Analysis date in unix seconds for the following jobs; null = the host's clock. */
  | { id: number; type: 'set-now'; now: number | null }
  /** OULAD file texts by table name; parsed and mapped here, then they replace the rows held (all or nothing). */
  | { id: number; type: 'import-oulad'; files: Partial<Record<keyof OuladTables, string>> }
  /** A Moodle-style log CSV, appended to the logs held (all or nothing). */
  | { id: number; type: 'import-log'; text: string; fileName: string; firstSeq: number }
  | { id: number; type: 'cancel'; target: number };

/** What 'import-oulad' returns: the mapped rows, for the page to store. */
export type OuladImportResult = ActivityDataRows;
/** What 'import-log' returns: the new log rows, for the page to store. */
export interface LogImportResult {
  logs: LogEventRow[];
}

export type AnalyticsResponse =
  | { id: number; type: 'progress'; phase: string; done: number; total: number }
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; message: string; problems?: readonly Problem[]; cancelled?: boolean };

export type AnalyticsResult =
  | EvaluationReport
  | TrainResult
  | PredictResult
  | ModelEditorData
  | TfBackendChoice
  | OuladImportResult
  | LogImportResult
  | { rows: number };

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
  let analysisNow: number | null = null;
  const now = (): number => analysisNow ?? o.now();
  const pause = async (c: CancelSource): Promise<void> => {
    await o.pause?.();
    if (c.token.cancelled) throw new CancelledError('import');
  };

  const getData = (): ActivityData => (data ??= buildActivityData(rows as unknown as ActivityDataRows));

  async function importOulad(
    req: Extract<AnalyticsRequest, { type: 'import-oulad' }>,
    c: CancelSource,
  ): Promise<OuladImportResult> {
    const names = Object.keys(OULAD_FILES) as (keyof OuladTables)[];
    const missing = names.filter((n) => req.files[n] === undefined);
    if (missing.length > 0)
      throw new ValidationError(missing.map((n) => ({ at: OULAD_FILES[n], message: 'file not chosen' })));
    const tables = {} as Record<keyof OuladTables, Record<string, string>[]>;
    const total = names.length + 1;
    let done = 0;
    for (const n of names) {
      post({ id: req.id, type: 'progress', phase: `reading ${OULAD_FILES[n]}`, done, total });
      await pause(c);
      tables[n] = parseCsv(req.files[n]!, OULAD_FILES[n]);
      done++;
    }
    post({ id: req.id, type: 'progress', phase: 'mapping', done, total });
    await pause(c);
    // [ANA-1.2] All or nothing: a bad row throws here, before the rows held are touched.
    const mapped = mapOulad(tables);
    if (c.token.cancelled) throw new CancelledError('import');
    for (const k of Object.keys(rows) as Table[]) rows[k] = [...(mapped[k] as readonly unknown[])];
    data = null;
    post({ id: req.id, type: 'progress', phase: 'mapping', done: total, total });
    return mapped;
  }

  async function importLog(
    req: Extract<AnalyticsRequest, { type: 'import-log' }>,
    c: CancelSource,
  ): Promise<LogImportResult> {
    post({ id: req.id, type: 'progress', phase: `reading ${req.fileName}`, done: 0, total: 2 });
    await pause(c);
    const records = parseCsv(req.text, req.fileName);
    post({ id: req.id, type: 'progress', phase: 'mapping', done: 1, total: 2 });
    await pause(c);
    // [ANA-1.1] All or nothing: one bad row rejects the file before anything is appended.
    const logs = importMoodleLog(records, req.firstSeq, req.fileName).batches.flat();
    for (const r of logs) rows.logs.push(r);
    data = null;
    return { logs };
  }
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
      case 'set-now':
        analysisNow = req.now;
        return { rows: 0 };
      case 'import-oulad':
        return importOulad(req, c);
      case 'import-log':
        return importLog(req, c);
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
          now: now(),
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
          now: now(),
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
          now: now(),
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

/**
 * `HostOptions.initTf` for a worker: imports TF.js and the NN backend only when 'init-tf' asks (LR-only use stays
 * light), picks the backend by [ANA-6.3] and registers the network with `nn` options. The page serves the .wasm
 * files from static/tfjs-wasm/ unless the request names another path.
 */
export function lazyTfInit(nn: NnOptions = {}): NonNullable<HostOptions['initTf']> {
  return async (prefer, wasmPath) => {
    const tf = await import('@tensorflow/tfjs');
    const { selectTfBackend } = await import('./tf-backend-select.ts');
    const { createNeuralNetworkBackend } = await import('./nn-backend.ts');
    const choice = await selectTfBackend(tf, {
      ...(prefer ? { prefer } : {}),
      wasmPath: wasmPath ?? '/tfjs-wasm/',
    });
    return { choice, register: (reg) => reg.backends.register(createNeuralNetworkBackend(tf, nn)) };
  };
}

/** The part of a worker's global scope the host needs. */
export interface WorkerScope {
  postMessage(msg: AnalyticsResponse): void;
  onmessage: ((ev: { data: AnalyticsRequest }) => void) | null;
}

/**
 * Serves the host on a worker scope: jobs run one after another in arrival order; 'cancel' is handled at once, so
 * it stops the running job, and a job cancelled while it waits in the queue never starts (it answers "cancelled").
 */
export function serveAnalyticsWorker(scope: WorkerScope, o: HostOptions): AnalyticsHost {
  const host = createAnalyticsHost((msg) => scope.postMessage(msg), o);
  const cancelledEarly = new Set<number>();
  let queue: Promise<void> = Promise.resolve();
  scope.onmessage = (ev) => {
    const req = ev.data;
    if (req.type === 'cancel') {
      cancelledEarly.add(req.target);
      void host.handle(req);
      return;
    }
    queue = queue.then(async () => {
      if (cancelledEarly.delete(req.id))
        scope.postMessage({ id: req.id, type: 'error', message: 'cancelled', cancelled: true });
      else await host.handle(req).finally(() => cancelledEarly.delete(req.id));
    });
  };
  return host;
}

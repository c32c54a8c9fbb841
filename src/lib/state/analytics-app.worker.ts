// The app's analytics worker: the shared host (ml/analytics-host.ts) with an analysis date the page can set, plus
// CSV imports (OULAD, Moodle log) parsed and mapped off the main thread with progress and cancel.
// Never touches the DOM or IndexedDB: the page stores the rows it gets back.
import { createAnalyticsHost, type AnalyticsRequest, type AnalyticsResponse } from '../ml/analytics-host';
import { parseCsv } from '../ml/csv';
import { ValidationError } from '../domain/shared/errors';
import { mapOulad, OULAD_FILES, type OuladTables } from '../domain/analytics/oulad';
import { importMoodleLog } from '../domain/analytics/moodle-log';
import { toBatches, type ActivityDataRows, type LogEventRow } from '../domain/analytics/types';

/** Requests beyond the shared host's. */
export type AppRequest =
  | AnalyticsRequest
  /** Analysis date in unix seconds for the following jobs; null = the real clock. */
  | { id: number; type: 'set-now'; now: number | null }
  /** OULAD file texts by table name; replaces the worker's rows. */
  | { id: number; type: 'import-oulad'; files: Partial<Record<keyof OuladTables, string>> }
  | { id: number; type: 'import-log'; text: string; fileName: string; firstSeq: number };

export type OuladImportResult = ActivityDataRows;
export interface LogImportResult {
  logs: LogEventRow[];
}

interface WorkerScope {
  postMessage(msg: AnalyticsResponse): void;
  onmessage: ((ev: { data: AppRequest }) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const post = (msg: AnalyticsResponse) => {
  if (msg.id >= 0) scope.postMessage(msg);
  else if (msg.type === 'error') internalErrors.set(msg.id, msg.message);
};
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

let analysisNow: number | null = null;
const host = createAnalyticsHost(post, {
  now: () => analysisNow ?? Math.floor(Date.now() / 1000),
  pause,
  async initTf(prefer, wasmPath) {
    const tf = await import('@tensorflow/tfjs');
    const { selectTfBackend } = await import('../ml/tf-backend-select');
    const { createNeuralNetworkBackend } = await import('../ml/nn-backend');
    const choice = await selectTfBackend(tf, {
      ...(prefer ? { prefer } : {}),
      wasmPath: wasmPath ?? '/tfjs-wasm/',
    });
    // Evaluations fit the network several times; cap Moodle's epoch formula as the command line does.
    return {
      choice,
      register: (reg) => reg.backends.register(createNeuralNetworkBackend(tf, { maxEpochs: 100 })),
    };
  },
});

const cancelled = new Set<number>();
class Cancelled extends Error {}
const check = (id: number) => {
  if (cancelled.has(id)) throw new Cancelled();
};

/** Internal host calls use negative ids; their replies stay in the worker. */
let internalId = 0;
const internalErrors = new Map<number, string>();

async function appendAll(rows: Partial<ActivityDataRows>): Promise<void> {
  for (const [table, list] of Object.entries(rows) as [keyof ActivityDataRows, unknown[]][]) {
    if (list.length === 0) continue;
    // [ANA-1] In batches: one append of 170k rows would also overflow the host's push(...rows) argument list.
    for (const batch of toBatches(list)) {
      const id = --internalId;
      await host.handle({ id, type: 'append', table, rows: batch });
      const err = internalErrors.get(id);
      internalErrors.delete(id);
      if (err !== undefined) throw new Error(err);
    }
  }
}

async function importOulad(req: Extract<AppRequest, { type: 'import-oulad' }>): Promise<OuladImportResult> {
  const names = Object.keys(OULAD_FILES) as (keyof OuladTables)[];
  const missing = names.filter((n) => req.files[n] === undefined);
  if (missing.length > 0)
    throw new ValidationError(missing.map((n) => ({ at: OULAD_FILES[n], message: 'file not chosen' })));
  const tables = {} as Record<keyof OuladTables, Record<string, string>[]>;
  let done = 0;
  const total = names.length + 1;
  for (const n of names) {
    post({ id: req.id, type: 'progress', phase: `reading ${OULAD_FILES[n]}`, done, total });
    await pause();
    check(req.id);
    tables[n] = parseCsv(req.files[n]!, OULAD_FILES[n]);
    done++;
  }
  post({ id: req.id, type: 'progress', phase: 'mapping', done, total });
  await pause();
  check(req.id);
  const rows = mapOulad(tables);
  check(req.id);
  await host.handle({ id: --internalId, type: 'clear' });
  await appendAll(rows);
  post({ id: req.id, type: 'progress', phase: 'mapping', done: total, total });
  return rows;
}

async function importLog(req: Extract<AppRequest, { type: 'import-log' }>): Promise<LogImportResult> {
  post({ id: req.id, type: 'progress', phase: `reading ${req.fileName}`, done: 0, total: 2 });
  await pause();
  check(req.id);
  const records = parseCsv(req.text, req.fileName);
  post({ id: req.id, type: 'progress', phase: 'mapping', done: 1, total: 2 });
  await pause();
  check(req.id);
  const { batches } = importMoodleLog(records, req.firstSeq, req.fileName);
  const logs = batches.flat();
  await appendAll({ logs });
  return { logs };
}

async function own(
  req: Extract<AppRequest, { type: 'set-now' | 'import-oulad' | 'import-log' }>,
): Promise<void> {
  try {
    const value =
      req.type === 'set-now'
        ? ((analysisNow = req.now), { rows: 0 })
        : req.type === 'import-oulad'
          ? await importOulad(req)
          : await importLog(req);
    post({ id: req.id, type: 'result', value });
  } catch (e) {
    if (e instanceof Cancelled) post({ id: req.id, type: 'error', message: 'cancelled', cancelled: true });
    else if (e instanceof ValidationError)
      post({ id: req.id, type: 'error', message: e.message, problems: e.problems });
    else post({ id: req.id, type: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    cancelled.delete(req.id);
  }
}

// Jobs run one after another; 'cancel' is handled at once so it can stop the running job.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev) => {
  const req = ev.data;
  if (req.type === 'cancel') {
    cancelled.add(req.target);
    void host.handle(req);
  } else if (req.type === 'set-now' || req.type === 'import-oulad' || req.type === 'import-log')
    queue = queue.then(() => own(req));
  else
    queue = queue.then(async () => {
      // The host only cancels a job that is running: one cancelled while it waited in the queue never starts.
      if (cancelled.delete(req.id))
        post({ id: req.id, type: 'error', message: 'cancelled', cancelled: true });
      else await host.handle(req).finally(() => cancelled.delete(req.id));
    });
};

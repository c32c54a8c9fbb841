// The app's analytics worker: a thin host over the shared one (ml/analytics-host.ts), which also imports OULAD and
// Moodle-log CSVs and keeps the analysis date. Never touches the DOM or IndexedDB: the page stores the rows it gets.
import {
  lazyTfInit,
  serveAnalyticsWorker,
  type AnalyticsRequest,
  type WorkerScope,
} from '../ml/analytics-host';

export type { OuladImportResult, LogImportResult } from '../ml/analytics-host';
/** Every request the app sends (the shared host's; kept as its own name for the page's client). */
export type AppRequest = AnalyticsRequest;

serveAnalyticsWorker(globalThis as unknown as WorkerScope, {
  now: () => Math.floor(Date.now() / 1000),
  pause: () => new Promise<void>((resolve) => setTimeout(resolve, 0)),
  // Evaluations fit the network several times; cap Moodle's epoch formula as the command line does.
  initTf: lazyTfInit({ maxEpochs: 100 }),
});

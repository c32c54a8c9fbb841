// The analytics web worker: a thin typed host (src/lib/ml/analytics-host.ts) over the domain and ML backends,
// with progress and cancel. Self-contained: post AnalyticsRequest messages, receive AnalyticsResponse messages.
// Never touches the DOM or IndexedDB; TF.js is loaded only when an 'init-tf' request asks for the NN backend.
import { lazyTfInit, serveAnalyticsWorker, type WorkerScope } from '../ml/analytics-host.ts';

export type { AnalyticsRequest, AnalyticsResponse } from '../ml/analytics-host.ts';

serveAnalyticsWorker(globalThis as unknown as WorkerScope, {
  now: () => Math.floor(Date.now() / 1000),
  pause: () => new Promise<void>((resolve) => setTimeout(resolve, 0)),
  initTf: lazyTfInit(),
});

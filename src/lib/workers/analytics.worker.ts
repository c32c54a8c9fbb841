// The analytics web worker: a thin typed host (src/lib/ml/analytics-host.ts) over the domain and ML backends,
// with progress and cancel. Self-contained: post AnalyticsRequest messages, receive AnalyticsResponse messages.
// Never touches the DOM or IndexedDB; TF.js is loaded only when an 'init-tf' request asks for the NN backend.
import { createAnalyticsHost, type AnalyticsRequest, type AnalyticsResponse } from '../ml/analytics-host.ts';

export type { AnalyticsRequest, AnalyticsResponse } from '../ml/analytics-host.ts';

interface WorkerScope {
  postMessage(msg: AnalyticsResponse): void;
  onmessage: ((ev: { data: AnalyticsRequest }) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;

const host = createAnalyticsHost((msg) => scope.postMessage(msg), {
  now: () => Math.floor(Date.now() / 1000),
  pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
  async initTf(prefer, wasmPath) {
    const tf = await import('@tensorflow/tfjs');
    const { selectTfBackend } = await import('../ml/tf-backend-select.ts');
    const { createNeuralNetworkBackend } = await import('../ml/nn-backend.ts');
    // The page serves the .wasm files from static/tfjs-wasm/ (feasibility.md section 3d).
    const choice = await selectTfBackend(tf, {
      ...(prefer ? { prefer } : {}),
      wasmPath: wasmPath ?? '/tfjs-wasm/',
    });
    return { choice, register: (reg) => reg.backends.register(createNeuralNetworkBackend(tf)) };
  },
});

// Requests run one after another except 'cancel', which is handled at once so it can stop the running job.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev) => {
  const req = ev.data;
  if (req.type === 'cancel') void host.handle(req);
  else queue = queue.then(() => host.handle(req));
};

// The regrade web worker: a thin host over RegradeHost (regrade-host.ts), run by the tab leading a course room.
// Receives the document and its updates, answers with grid snapshots and patches. Never touches the DOM or storage.
import { RegradeHost, type RegradeIn, type RegradeOut } from './regrade-host.ts';

interface WorkerScope {
  postMessage(msg: RegradeOut, transfer: ArrayBuffer[]): void;
  onmessage: ((ev: { data: RegradeIn }) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const tick = new MessageChannel();
const waiting: (() => void)[] = [];
tick.port1.onmessage = () => waiting.shift()?.();
const host = new RegradeHost({
  post: (msg, transfer) => scope.postMessage(msg, transfer),
  clock: { now: () => Math.floor(Date.now() / 1000) },
  // a macrotask, so that update and cancel messages are handled between the steps of a rebuild; a MessageChannel
  // message rather than setTimeout(0), which browsers clamp to 4 ms once nested (~50 pauses a rebuild)
  pause: () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      tick.port2.postMessage(null);
    }),
});
scope.onmessage = (ev) => host.handle(ev.data);

// The regrade web worker: a thin host over RegradeHost (regrade-host.ts), run by the tab leading a course room.
// Receives the document and its updates, answers with grid snapshots and patches. Never touches the DOM or storage.
import { RegradeHost, type RegradeIn, type RegradeOut } from './regrade-host.ts';

interface WorkerScope {
  postMessage(msg: RegradeOut, transfer: ArrayBuffer[]): void;
  onmessage: ((ev: { data: RegradeIn }) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const host = new RegradeHost({
  post: (msg, transfer) => scope.postMessage(msg, transfer),
  clock: { now: () => Math.floor(Date.now() / 1000) },
  // a macrotask, so that update and cancel messages are handled between the stages of a rebuild
  pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
});
scope.onmessage = (ev) => host.handle(ev.data);

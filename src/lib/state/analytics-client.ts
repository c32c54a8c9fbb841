// Page side of the analytics worker protocol: numbered requests, progress callbacks, cancel, and errors rebuilt
// with their field-addressed problems. Transport only: no storage, no DOM, no decisions.
import type { AnalyticsResponse } from '../ml/analytics-host';
import type { AppRequest } from './analytics-app.worker';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type AppCall = DistributiveOmit<Exclude<AppRequest, { type: 'cancel' }>, 'id'>;

/** What a job failure carries to the screen. */
export class AnalyticsJobError extends Error {
  constructor(
    message: string,
    readonly problems: readonly { at: string; message: string }[] = [],
    readonly cancelled = false,
  ) {
    super(message);
    this.name = 'AnalyticsJobError';
  }
}

export interface WorkerLike {
  postMessage(msg: unknown): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown }) => void): void;
  terminate?(): void;
}

export type Progress = (phase: string, done: number, total: number) => void;

export interface Job<T> {
  readonly id: number;
  readonly result: Promise<T>;
  cancel(): void;
}

export class AnalyticsClient {
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: unknown): void; progress?: Progress | undefined }
  >();

  constructor(private readonly port: WorkerLike) {
    port.addEventListener('message', (ev) => this.receive(ev.data as AnalyticsResponse));
  }

  /** Sends one request; the result promise settles with its value or an AnalyticsJobError. */
  run<T>(call: AppCall, progress?: Progress): Job<T> {
    const id = this.next++;
    const result = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
    });
    this.port.postMessage({ ...call, id });
    return {
      id,
      result,
      cancel: () => this.port.postMessage({ id: this.next++, type: 'cancel', target: id }),
    };
  }

  private receive(msg: AnalyticsResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') p.progress?.(msg.phase, msg.done, msg.total);
    else {
      this.pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.value);
      else p.reject(new AnalyticsJobError(msg.message, msg.problems ?? [], msg.cancelled ?? false));
    }
  }
}

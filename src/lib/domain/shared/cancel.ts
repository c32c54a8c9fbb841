// Cooperative cancellation and progress for long domain jobs (ES2022 has no AbortSignal).
// Pure: never reads a clock or schedules work; callers poll `cancelled` between chunks.

export interface CancelToken {
  readonly cancelled: boolean;
}

/** A token the host can cancel (a worker flips it when the page asks to stop). */
export interface CancelSource {
  readonly token: CancelToken;
  cancel(): void;
}

export function cancelSource(): CancelSource {
  const state = { cancelled: false };
  return {
    token: state,
    cancel() {
      state.cancelled = true;
    },
  };
}

/** Options every long domain job accepts. */
export interface JobOptions {
  onProgress?(done: number, total: number): void;
  cancel?: CancelToken;
  /** Lets the host's event loop run between chunks (a worker resolves it on a macrotask so cancel messages get in). */
  pause?(): Promise<void>;
}

/** Thrown when a job stops because its token was cancelled; nothing it was building is returned. */
export class CancelledError extends Error {
  constructor(what = 'job') {
    super(`${what} cancelled`);
    this.name = 'CancelledError';
  }
}

export function throwIfCancelled(token: CancelToken | undefined, what?: string): void {
  if (token?.cancelled) throw new CancelledError(what);
}

// A tiny typed request/response protocol between a page and a worker: calls by method name, progress messages,
// cancel, and errors carrying a ValidationError's problems. Transport-agnostic (Worker, MessagePort); no DOM use.
import { cancelSource, type CancelSource, type CancelToken } from '../domain/shared/cancel.ts';

/** What a handler gets besides its arguments. */
export interface RpcContext {
  onProgress(done: number, total: number): void;
  cancel: CancelToken;
  /** Resolves on a macrotask, so a cancel message can be received between chunks. */
  pause(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each API states its own argument type
export type RpcApi = Record<string, (args: any, ctx: RpcContext) => unknown>;

export type RpcRequest =
  { rpc: 'call'; id: number; method: string; args: unknown } | { rpc: 'cancel'; id: number };

export type RpcResponse =
  | { rpc: 'progress'; id: number; done: number; total: number }
  | { rpc: 'result'; id: number; value: unknown }
  | { rpc: 'error'; id: number; name: string; message: string; problems?: { at: string; message: string }[] };

/** The two ends both speak: a Worker, the worker's global scope, or a MessagePort. */
export interface RpcPort {
  postMessage(msg: unknown): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown }) => void): void;
}

/** An error from the worker, rebuilt on the page with its name and (for validation errors) its problems. */
export class RpcError extends Error {
  constructor(
    name: string,
    message: string,
    readonly problems: { at: string; message: string }[] = [],
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * Serves `api` on `port`. Calls run one after another (a worker holds one index); cancel messages are handled
 * at once so they can stop the running call.
 */
export function serveRpc(port: RpcPort, api: RpcApi, pause: () => Promise<void>): void {
  const running = new Map<number, CancelSource>();
  let queue: Promise<void> = Promise.resolve();
  port.addEventListener('message', (ev) => {
    const req = ev.data as RpcRequest;
    if (!req || typeof req !== 'object' || !('rpc' in req)) return;
    if (req.rpc === 'cancel') {
      running.get(req.id)?.cancel();
      return;
    }
    const source = cancelSource();
    running.set(req.id, source);
    queue = queue.then(async () => {
      try {
        const fn = api[req.method];
        if (!fn) throw new RpcError('UsageError', `no method "${req.method}"`);
        if (source.token.cancelled) throw new RpcError('CancelledError', `${req.method} cancelled`);
        const value = await fn(req.args, {
          onProgress: (done, total) => port.postMessage({ rpc: 'progress', id: req.id, done, total }),
          cancel: source.token,
          pause,
        });
        port.postMessage({ rpc: 'result', id: req.id, value });
      } catch (e) {
        const err = e as { name?: string; message?: string; problems?: { at: string; message: string }[] };
        port.postMessage({
          rpc: 'error',
          id: req.id,
          name: err.name ?? 'Error',
          message: err.message ?? String(e),
          ...(Array.isArray(err.problems) ? { problems: err.problems } : {}),
        });
      } finally {
        running.delete(req.id);
      }
    });
  });
}

export interface RpcCall<T> {
  readonly result: Promise<T>;
  /** Asks the worker to stop; the result then rejects with a CancelledError. */
  cancel(): void;
}

type Args<F> = F extends (args: infer A, ctx: RpcContext) => unknown ? A : never;
type Ret<F> = F extends (args: never, ctx: RpcContext) => infer R ? Awaited<R> : never;

/** The page's side: typed calls with progress and cancel. */
export class RpcClient<A extends RpcApi> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    {
      resolve(v: unknown): void;
      reject(e: unknown): void;
      onProgress?: (done: number, total: number) => void;
    }
  >();

  constructor(private readonly port: RpcPort) {
    port.addEventListener('message', (ev) => {
      const msg = ev.data as RpcResponse;
      if (!msg || typeof msg !== 'object' || !('rpc' in msg)) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.rpc === 'progress') p.onProgress?.(msg.done, msg.total);
      else {
        this.pending.delete(msg.id);
        if (msg.rpc === 'result') p.resolve(msg.value);
        else p.reject(new RpcError(msg.name, msg.message, msg.problems));
      }
    });
  }

  call<M extends keyof A & string>(
    method: M,
    args: Args<A[M]>,
    opts: { onProgress?: (done: number, total: number) => void } = {},
  ): RpcCall<Ret<A[M]>> {
    const id = this.nextId++;
    const result = new Promise<Ret<A[M]>>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
    });
    this.port.postMessage({ rpc: 'call', id, method, args } satisfies RpcRequest);
    return { result, cancel: () => this.port.postMessage({ rpc: 'cancel', id } satisfies RpcRequest) };
  }
}

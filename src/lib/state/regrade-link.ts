// Where a tab's grid comes from: the tab leading a course room runs the regrade worker (fed every document update)
// and shares its snapshots, patches and rebuild status with the device's other tabs on a BroadcastChannel; the others
// draw that grid and never regrade. Browser glue only: no rendering, no storage, never writes the document.
import * as Y from 'yjs';
import type { GridPatch, GridSnapshot } from './grid-model';
import { GridReplica, IDLE, nextStatus, type RegradeStatus } from './regrade-replica';
import { PaintBatch } from '../sync/after-paint';
import { RegradeHost, type RegradeIn, type RegradeOut } from '../workers/regrade-host';

/** Messages between the tabs of one device about one course's grid (`markbook:grid:<room>`). */
type GridMsg =
  | { t: 'lead' }
  | { t: 'want' }
  | { t: 'snapshot'; id: string; snapshot: GridSnapshot }
  | { t: 'patch'; base: string; patch: GridPatch }
  | { t: 'status'; status: RegradeStatus }
  | { t: 'cancel' }
  | { t: 'regrade' };

export interface RegradeLinkOptions {
  room: string;
  doc: Y.Doc;
  /** The grid changed (a new snapshot when `full`, else a patch applied to the current one). */
  onGrid(s: GridSnapshot, full: boolean): void;
  onStatus(s: RegradeStatus): void;
  onError(message: string): void;
  /** This tab's worker regraded (a full rebuild taking `ms`, or a patch of `cells` cells). */
  onRegrade?(kind: 'rebuild' | 'patch', detail: { ms?: number; cells?: number }): void;
}

interface WorkerLike {
  postMessage(m: RegradeIn, transfer?: Transferable[]): void;
  terminate(): void;
}

/** The worker, or (no Worker here) the same host on this thread, answering asynchronously like a worker. */
function startWorker(onMessage: (m: RegradeOut) => void): WorkerLike {
  if (typeof Worker !== 'undefined') {
    const w = new Worker(new URL('../workers/regrade.worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (ev: MessageEvent<RegradeOut>) => onMessage(ev.data);
    w.onerror = (ev) => onMessage({ t: 'error', message: `The regrade worker failed: ${ev.message}` });
    return w;
  }
  const host = new RegradeHost({
    post: (m) => setTimeout(() => onMessage(m), 0),
    clock: { now: () => Math.floor(Date.now() / 1000) },
    pause: () => new Promise((r) => setTimeout(r, 0)),
  });
  return { postMessage: (m) => host.handle(m), terminate: () => host.destroy() };
}

export class RegradeLink {
  readonly grid = new GridReplica();
  status: RegradeStatus = IDLE;
  private readonly bc: BroadcastChannel | null;
  private readonly tab = Math.random().toString(36).slice(2, 10);
  private snapshots = 0;
  private worker: WorkerLike | null = null;
  /** Another tab asked for the grid: from then on this tab (when leading) shares every change. */
  private followers = false;
  private asked = false;

  constructor(private readonly opts: RegradeLinkOptions) {
    this.bc = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(`markbook:grid:${opts.room}`);
    if (this.bc) this.bc.onmessage = (e: MessageEvent<GridMsg>) => this.onChannel(e.data);
    this.ask();
  }

  get leading(): boolean {
    return this.worker !== null;
  }

  /** This tab leads the room now: start the worker from the document as it is, then feed it every update. */
  lead(): () => void {
    const worker = startWorker((m) => this.onWorker(m));
    const state = Y.encodeStateAsUpdate(this.opts.doc);
    worker.postMessage({ t: 'init', state }, [state.buffer]);
    // Updates reach the worker after the frame that shows them, merged: a grade typed has its totals on screen
    // already (the page's row preview), and a paste or a sync burst becomes one message.
    const outbox = new PaintBatch<Uint8Array>((us) => worker.postMessage({ t: 'update', u: us.length === 1 ? us[0]! : Y.mergeUpdates(us) }));
    const forward = (u: Uint8Array): void => outbox.push(u);
    this.opts.doc.on('update', forward);
    this.worker = worker;
    this.post({ t: 'lead' });
    return () => {
      outbox.flush();
      this.opts.doc.off('update', forward);
      worker.terminate();
      if (this.worker === worker) this.worker = null;
    };
  }

  /** Stops the running full rebuild (whichever tab runs it); the grid keeps its totals, marked out of date. */
  cancel(): void {
    if (this.worker) this.worker.postMessage({ t: 'cancel' });
    else this.post({ t: 'cancel' });
    // shown at once; if the rebuild finished meanwhile, its grid (on its way) clears the mark again
    if (this.status.running) this.setStatus({ running: false, stage: null, fraction: 0, stale: true });
  }

  /** Rebuilds everything now ("Regrade now"). */
  regradeNow(): void {
    if (this.worker) this.worker.postMessage({ t: 'regrade' });
    else this.post({ t: 'regrade' });
  }

  private ask(): void {
    this.asked = true;
    this.post({ t: 'want' });
  }

  private setStatus(s: RegradeStatus): void {
    this.status = s;
    this.opts.onStatus(s);
    if (this.worker && this.followers) this.post({ t: 'status', status: s });
  }

  private onWorker(m: RegradeOut): void {
    if (m.t === 'snapshot') {
      const id = `${this.tab}:${++this.snapshots}`;
      this.grid.set(id, m.snapshot);
      this.asked = false;
      this.opts.onGrid(m.snapshot, true);
      this.opts.onRegrade?.('rebuild', { ms: m.ms });
      if (this.followers) this.post({ t: 'snapshot', id, snapshot: m.snapshot });
    } else if (m.t === 'patch') {
      const base = this.grid.id;
      if (base && this.grid.patch(base, m.patch)) {
        this.opts.onGrid(this.grid.snapshot!, false);
        this.opts.onRegrade?.('patch', { cells: m.cells });
        if (this.followers) this.post({ t: 'patch', base, patch: m.patch });
      }
    } else if (m.t === 'error') this.opts.onError(m.message);
    const next = nextStatus(this.status, m);
    if (next !== this.status) this.setStatus(next);
  }

  private onChannel(m: GridMsg): void {
    if (this.worker) {
      // leading: answer the other tabs
      switch (m.t) {
        case 'want':
          this.followers = true;
          if (this.grid.id && this.grid.snapshot) this.post({ t: 'snapshot', id: this.grid.id, snapshot: this.grid.snapshot });
          this.post({ t: 'status', status: this.status });
          break;
        case 'cancel':
          this.cancel();
          break;
        case 'regrade':
          this.regradeNow();
          break;
      }
      return;
    }
    switch (m.t) {
      case 'lead':
        this.ask(); // a new leader: get its grid once it has one
        break;
      case 'snapshot':
        this.grid.set(m.id, m.snapshot);
        this.asked = false;
        this.opts.onGrid(m.snapshot, true);
        break;
      case 'patch':
        if (this.grid.patch(m.base, m.patch)) this.opts.onGrid(this.grid.snapshot!, false);
        else if (!this.asked) this.ask(); // this tab missed a snapshot
        break;
      case 'status':
        this.status = m.status;
        this.opts.onStatus(m.status);
        break;
    }
  }

  private post(m: GridMsg): void {
    try {
      this.bc?.postMessage(m);
    } catch {
      /* channel closed */
    }
  }

  destroy(): void {
    this.bc?.close();
  }
}

// The regrade worker's logic, as a plain module (Node tests run it as is): a replica of one course's Yjs document,
// the engine regraded from it, and the dirty tracking that turns document updates into grid snapshots and patches.
// Never touches the DOM, storage or the network; never writes the document (it only applies updates it is sent).
import * as Y from 'yjs';
import {
  SEP,
  currentEpoch,
  docToCourseJson,
  epochsMap,
  observeEpoch,
  readCell,
  recordToGrade,
  type Epoch,
} from '../crdt/course-doc.ts';
import { compileGradebookFormula } from '../domain/formula/index.ts';
import { GradeEngine } from '../domain/gradebook/engine.ts';
import {
  CancelledError,
  cancelSource,
  throwIfCancelled,
  type CancelSource,
} from '../domain/shared/cancel.ts';
import type { Clock } from '../domain/shared/clock.ts';
import {
  addRegradedCells,
  applyCellToEngine,
  gridLayout,
  snapshotFromEngine,
  type GridColumn,
  type GridPatch,
  type GridSnapshot,
} from './regrade-grid.ts';

/** The stages of a full rebuild, in order; `weight` is each stage's rough share of the time (measured on 2,000 x 300). */
export const REBUILD_STAGES = [
  { stage: 'read', label: 'Reading the course', weight: 0.3 },
  { stage: 'build', label: 'Building the gradebook', weight: 0.35 },
  { stage: 'regrade', label: 'Regrading', weight: 0.25 },
  { stage: 'snapshot', label: 'Preparing the grid', weight: 0.1 },
] as const;
export type RebuildStage = (typeof REBUILD_STAGES)[number]['stage'];

/** Page -> worker. */
export type RegradeIn =
  /** Start from the leader's document state (Y.encodeStateAsUpdate); a full rebuild follows. */
  | { t: 'init'; state: Uint8Array }
  /** One document update, in the order the leader's document saw them. */
  | { t: 'update'; u: Uint8Array }
  /** Stop the running full rebuild; the grid keeps the totals it has (out of date) until `regrade` or a new setup change. */
  | { t: 'cancel' }
  /** Rebuild everything now ("Regrade now"). */
  | { t: 'regrade' };

/** Worker -> page. */
export type RegradeOut =
  | { t: 'started'; run: number }
  | { t: 'progress'; run: number; stage: RebuildStage; fraction: number }
  /** A full rebuild finished: the whole grid (its typed arrays transferred). */
  | { t: 'snapshot'; run: number; snapshot: GridSnapshot; ms: number }
  /** A full rebuild stopped (cancelled by the page, or superseded by a newer setup change when `superseded`). */
  | { t: 'cancelled'; run: number; superseded: boolean }
  /** Grade slots changed: the recomputed cells of the grid last sent. */
  | { t: 'patch'; patch: GridPatch; cells: number }
  | { t: 'error'; message: string };

export interface RegradeHostOptions {
  post(msg: RegradeOut, transfer: ArrayBuffer[]): void;
  clock: Clock;
  /** Lets the event loop run between stages so updates and cancels get in (a worker resolves it on a macrotask). */
  pause(): Promise<void>;
}

/** How often (in regrade progress) a progress message is sent: 20 a stage is smooth enough and costs nothing. */
const PROGRESS_STEPS = 20;

export class RegradeHost {
  private doc: Y.Doc | null = null;
  private epoch: Epoch | null = null;
  private unobserveEpoch: (() => void) | null = null;
  private engine: GradeEngine | null = null;
  private columns: GridColumn[] = [];
  /** Column position of each engine node (-1: not a column). */
  private colOf: Int32Array = new Int32Array(0);
  /** Cells (`item\0user`) whose grade slots changed since the engine last saw them. */
  private readonly dirty = new Set<string>();
  /** Setup changed (or no engine yet): the next refresh rebuilds everything. */
  private needsRebuild = true;
  /** The page cancelled a rebuild: wait for "regrade now" or a newer setup change before rebuilding again. */
  private held = false;
  private running: { run: number; cancel: CancelSource; superseded: boolean } | null = null;
  private runs = 0;
  private scheduled = false;
  /** Full rebuilds completed and patches sent, for tests and the page's counters. */
  rebuilds = 0;
  patches = 0;

  constructor(private readonly opts: RegradeHostOptions) {}

  handle(msg: RegradeIn): void {
    switch (msg.t) {
      case 'init': {
        this.unobserveEpoch?.();
        this.unobserveEpoch = null;
        this.epoch = null;
        this.doc?.destroy();
        const doc = new Y.Doc();
        Y.applyUpdate(doc, msg.state);
        epochsMap(doc).observe(() => this.setupChanged());
        this.doc = doc;
        this.setupChanged();
        break;
      }
      case 'update':
        if (this.doc) Y.applyUpdate(this.doc, msg.u);
        break;
      case 'cancel':
        // nothing running: the rebuild finished first and its grid is on its way; nothing to hold
        if (this.running) {
          this.running.cancel.cancel();
          this.held = true;
        }
        break;
      case 'regrade':
        this.setupChanged();
        break;
    }
  }

  /** Setup changed (or a full regrade was asked for): rebuild, superseding a running rebuild. */
  private setupChanged(): void {
    this.needsRebuild = true;
    this.held = false;
    if (this.running) {
      this.running.superseded = true;
      this.running.cancel.cancel();
    }
    this.schedule();
  }

  /** Coalesces a burst of changes (one update, one transaction) into one refresh. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.refresh();
    });
  }

  /** Watches the current epoch: grade slots changed -> those cells; setup changed -> everything. */
  private bindEpoch(): void {
    const e = this.doc ? currentEpoch(this.doc) : null;
    if (e?.id === this.epoch?.id) return;
    this.unobserveEpoch?.();
    this.unobserveEpoch = null;
    this.epoch = e;
    if (!e) return;
    this.unobserveEpoch = observeEpoch(e, {
      cells: (keys) => {
        for (const key of keys) this.dirty.add(key);
        this.schedule();
      },
      setup: () => this.setupChanged(),
    });
  }

  private refresh(): void {
    this.bindEpoch();
    if (!this.epoch || this.running) return; // nothing synced yet, or the running rebuild picks this up when done
    if (this.needsRebuild && (!this.held || !this.engine)) {
      if (!this.held) void this.rebuild();
      return;
    }
    if (this.dirty.size && this.engine) this.patch();
  }

  /** Incremental regrade of the dirty cells' users; a cell the engine does not know means setup changed: rebuild. */
  private patch(): void {
    const engine = this.engine!;
    const doc = this.doc!;
    const out: GridPatch = { c: [], u: [], final: [], flags: [], feedback: [] };
    const users = engine.users.length;
    let cells = 0;
    const touched = new Set<number>();
    const colOf = (n: number): number => this.colOf[n]!;
    for (const key of this.dirty) {
      const [item, user] = key.split(SEP) as [string, string];
      const q = engine.course.byId.get(item);
      const u = engine.userIndex.get(user);
      if (q === undefined || u === undefined) {
        this.setupChanged();
        return;
      }
      const before = engine.feedback.get(q * users + u) ?? null;
      applyCellToEngine(engine, item, user, recordToGrade(item, user, readCell(doc, item, user).record));
      cells++;
      const after = engine.feedback.get(q * users + u) ?? null;
      const c = this.colOf[q]!;
      if (after !== before && c >= 0) out.feedback.push({ c, u, text: after });
      addRegradedCells(out, engine, q, u, u, colOf, touched);
    }
    this.dirty.clear();
    this.patches++;
    this.opts.post({ t: 'patch', patch: out, cells }, []);
  }

  /** [REG-2] Full rebuild in stages, each followed by a pause so that updates and cancels get in. */
  private async rebuild(): Promise<void> {
    const run = ++this.runs;
    const cancel = cancelSource();
    const me = { run, cancel, superseded: false };
    this.running = me;
    this.needsRebuild = false;
    const t0 = performance.now();
    let at = 0;
    const progress = (stage: RebuildStage, done: number, total: number): void => {
      const i = REBUILD_STAGES.findIndex((s) => s.stage === stage);
      const w = REBUILD_STAGES[i]!.weight;
      this.opts.post(
        { t: 'progress', run, stage, fraction: Math.min(1, at + w * (total ? done / total : 0)) },
        [],
      );
      if (done === total) at += w;
    };
    const step = async (): Promise<void> => {
      await this.opts.pause();
      throwIfCancelled(cancel.token, 'regrade');
    };
    try {
      this.opts.post({ t: 'started', run }, []);
      progress('read', 0, 1);
      // cells changed after this point stay dirty and are patched after the snapshot
      this.dirty.clear();
      const json = docToCourseJson(this.doc!);
      progress('read', 1, 1);
      await step();
      const engine = new GradeEngine(json, {
        now: this.opts.clock.now(),
        compileFormula: compileGradebookFormula,
        deferRegrade: true,
      });
      progress('build', 1, 1);
      await step();
      const every = Math.max(1, Math.ceil(engine.course.order.length / PROGRESS_STEPS));
      // pauses inside the regrade too, so a cancel or a superseding setup change lands mid-regrade
      await engine.regradeAllAsync({
        onProgress: (done, total) => {
          if (done % every === 0 || done === total) progress('regrade', done, total);
        },
        cancel: cancel.token,
        pause: this.opts.pause,
      });
      if (engine.course.order.length === 0) progress('regrade', 1, 1);
      await step();
      const { columns, rows } = gridLayout(json, engine);
      const snapshot = snapshotFromEngine(engine, columns, rows);
      progress('snapshot', 1, 1);
      // the last chance to stop: after this the new grid replaces the old one
      await step();
      this.engine = engine;
      this.columns = columns;
      this.colOf = new Int32Array(engine.course.nodes.length).fill(-1);
      columns.forEach((c, i) => (this.colOf[c.q] = i));
      this.rebuilds++;
      const transfer = [
        ...new Set([...snapshot.finals, ...snapshot.flags].map((a) => a.buffer as ArrayBuffer)),
      ];
      this.opts.post({ t: 'snapshot', run, snapshot, ms: performance.now() - t0 }, transfer);
    } catch (e) {
      if (e instanceof CancelledError) {
        this.needsRebuild = true;
        this.opts.post({ t: 'cancelled', run, superseded: me.superseded }, []);
      } else {
        this.needsRebuild = true;
        // a broken document would fail again: wait for the next setup change (Moodle's grade_regrade_final_grades_if_required
        // likewise marks regrading finished after errors, lib/gradelib.php, to stop an endless loop)
        this.held = true;
        this.opts.post({ t: 'error', message: e instanceof Error ? e.message : String(e) }, []);
      }
    } finally {
      this.running = null;
    }
    this.schedule(); // a superseding change, or cells typed during the rebuild
  }

  /** The columns of the grid last sent (for tests). */
  get gridColumns(): readonly GridColumn[] {
    return this.columns;
  }

  destroy(): void {
    this.running?.cancel.cancel();
    this.unobserveEpoch?.();
    this.doc?.destroy();
    this.doc = null;
  }
}

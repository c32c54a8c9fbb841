// One open course: its Yjs document kept in IndexedDB and synced with the server, and what the grader grid shows
// (regraded by the worker of the tab leading the room; see regrade-link.ts). Writes go through CRDT commands only;
// never regrades the whole course on the main thread unless a page asks for the engine.
import * as Y from 'yjs';
import type { Command, CommandContext, CommandResult } from '../crdt/commands';
import { SEP, currentEpoch, docToCourseJson, epochsMap, listConflicts, observeEpoch, readCell, recordToGrade, type Actor, type CellConflict, type Epoch } from '../crdt/course-doc';
import type { Candidate, GradeField } from '../crdt/grade-register';
import type { HistoryArchive } from '../crdt/history';
import { bindCourseDoc } from '../crdt/rebase';
import { httpBase } from '../sync/auth-client';
import { CourseUndoManager } from '../crdt/undo';
import type { CourseJson } from '../domain/interchange/course-types';
import type { GradeEngine } from '../domain/gradebook/engine';
import { database } from '../persistence/db';
import { YStore } from '../persistence/y-store';
import { RoomConnection, type ConnectionState } from '../sync/room-connection';
import { TabLink } from '../sync/tab-link';
import { Gradebook } from '../domain/gradebook/index';
import { applyCellToEngine, lazyGridModel, viewFromSnapshot, type GridModel, type GridSnapshot, type GridView } from './grid-model';
import { RegradeLink } from './regrade-link';
import { RowPreview } from './row-preview';
import { afterPaint } from '../sync/after-paint';
import { IDLE, type RegradeStatus } from './regrade-replica';
import { session } from './session.svelte';
import { syncStatus } from './sync-status.svelte';

/**
 * A full rebuild shows its progress bar only past this: shorter ones would only flicker (issue #6). Moodle's
 * lib/gradelib.php (grade_regrade_final_grades_if_required, grade_needs_regrade_progress_bar) likewise shows its
 * "Recalculating grades" bar only for a regrade expected to be slow, but predicts it from the number of grades and
 * holds the page meanwhile; here the elapsed time decides and the old grid stays usable.
 */
const PROGRESS_AFTER_MS = 300;

function deviceId(): string {
  const key = 'markbook.deviceId';
  let id = localStorage.getItem(key);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(key, id);
  }
  return id;
}

/** A stable, readable colour per person for presence outlines. */
function colorFor(id: string): string {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 70% 38%)`;
}

export class CourseWorkspace {
  readonly room: string;
  readonly doc = new Y.Doc();
  model = $state.raw<GridModel | null>(null);
  /** The grid as last seen on this device (read model), shown read-only until the live model is ready. */
  preview = $state.raw<GridView | null>(null);
  private cacheTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped on every change the views should see. */
  version = $state(0);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Every grade field in conflict, for the badge, the grid markers and the panel. */
  conflictList = $state.raw<CellConflict[]>([]);
  private store: YStore;
  private conn: RoomConnection | null = null;
  private tabs: TabLink | null = null;
  private scheduled = false;
  /** Cells (`item\0user`) whose slots changed since the last refresh; null = rebuild everything. */
  private dirty: Set<string> | null = null;
  private epoch: Epoch | null = null;
  private unobserveEpoch: (() => void) | null = null;
  private jsonCache: { version: number; json: CourseJson } | null = null;
  /** The engine built on this thread for pages that ask for it (setup, reports, import); kept up to date cell by cell. */
  private mainEngine: Gradebook | null = null;
  /** The epoch whose conflicts conflictsByCell holds. */
  private conflictsEpoch: string | null = null;
  private readonly link: RegradeLink;
  /** Regrades an edited user's row on this thread so totals show in the keystroke's own frame (row-preview.ts). */
  private readonly rowPreview: RowPreview;
  /** Full rebuilds and patches this tab's regrade worker made (0 in a tab that follows another). */
  regrades = $state(0);
  /** The running full rebuild, and whether the totals shown are out of date. */
  regrade = $state.raw<RegradeStatus>(IDLE);
  /** True once a running full rebuild has taken longer than PROGRESS_AFTER_MS: the page shows its progress. */
  regradeSlow = $state(false);
  private slowTimer: ReturnType<typeof setTimeout> | null = null;
  /** The last error the regrade worker reported (cleared from `error` by its next full grid). */
  private regradeError: string | null = null;
  /** Conflicts by cell (`item\0user`), kept up to date cell by cell. */
  private readonly conflictsByCell = new Map<string, CellConflict[]>();
  /** Time of the last full rebuild and of the last incremental update (ms), for the status line and benchmarks. */
  lastRebuildMs = 0;
  lastUpdateMs = 0;
  private readonly undoManager: CourseUndoManager;
  private unbind: (() => void) | null = null;
  readonly ctx: CommandContext;
  canUndo = $state(false);
  /** Other people in this course now: which cell each is on (key `item\0user`), and whether they are typing. */
  presence = $state.raw<ReadonlyMap<string, { name: string; color: string; editing: boolean }[]>>(new Map());
  /** How many other people have the course open. */
  others = $state(0);
  canRedo = $state(false);
  readonly actor: Actor;

  constructor(readonly courseId: string) {
    this.room = `course/${courseId}`;
    this.actor = { userId: session.user?.id ?? 'anonymous', deviceId: deviceId() };
    this.ctx = { actor: this.actor, clock: { now: () => Math.floor(Date.now() / 1000) } };
    this.undoManager = new CourseUndoManager(this.doc, this.ctx);
    this.rowPreview = new RowPreview(this.doc);
    // Only the tab leading this room writes the device store and talks to the server (see TabLink).
    this.store = new YStore(database(), this.room, this.doc, { write: false });
    this.link = new RegradeLink({
      room: this.room,
      doc: this.doc,
      onGrid: (snapshot, full) => {
        this.model = lazyGridModel(snapshot, () => this.engineNow(), this.link.grid.logForView());
        this.preview = null;
        // a new grid (first load, setup change): get the row preview's engine ready while nobody is typing
        if (full) afterPaint(() => this.rowPreview.prepare());
        if (full && this.error !== null && this.error === this.regradeError) this.error = null;
        this.saveReadModelSoon();
      },
      onStatus: (st) => this.onRegradeStatus(st),
      onError: (message) => (this.error = this.regradeError = message),
      onRegrade: (kind, detail) => {
        this.regrades++;
        if (kind === 'rebuild') this.lastRebuildMs = detail.ms ?? 0;
        performance.mark('markbook:regrade', { detail: { room: this.room, kind, ...detail } });
      },
    });
    void database()
      .gridCache.get(courseId)
      .then((row) => {
        if (row && row.userId === this.actor.userId && !this.model) this.preview = viewFromSnapshot(row.snapshot as GridSnapshot);
      })
      .catch(() => undefined); // a missing or unreadable read model only means no early paint
    epochsMap(this.doc).observe(() => this.markAll());
    void this.store.whenLoaded.then(() => {
      // replays this device's unsynced writes if someone re-based the document meanwhile
      this.unbind = bindCourseDoc(this.doc, this.ctx);
      this.markAll();
      this.refresh();
      this.loaded = true;
      this.tabs = new TabLink({
        room: this.room,
        doc: this.doc,
        onLead: () => {
          void this.store.startWriting();
          this.connect();
          const stopRegrading = this.link.lead();
          return () => {
            stopRegrading();
            this.conn?.destroy();
            this.conn = null;
            this.store.stopWriting();
          };
        },
        onLeaderStatus: (state, detail) => syncStatus.report(this.room, state as ConnectionState, detail ? `${detail} (another tab)` : undefined),
      });
    });
  }

  private connect(): void {
    this.conn = new RoomConnection({
      serverUrl: session.syncUrl,
      room: this.room,
      doc: this.doc,
      getToken: () => session.token(),
      refreshToken: () => session.refresh(),
      onState: (s, detail) => {
        syncStatus.report(this.room, s, detail);
        this.tabs?.announce(s, detail);
      },
      // The server refused one of this device's changes and stored nothing of it: drop the local copy (which
      // still holds it) and fetch the course again, rather than retrying a change that will be refused again.
      onRefused: (reason) => {
        this.error = `The server refused a change (${reason}); reloading the course from the server.`;
        void database()
          .yupdates.where('room')
          .equals(this.room)
          .delete()
          .then(() => setTimeout(() => location.reload(), 1500));
      },
    });
    if (!navigator.onLine) this.conn.pause();
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
    const aw = this.conn.provider.awareness;
    const me = session.user;
    aw.setLocalStateField('user', { id: me?.id ?? '?', name: me?.displayName ?? 'Someone', color: colorFor(me?.id ?? '?') });
    // The connection's view of the others, not the raw awareness: it keeps someone shown while a socket (theirs or
    // ours) is renewed at a token expiry, instead of dropping and re-adding them (RoomConnection.peers).
    this.conn.onPeers((peers) => {
      const map = new Map<string, { name: string; color: string; editing: boolean }[]>();
      let others = 0;
      for (const st of peers.values()) {
        const s = st as { user?: { name: string; color: string }; cell?: { item: string; user: string; editing?: boolean } | null };
        if (!s.user) continue;
        others++;
        if (!s.cell) continue;
        const key = `${s.cell.item}\u0000${s.cell.user}`;
        const list = map.get(key) ?? [];
        list.push({ name: s.user.name, color: s.user.color, editing: s.cell.editing ?? false });
        map.set(key, list);
      }
      this.presence = map;
      this.others = others;
    });
  }

  private readonly onOffline = (): void => this.conn?.pause();
  private readonly onOnline = (): void => this.conn?.resume();

  /** Tells the others which cell this person is on (null: none) and whether they are typing in it. */
  focus(cell: { item: string; user: string; editing?: boolean } | null): void {
    this.conn?.provider.awareness.setLocalStateField('cell', cell);
  }

  /** The current snapshot of the course (computed on demand from the document, cached per version). */
  get json(): CourseJson | null {
    void this.version; // views re-read the course when it changes
    if (!this.epoch) return null;
    if (this.jsonCache?.version !== this.version) this.jsonCache = { version: this.version, json: docToCourseJson(this.doc) };
    return this.jsonCache.json;
  }

  /** Watches the current epoch: grade slots changed -> those cells; setup changed -> everything. */
  private bindEpoch(): void {
    const e = currentEpoch(this.doc);
    if (e?.id === this.epoch?.id) return;
    this.unobserveEpoch?.();
    this.unobserveEpoch = null;
    this.epoch = e;
    if (!e) return;
    this.unobserveEpoch = observeEpoch(e, {
      cells: (keys) => {
        if (this.dirty) for (const key of keys) this.dirty.add(key);
        this.schedule();
      },
      setup: () => this.markAll(),
    });
  }

  private markAll(): void {
    this.dirty = null;
    this.schedule();
  }

  /** Coalesces a burst of changes (one transaction, a sync batch) into one regrade. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.refresh();
    });
  }

  /**
   * Follows what changed for this thread's own needs: conflicts of the dirty cells (or all of them), and the engine
   * built here for pages that asked for it (patched cell by cell, dropped on a setup change). The grid's totals come
   * from the regrade worker (regrade-link.ts), never from here.
   */
  private refresh(): void {
    this.bindEpoch();
    if (!this.epoch) return; // nothing synced yet
    const t0 = performance.now();
    try {
      const dirty = this.dirty;
      this.dirty = new Set();
      if (dirty) {
        let conflictsChanged = false;
        for (const key of dirty) {
          const [item, user] = key.split(SEP) as [string, string];
          const cell = readCell(this.doc, item, user);
          if (this.mainEngine && !applyCellToEngine(this.mainEngine.state, item, user, recordToGrade(item, user, cell.record))) this.mainEngine = null;
          const fields = Object.entries(cell.conflicts) as [GradeField, Candidate[]][];
          if (fields.length || this.conflictsByCell.has(key)) {
            conflictsChanged = true;
            if (fields.length) this.conflictsByCell.set(key, fields.map(([field, candidates]) => ({ item, user, field, candidates })));
            else this.conflictsByCell.delete(key);
          }
        }
        this.lastUpdateMs = performance.now() - t0;
        this.previewRows(dirty);
        this.afterChange(conflictsChanged);
      } else {
        // setup changed (or first load): the engine built here is out of date. Conflicts live in grade slots, which
        // a setup change leaves alone: read them all again only for a new epoch (first load, re-base).
        this.mainEngine = null;
        this.rowPreview.invalidate();
        if (this.conflictsEpoch === this.epoch.id) {
          this.afterChange(false);
          return;
        }
        this.conflictsEpoch = this.epoch.id;
        this.conflictsByCell.clear();
        for (const c of listConflicts(this.doc)) {
          const key = c.item + SEP + c.user;
          const list = this.conflictsByCell.get(key);
          if (list) list.push(c);
          else this.conflictsByCell.set(key, [c]);
        }
        this.afterChange(true);
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  /**
   * The engine for pages that need one (setup numbers, reports, imports): built on this thread from the document
   * the first time a page asks, then kept up to date cell by cell until the setup changes.
   */
  private engineNow(): { engine: GradeEngine; gradebook: Gradebook } {
    void this.version; // a page reading the engine re-reads it when the course changes
    const json = this.json;
    if (!json) throw new Error('The course has not loaded yet.');
    this.mainEngine ??= new Gradebook(json, { now: Math.floor(Date.now() / 1000) });
    return { engine: this.mainEngine.state, gradebook: this.mainEngine };
  }

  /**
   * Shows the totals of a few changed users at once, computed here (row-preview.ts), without waiting for the
   * worker; its patch follows and overwrites the same cells. Not during a rebuild (the grid is about to be replaced)
   * nor for big changes (pastes, sync batches), which only the worker regrades.
   */
  private previewRows(cells: ReadonlySet<string>): void {
    const { snapshot, id } = this.link.grid;
    if (!snapshot || !id || !cells.size || this.link.status.running || this.link.status.stale) {
      this.rowPreview.forget(); // the rows it keeps have not seen these changes
      return;
    }
    const t0 = performance.now();
    try {
      const p = this.rowPreview.patch(snapshot, cells, this.ctx.clock.now());
      if (!p?.c.length || !this.link.grid.patch(id, p)) return;
    } catch {
      this.rowPreview.forget();
      return; // only a preview: the worker's patch brings the totals (and reports what went wrong)
    }
    this.model = lazyGridModel(snapshot, () => this.engineNow(), this.link.grid.logForView());
    performance.mark('markbook:preview', { detail: { room: this.room, ms: performance.now() - t0 } });
  }

  private onRegradeStatus(st: RegradeStatus): void {
    const was = this.regrade.running;
    this.regrade = st;
    if (st.running && !was) {
      if (this.slowTimer) clearTimeout(this.slowTimer);
      this.slowTimer = setTimeout(() => {
        this.slowTimer = null;
        if (this.regrade.running) this.regradeSlow = true;
      }, PROGRESS_AFTER_MS);
    } else if (!st.running) {
      if (this.slowTimer) clearTimeout(this.slowTimer);
      this.slowTimer = null;
      this.regradeSlow = false;
    }
  }

  /** Stops the running full rebuild: the grid keeps its totals, marked out of date, until regradeNow(). */
  cancelRegrade(): void {
    this.link.cancel();
  }

  /** Rebuilds the whole grid now (after a cancelled or failed rebuild). */
  regradeNow(): void {
    this.link.regradeNow();
  }

  private afterChange(conflictsChanged: boolean): void {
    this.version++;
    if (conflictsChanged) this.conflictList = [...this.conflictsByCell.values()].flat();
    syncStatus.conflicts = this.conflictList.length;
    syncStatus.conflictsHref = `/course?id=${encodeURIComponent(this.courseId)}#conflicts`;
  }

  /**
   * The change logs the server folded away by re-basing this course (history before the current epoch), from the
   * server when online, else the copy kept on this device.
   */
  async archives(): Promise<HistoryArchive[]> {
    const key = `archives:${this.courseId}`;
    try {
      const res = await fetch(`${httpBase(session.syncUrl)}/courses/${encodeURIComponent(this.courseId)}/archives`, {
        headers: { authorization: `Bearer ${session.token() ?? ''}` },
      });
      if (res.ok) {
        const list = ((await res.json()) as { archives: HistoryArchive[] }).archives;
        await database().prefs.put({ key, value: list });
        return list;
      }
    } catch {
      /* offline: use what this device kept */
    }
    const kept = await database().prefs.get(key);
    return Array.isArray(kept?.value) ? (kept.value as HistoryArchive[]) : [];
  }

  /** Keeps the grid's read model up to date, a few seconds after the last change (never on the typing path). */
  private saveReadModelSoon(): void {
    if (this.cacheTimer) clearTimeout(this.cacheTimer);
    this.cacheTimer = setTimeout(() => {
      this.cacheTimer = null;
      // one tab per device keeps the device's copies (document and read model): the one leading this room
      if (!this.tabs?.leader || !this.link.grid.snapshot) return;
      const write = () => {
        const snapshot = this.link.grid.snapshot;
        if (snapshot)
          void database()
            .gridCache.put({ courseId: this.courseId, userId: this.actor.userId, savedAt: Date.now(), snapshot })
            .catch(() => undefined);
      };
      if (typeof requestIdleCallback === 'function') requestIdleCallback(write, { timeout: 5000 });
      else write();
    }, 3000);
  }

  /** Applies a command as this device's actor; its inverse goes on this person's undo stack (a bulk is one step). */
  run(cmd: Command, src = 'grid'): CommandResult {
    const r = this.undoManager.run(cmd, src);
    this.syncUndoFlags();
    return r;
  }

  /** Undoes this person's own latest step; changes others made since are left alone. */
  undo(): CommandResult | null {
    const r = this.undoManager.undo();
    this.syncUndoFlags();
    return r;
  }

  redo(): CommandResult | null {
    const r = this.undoManager.redo();
    this.syncUndoFlags();
    return r;
  }

  private syncUndoFlags(): void {
    this.canUndo = this.undoManager.canUndo;
    this.canRedo = this.undoManager.canRedo;
  }

  destroy(): void {
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    if (this.cacheTimer) clearTimeout(this.cacheTimer);
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.unbind?.();
    this.unobserveEpoch?.();
    this.tabs?.destroy();
    this.link.destroy();
    this.conn?.destroy();
    this.store.destroy();
    syncStatus.forget(this.room);
    this.doc.destroy();
  }
}

/**
 * Open courses shared by every page of the app, so that moving between the grader report, setup, reports and
 * history keeps one document, one connection and one undo history. The least recently used course beyond
 * KEEP_OPEN is closed; signing out closes all.
 */
const KEEP_OPEN = 3;
const open = new Map<string, CourseWorkspace>();
session.onSignOut = () => closeAllCourseWorkspaces();

export function openCourseWorkspace(courseId: string): CourseWorkspace {
  let ws = open.get(courseId);
  if (ws && ws.actor.userId !== (session.user?.id ?? 'anonymous')) {
    ws.destroy();
    ws = undefined;
  }
  if (ws) open.delete(courseId);
  ws ??= new CourseWorkspace(courseId);
  open.set(courseId, ws); // most recent last
  while (open.size > KEEP_OPEN) {
    const [oldest, w] = open.entries().next().value as [string, CourseWorkspace];
    open.delete(oldest);
    w.destroy();
  }
  return ws;
}

export function closeAllCourseWorkspaces(): void {
  for (const w of open.values()) w.destroy();
  open.clear();
}

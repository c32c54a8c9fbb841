// One open course: its Yjs document kept in IndexedDB and synced with the server, the snapshot the
// engine regrades, and what the grader grid shows. Writes go through CRDT commands only.
import * as Y from 'yjs';
import type { Command, CommandContext, CommandResult } from '../crdt/commands';
import { docToCourseJson, listConflicts, requireEpoch, type Actor } from '../crdt/course-doc';
import { bindCourseDoc } from '../crdt/rebase';
import { CourseUndoManager } from '../crdt/undo';
import type { CourseJson } from '../domain/interchange/course-types';
import { database } from '../persistence/db';
import { YStore } from '../persistence/y-store';
import { RoomConnection } from '../sync/room-connection';
import { buildGridModel, type GridModel } from './grid-model';
import { session } from './session.svelte';
import { syncStatus } from './sync-status.svelte';

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
  json = $state.raw<CourseJson | null>(null);
  loaded = $state(false);
  error = $state<string | null>(null);
  conflicts = $state(0);
  private store: YStore;
  private conn: RoomConnection | null = null;
  private scheduled = false;
  private readonly undoManager: CourseUndoManager;
  private unbind: (() => void) | null = null;
  readonly ctx: CommandContext;
  canUndo = $state(false);
  /** Other people in this course now: which cell each is on (key `item\0user`), and whether they are typing. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- published whole in a $state.raw, never mutated after
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
    this.store = new YStore(database(), this.room, this.doc);
    this.doc.on('update', () => this.schedule());
    void this.store.whenLoaded.then(() => {
      // replays this device's unsynced writes if someone re-based the document meanwhile
      this.unbind = bindCourseDoc(this.doc, this.ctx);
      this.refresh();
      this.loaded = true;
      this.connect();
    });
  }

  private connect(): void {
    this.conn = new RoomConnection({
      serverUrl: session.syncUrl,
      room: this.room,
      doc: this.doc,
      getToken: () => session.token(),
      refreshToken: () => session.refresh(),
      onState: (s, detail) => syncStatus.report(this.room, s, detail),
    });
    if (!navigator.onLine) this.conn.pause();
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
    const aw = this.conn.provider.awareness;
    const me = session.user;
    aw.setLocalStateField('user', { id: me?.id ?? '?', name: me?.displayName ?? 'Someone', color: colorFor(me?.id ?? '?') });
    aw.on('change', () => {
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- built here, then published whole
      const map = new Map<string, { name: string; color: string; editing: boolean }[]>();
      let others = 0;
      for (const [client, st] of aw.getStates()) {
        if (client === aw.clientID) continue;
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

  /** Coalesces bursts of remote updates into one regrade per frame. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.refresh();
    });
  }

  private refresh(): void {
    try {
      requireEpoch(this.doc);
    } catch {
      return; // nothing synced yet
    }
    try {
      const json = docToCourseJson(this.doc);
      this.json = json;
      this.model = buildGridModel(json, Math.floor(Date.now() / 1000));
      this.conflicts = listConflicts(this.doc).length;
      syncStatus.conflicts = this.conflicts;
      syncStatus.conflictsHref = `/course?id=${encodeURIComponent(this.courseId)}#conflicts`;
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
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
    this.unbind?.();
    this.conn?.destroy();
    this.store.destroy();
    syncStatus.forget(this.room);
    this.doc.destroy();
  }
}

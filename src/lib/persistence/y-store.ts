// Keeps one Yjs document in IndexedDB: loads every stored update, appends each new one, and
// compacts the log into a single update once it grows. Never talks to the network.
import * as Y from 'yjs';
import { PaintBatch } from '../sync/after-paint';
import type { MarkbookDB } from './db';

/** Compact once this many update rows pile up (y-indexeddb uses 500 as well). */
const COMPACT_AFTER = 500;

export class YStore {
  readonly whenLoaded: Promise<void>;
  private rows = 0;
  private compacting: Promise<void> | null = null;
  private destroyed = false;
  /** Only one tab per device writes a room (the leader); the others read at start and follow it. */
  private writing = false;
  /**
   * Updates not yet handed to IndexedDB, in order. Written after the frame that shows the change, not in the task
   * that made it: a grade typed is on screen first, and a burst of updates becomes one bulkAdd. IndexedDB commits
   * asynchronously either way; page hide and stopWriting write at once.
   */
  private readonly pending = new PaintBatch<Uint8Array>((batch) => this.write(batch));
  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this || this.destroyed || !this.writing) return;
    this.pending.push(update);
  };

  private readonly onPageHide = (): void => this.pending.flush();

  private write(batch: Uint8Array[]): void {
    this.rows += batch.length;
    void this.db.yupdates.bulkAdd(batch.map((update) => ({ room: this.room, update }))).then(() => {
      if (this.rows >= COMPACT_AFTER && !this.compacting) this.compacting = this.compact().finally(() => (this.compacting = null));
    });
  }

  constructor(
    private readonly db: MarkbookDB,
    readonly room: string,
    readonly doc: Y.Doc,
    { write = true }: { write?: boolean } = {},
  ) {
    this.whenLoaded = this.load().then((sv) => (write ? this.startWriting(sv) : undefined));
  }

  /** Starts storing every update, first storing whatever the document has that the store lacks. */
  async startWriting(knownStored?: Uint8Array): Promise<void> {
    if (this.writing || this.destroyed) return;
    this.writing = true;
    let sv = knownStored;
    if (!sv) {
      // another tab may have written meanwhile: compare with what the store holds now
      const stored = await this.db.yupdates.where('room').equals(this.room).toArray();
      sv = stored.length ? Y.encodeStateVectorFromUpdate(Y.mergeUpdates(stored.map((r) => r.update))) : new Uint8Array([0]);
    }
    const missing = Y.encodeStateAsUpdate(this.doc, sv);
    if (missing.length > 2) {
      await this.db.yupdates.add({ room: this.room, update: missing });
      this.rows++;
    }
  }

  stopWriting(): void {
    this.pending.flush();
    this.writing = false;
  }

  /** Applies every stored update; returns the state vector of what the store holds. */
  private async load(): Promise<Uint8Array> {
    const stored = await this.db.yupdates.where('room').equals(this.room).toArray();
    this.rows = stored.length;
    if (stored.length > 0) {
      Y.transact(this.doc, () => {
        for (const r of stored) Y.applyUpdate(this.doc, r.update, this);
      }, this, false);
    }
    this.doc.on('update', this.onUpdate);
    // a page closing right after a change hands its last updates to IndexedDB before it goes
    globalThis.addEventListener?.('pagehide', this.onPageHide);
    return stored.length ? Y.encodeStateVector(this.doc) : new Uint8Array([0]);
  }

  /** Replaces the room's rows by one merged update, atomically. */
  async compact(): Promise<void> {
    await this.db.transaction('rw', this.db.yupdates, async () => {
      const rows = await this.db.yupdates.where('room').equals(this.room).toArray();
      if (rows.length <= 1) return;
      const merged = Y.mergeUpdates(rows.map((r) => r.update));
      await this.db.yupdates.bulkDelete(rows.map((r) => r.id!));
      await this.db.yupdates.add({ room: this.room, update: merged });
      this.rows = 1;
    });
  }

  /** Number of stored rows (for status and tests). */
  async storedRows(): Promise<number> {
    return this.db.yupdates.where('room').equals(this.room).count();
  }

  destroy(): void {
    this.pending.flush(); // what was typed last is stored, not dropped with the page
    this.destroyed = true;
    this.doc.off('update', this.onUpdate);
    globalThis.removeEventListener?.('pagehide', this.onPageHide);
  }
}

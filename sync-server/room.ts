// One live document on the sync server: its Y.Doc, awareness and connections, loaded lazily from the store.
// Every accepted update is fsynced to the store BEFORE it is applied, relayed or answered; never relays to a
// connection that may not read the room.
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { Store } from './store.ts';

export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;
export const MSG_AUTH = 2;
export const MSG_QUERY_AWARENESS = 3;
export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

/** What a room needs from a connection. */
export interface RoomPeer {
  readonly id: number;
  /** May receive the document and its updates. */
  readonly canRead: boolean;
  send(frame: Uint8Array): void;
  /** Awareness client ids this peer has announced (removed when it leaves). */
  readonly awarenessIds: Set<number>;
}

/** Where an update came from: a peer, another instance (via Redis), or the server itself (seed, projection). */
export type UpdateOrigin = RoomPeer | 'remote' | 'server';

export interface RoomOptions {
  /** Compact the log into one snapshot after this many stored updates (y-leveldb uses 500). */
  compactEvery: number;
  /** Called after an update from a local peer or the server is durable and applied (scale-out publishes it). */
  onLocalUpdate?: (room: string, update: Uint8Array) => void;
  /** Called after any update is applied (projections, metrics). */
  onApplied?: (room: Room, update: Uint8Array, origin: UpdateOrigin) => void;
  onError?: (room: string, error: unknown) => void;
}

interface PendingWrite {
  update: Uint8Array;
  origin: UpdateOrigin;
  resolve(): void;
  reject(e: unknown): void;
}

export function encodeUpdateFrame(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_SYNC);
  encoding.writeVarUint(e, SYNC_UPDATE);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

export class Room {
  readonly name: string;
  readonly doc = new Y.Doc({ gc: true });
  readonly awareness: awarenessProtocol.Awareness;
  readonly peers = new Set<RoomPeer>();
  /** Resolves once stored state is loaded; nothing is answered before. */
  readonly ready: Promise<void>;
  private nextSeq = 0;
  private logLength = 0;
  private queue: PendingWrite[] = [];
  private writing = false;
  private flushWaiters: Array<() => void> = [];
  private destroyed = false;
  /** Updates applied since load (metrics). */
  updatesApplied = 0;
  lastActive: number;

  constructor(
    name: string,
    private readonly store: Store,
    private readonly opts: RoomOptions,
    now: number,
  ) {
    this.name = name;
    this.lastActive = now;
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.awareness.setLocalState(null);
    this.awareness.on('update', ({ added, updated, removed }: Record<string, number[]>, origin: unknown) => {
      const changed = [...added!, ...updated!, ...removed!];
      if (origin && typeof origin === 'object' && 'awarenessIds' in origin) {
        const peer = origin as RoomPeer;
        // [SRV-8] a client announcing itself here is this connection's, also when it was first seen on another
        // one (it reconnected before its old socket's close reached us): that close must not take its presence
        for (const id of [...added!, ...updated!]) {
          if (peer.awarenessIds.has(id)) continue;
          for (const other of this.peers) if (other !== peer) other.awarenessIds.delete(id);
          peer.awarenessIds.add(id);
        }
        for (const id of removed!) peer.awarenessIds.delete(id);
      }
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MSG_AWARENESS);
      encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
      const frame = encoding.toUint8Array(e);
      for (const p of this.peers) if (p.canRead) p.send(frame);
    });
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      const frame = encodeUpdateFrame(update);
      for (const p of this.peers) if (p !== origin && p.canRead) p.send(frame);
    });
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    const stored = await this.store.loadRoom(this.name);
    this.nextSeq = stored.nextSeq;
    this.logLength = stored.updates.length;
    const all = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
    Y.transact(
      this.doc,
      () => {
        for (const u of all) {
          try {
            Y.applyUpdate(this.doc, u, 'server');
          } catch (e) {
            // Validated before storing, so this means disk corruption: keep what loads, report the rest.
            this.opts.onError?.(this.name, e);
          }
        }
      },
      'server',
    );
  }

  /**
   * Stores `update` durably, then applies and relays it. Resolves once all three are done; rejects (and
   * changes nothing) if the store write fails. Concurrent calls are group-committed in one fsynced batch.
   */
  submit(update: Uint8Array, origin: UpdateOrigin): Promise<void> {
    if (this.destroyed) return Promise.reject(new Error(`room ${this.name} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ update, origin, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      await this.ready;
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        const entries = batch.map((w) => ({ seq: this.nextSeq++, update: w.update }));
        try {
          await this.store.appendUpdates(this.name, entries);
        } catch (e) {
          for (const w of batch) w.reject(e);
          continue;
        }
        this.logLength += batch.length;
        for (const w of batch) {
          try {
            Y.applyUpdate(this.doc, w.update, w.origin);
            this.updatesApplied++;
            if (w.origin !== 'remote') this.opts.onLocalUpdate?.(this.name, w.update);
            this.opts.onApplied?.(this, w.update, w.origin);
            w.resolve();
          } catch (e) {
            w.reject(e);
          }
        }
        if (this.logLength >= this.opts.compactEvery) await this.compact();
      }
    } finally {
      this.writing = false;
      for (const w of this.flushWaiters.splice(0)) w();
    }
  }

  /** Resolves once every update submitted so far is stored and applied (or has failed). */
  flushed(): Promise<void> {
    if (this.idle) return this.ready;
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /** Folds the update log into one snapshot (atomic: a crash leaves either the old or the new state). */
  async compact(): Promise<void> {
    const snapshot = Y.encodeStateAsUpdate(this.doc);
    try {
      await this.store.compactRoom(this.name, snapshot, this.nextSeq);
      this.logLength = 0;
    } catch (e) {
      this.opts.onError?.(this.name, e);
    }
  }

  /** True when nothing is queued or being written. */
  get idle(): boolean {
    return !this.writing && this.queue.length === 0;
  }

  removePeer(peer: RoomPeer, now: number): void {
    if (!this.peers.delete(peer)) return;
    this.lastActive = now;
    if (peer.awarenessIds.size > 0)
      awarenessProtocol.removeAwarenessStates(this.awareness, [...peer.awarenessIds], null);
  }

  destroy(): void {
    this.destroyed = true;
    this.awareness.destroy();
    this.doc.destroy();
  }
}

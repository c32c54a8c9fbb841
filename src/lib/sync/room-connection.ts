// One Yjs document kept in step with the sync server over the y-websocket protocol, with our own
// jittered reconnects, token refresh on expiry, and a status others can watch. No DOM rendering here.
import { WebsocketProvider } from 'y-websocket';
import { mergeUpdates, type Doc } from 'yjs';
import { removeAwarenessStates } from 'y-protocols/awareness';
import { PaintBatch } from './after-paint';
import { jitteredDelay } from './backoff';

export type ConnectionState = 'offline' | 'connecting' | 'syncing' | 'synced' | 'denied';

export interface RoomConnectionOptions {
  /** ws:// or wss:// URL of the sync server. */
  serverUrl: string;
  room: string;
  doc: Doc;
  /** Current access token (called before each connection attempt). */
  getToken: () => string | null;
  /** Asked to refresh the token after the server said it expired; resolves false if that failed. */
  refreshToken?: () => Promise<boolean>;
  /** For tests and non-browser hosts. */
  WebSocketPolyfill?: typeof WebSocket;
  random?: () => number;
  onState?: (state: ConnectionState, detail?: string) => void;
  /** The server refused a change this device made (close 4409): the local copy must be dropped and fetched again. */
  onRefused?: (reason: string) => void;
}

/** Close codes our server uses (sync-server): 4401 token missing/expired, 4403 forbidden. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
/** A change needed a capability the writer lacks; the server stored nothing of it. */
export const CLOSE_REFUSED = 4409;

/** How long a reconnect with a renewed token may take before the badge shows it. */
const RENEW_QUIET_MS = 3000;

/**
 * How long another client's presence stays shown after its state was dropped without a goodbye (its socket closed,
 * or ours did): as long as a quiet token renewal may take (RENEW_QUIET_MS), as that is what such a drop usually is.
 */
export const PRESENCE_GRACE_MS = RENEW_QUIET_MS;

/** Other clients' awareness states by client id (this client's own state is never in it). */
export type PeerStates = ReadonlyMap<number, Readonly<Record<string, unknown>>>;

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] };

/** The page's window events where there is a page (browsers); undefined in Node and workers. */
type PageEvents = {
  addEventListener?(type: string, fn: (e: { persisted?: boolean }) => void): void;
  removeEventListener?(type: string, fn: (e: { persisted?: boolean }) => void): void;
};
const page = globalThis as PageEvents;

export class RoomConnection {
  readonly provider: WebsocketProvider;
  state: ConnectionState = 'connecting';
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private paused = false;
  /** Reconnecting after the access token expired on a synced connection (see set()). */
  private renewing = false;
  private renewTimer: ReturnType<typeof setTimeout> | null = null;
  /** The last state and awareness clock seen of each other client that is live in the awareness. */
  private readonly known = new Map<number, { state: Record<string, unknown>; clock: number }>();
  /** Other clients dropped without a goodbye, still shown until they are back or PRESENCE_GRACE_MS pass. */
  private readonly held = new Map<number, { state: Record<string, unknown>; timer: ReturnType<typeof setTimeout> }>();
  private readonly peerListeners = new Set<(peers: PeerStates) => void>();
  private shownPeers: PeerStates = new Map();
  /** Our presence as it was when the page was hidden (restored if it comes back from the back-forward cache). */
  private leftWith: Record<string, unknown> | null = null;
  /**
   * This device's changes on their way to the server: sent after the frame that shows them (one message per frame,
   * merged), so that sending never delays drawing a grade typed. Sent at once when the page is hidden or we close.
   */
  private readonly outbox: PaintBatch<Uint8Array>;
  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== this.provider) this.outbox.push(update); // not what the server just sent us
  };

  constructor(private readonly opts: RoomConnectionOptions) {
    const token = opts.getToken();
    this.provider = new WebsocketProvider(opts.serverUrl, opts.room, opts.doc, {
      connect: false,
      params: token ? { token } : {},
      disableBc: true, // tabs share one IndexedDB copy; the server relays between devices
      ...(opts.WebSocketPolyfill ? { WebSocketPolyfill: opts.WebSocketPolyfill } : {}),
      // We schedule every reconnect ourselves (with jitter), so y-websocket's own fixed backoff never runs.
      shouldReconnect: () => false,
    });
    // y-websocket sends each update from its own document listener; ours batches them and hands them on to it
    const send = this.provider._updateHandler;
    opts.doc.off('update', send);
    this.outbox = new PaintBatch((updates) => send(updates.length === 1 ? updates[0]! : mergeUpdates(updates), null));
    opts.doc.on('update', this.onDocUpdate);
    this.provider.on('status', ({ status }: { status: string }) => {
      if (status === 'connected') {
        this.reannounce();
        this.set('syncing');
      } else if (status === 'connecting') this.set('connecting');
      else if (status === 'disconnected') this.forgetDroppedClocks();
    });
    this.provider.awareness.on('update', this.onAwareness);
    page.addEventListener?.('pagehide', this.onPageHide);
    page.addEventListener?.('pageshow', this.onPageShow);
    this.provider.on('sync', (synced: boolean) => {
      if (synced) {
        this.attempt = 0;
        this.set('synced');
      } else if (this.provider.wsconnected) this.set('syncing');
    });
    this.provider.on('closed', ({ code, reason }: { code: number; reason: string }) => void this.onClosed(code, reason));
    this.connect();
  }

  private set(state: ConnectionState, detail?: string): void {
    this.state = state;
    // The connection really failed: the others' presence goes, as it always did.
    if (state === 'offline' || state === 'denied') this.releaseHeld();
    // Reconnecting with a renewed token is routine (every token lifetime): the badge keeps saying "synced" unless
    // it takes longer than RENEW_QUIET_MS or fails.
    if (this.renewing && (state === 'connecting' || state === 'syncing')) return;
    if (this.renewing) this.endRenewing();
    this.opts.onState?.(state, detail);
  }

  private endRenewing(): void {
    this.renewing = false;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = null;
  }

  private connect(): void {
    if (this.stopped || this.paused) return;
    const token = this.opts.getToken();
    this.provider.params = token ? { token } : {};
    this.set('connecting');
    this.provider.connect();
  }

  private async onClosed(code: number, reason: string): Promise<void> {
    if (this.stopped || this.paused) return;
    if (code === CLOSE_UNAUTHORIZED && this.opts.refreshToken) {
      const wasSynced = this.state === 'synced';
      const ok = await this.opts.refreshToken().catch(() => false);
      if (!ok) return this.set('denied', reason || 'signed out');
      if (!wasSynced) return this.scheduleReconnect();
      // The token expired on a healthy connection: reconnect at once (expiries of different devices are already
      // spread over time, so no jitter is needed), quietly.
      this.renewing = true;
      this.renewTimer = setTimeout(() => {
        this.endRenewing();
        this.opts.onState?.(this.state);
      }, RENEW_QUIET_MS);
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      return this.connect();
    }
    if (code === CLOSE_REFUSED && this.opts.onRefused) {
      this.set('denied', reason || 'a change was refused');
      return this.opts.onRefused(reason || 'a change was refused');
    }
    if (code >= 4400 && code < 4500) return this.set('denied', reason || `refused (${code})`);
    this.set('offline', reason || undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.paused || this.timer) return;
    const delay = jitteredDelay(this.attempt++, this.opts.random ?? Math.random);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  /** The device went offline: close the socket and stop retrying until resume(). Local edits keep being stored. */
  pause(): void {
    this.endRenewing();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.paused = true;
    this.provider.disconnect();
    this.set('offline', 'this device is offline');
  }

  /** The device is back online: reconnect after a short jitter so a classroom does not arrive at once. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.attempt = 0;
    this.scheduleReconnect();
  }

  /** Try now (e.g. the browser says it is back online). */
  retryNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.provider.wsconnected && !this.provider.wsconnecting) this.connect();
  }

  /** Other clients' presence as it should be shown now (live states, and those held across a drop). */
  peers(): PeerStates {
    return this.shownPeers;
  }

  /** Calls `listener` whenever peers() changes; returns the unsubscribe. */
  onPeers(listener: (peers: PeerStates) => void): () => void {
    this.peerListeners.add(listener);
    return () => this.peerListeners.delete(listener);
  }

  // ---- Presence across dropped sockets ----
  // y-websocket drops every remote awareness state when our socket closes, and the server drops ours (telling the
  // others) when it closes our socket: both happen at every token renewal. A state removed *with* a newer clock is a
  // goodbye (y-protocols bumps a client's clock when it removes its own state) and goes at once; one removed at the
  // same clock was dropped with a socket, so it stays shown for PRESENCE_GRACE_MS unless it comes back sooner.

  private readonly onAwareness = ({ added, updated, removed }: AwarenessChange): void => {
    const aw = this.provider.awareness;
    for (const id of [...added, ...updated]) {
      if (id === aw.clientID) continue;
      const state = aw.getStates().get(id);
      if (!state) continue;
      this.known.set(id, { state, clock: aw.meta.get(id)?.clock ?? 0 });
      this.unhold(id);
    }
    for (const id of removed) {
      if (id === aw.clientID) continue;
      const last = this.known.get(id);
      this.known.delete(id);
      const clock = aw.meta.get(id)?.clock;
      const goodbye = clock !== undefined && last !== undefined && clock > last.clock;
      if (last && !goodbye && !this.stopped) this.hold(id, last.state);
      else this.unhold(id);
    }
    this.emitPeers();
  };

  /**
   * This person leaves: tell the others at once, while the socket is still open, by removing our state at a newer
   * clock (a goodbye, see onAwareness). Without it a closed tab would stay shown for PRESENCE_GRACE_MS.
   */
  leave(): void {
    const aw = this.provider.awareness;
    const mine = aw.getLocalState();
    if (mine === null) return;
    this.leftWith = mine;
    removeAwarenessStates(aw, [aw.clientID], 'leave');
  }

  private readonly onPageHide = (): void => {
    this.outbox.flush();
    this.leave();
  };

  /** The page came back from the back-forward cache: show this person again. */
  private readonly onPageShow = (e: { persisted?: boolean }): void => {
    if (!e.persisted || !this.leftWith || this.stopped) return;
    this.provider.awareness.setLocalState(this.leftWith);
    this.leftWith = null;
  };

  private hold(id: number, state: Record<string, unknown>): void {
    this.unhold(id);
    const timer = setTimeout(() => {
      this.held.delete(id);
      this.emitPeers();
    }, PRESENCE_GRACE_MS);
    this.held.set(id, { state, timer });
  }

  private unhold(id: number): void {
    const h = this.held.get(id);
    if (!h) return;
    clearTimeout(h.timer);
    this.held.delete(id);
  }

  private releaseHeld(): void {
    if (this.held.size === 0) return;
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
    this.emitPeers();
  }

  /**
   * Our socket closed and y-websocket removed the others' states, keeping their clocks: the server will send the
   * same states at the same clocks when we reconnect, which y-protocols would ignore as already seen. Forget them.
   */
  private forgetDroppedClocks(): void {
    const aw = this.provider.awareness;
    for (const id of [...aw.meta.keys()]) if (id !== aw.clientID && !aw.getStates().has(id)) aw.meta.delete(id);
  }

  /**
   * A (re)opened socket: announce our state at a newer clock. The server dropped our state when our last socket
   * closed but kept its clock, so the same clock again would be ignored there and the others would not see us.
   */
  private reannounce(): void {
    const aw = this.provider.awareness;
    const mine = aw.getLocalState();
    if (mine !== null) aw.setLocalState(mine);
  }

  private emitPeers(): void {
    const aw = this.provider.awareness;
    const next = new Map<number, Readonly<Record<string, unknown>>>();
    for (const [id, h] of this.held) next.set(id, h.state);
    for (const [id, st] of aw.getStates()) if (id !== aw.clientID) next.set(id, st);
    if (samePeers(this.shownPeers, next)) return;
    this.shownPeers = next;
    for (const l of this.peerListeners) l(next);
  }

  destroy(): void {
    this.stopped = true;
    this.endRenewing();
    if (this.timer) clearTimeout(this.timer);
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
    page.removeEventListener?.('pagehide', this.onPageHide);
    page.removeEventListener?.('pageshow', this.onPageShow);
    this.outbox.flush();
    this.opts.doc.off('update', this.onDocUpdate);
    this.leave();
    this.provider.awareness.off('update', this.onAwareness);
    this.provider.destroy();
    this.known.clear();
    // nobody is shown through a closed connection
    if (this.shownPeers.size > 0) {
      this.shownPeers = new Map();
      for (const l of this.peerListeners) l(this.shownPeers);
    }
    this.peerListeners.clear();
  }
}

/** Same clients with equal states (states are small JSON objects). */
function samePeers(a: PeerStates, b: PeerStates): boolean {
  if (a.size !== b.size) return false;
  for (const [id, st] of a) {
    const other = b.get(id);
    if (other === undefined) return false;
    if (other !== st && JSON.stringify(other) !== JSON.stringify(st)) return false;
  }
  return true;
}

// One Yjs document kept in step with the sync server over the y-websocket protocol, with our own
// jittered reconnects, token refresh on expiry, and a status others can watch. No DOM rendering here.
import { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { jitteredDelay } from './backoff';

export type ConnectionState = 'offline' | 'connecting' | 'syncing' | 'synced' | 'denied';

export interface RoomConnectionOptions {
  /** ws:// or wss:// URL of the sync server. */
  serverUrl: string;
  room: string;
  doc: Y.Doc;
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
    this.provider.on('status', ({ status }: { status: string }) => {
      if (status === 'connected') this.set('syncing');
      else if (status === 'connecting') this.set('connecting');
    });
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

  destroy(): void {
    this.stopped = true;
    this.endRenewing();
    if (this.timer) clearTimeout(this.timer);
    this.provider.destroy();
  }
}

// Keeps the tabs of one device in step for one room: exactly one tab (the holder of a Web Lock) talks to
// the server and writes the device store; every tab exchanges Yjs updates with the others over a
// BroadcastChannel. When the leading tab closes, another takes over. No rendering here.
import * as Y from 'yjs';

type Msg =
  | { t: 'update'; u: Uint8Array }
  | { t: 'hello'; sv: Uint8Array }
  | { t: 'state'; u: Uint8Array }
  | { t: 'status'; s: string; d?: string };

export interface TabLinkOptions {
  room: string;
  doc: Y.Doc;
  /** Called once this tab leads (it should connect to the server and persist); the result is called when it stops. */
  onLead: () => () => void;
  /** Status of the leading tab's connection, for following tabs' badges. */
  onLeaderStatus?: (state: string, detail?: string) => void;
}

/** Origin of updates that arrived from another tab. */
export const FROM_TAB = Symbol('from-tab');

export class TabLink {
  private readonly bc: BroadcastChannel | null;
  private stopLeading: (() => void) | null = null;
  private releaseLock: (() => void) | null = null;
  private closed = false;
  leader = false;

  constructor(private readonly opts: TabLinkOptions) {
    const name = `markbook:room:${opts.room}`;
    this.bc = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(name);
    if (this.bc) this.bc.onmessage = (e: MessageEvent<Msg>) => this.onMessage(e.data);
    opts.doc.on('update', this.onUpdate);
    this.post({ t: 'hello', sv: Y.encodeStateVector(opts.doc) });
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks) {
      this.lead(); // no Web Locks: every tab talks to the server itself (still correct, just more connections)
      return;
    }
    void locks.request(name, { mode: 'exclusive' }, () => {
      if (this.closed) return undefined;
      this.lead();
      // hold the lock until this tab closes or leaves the room
      return new Promise<void>((resolve) => (this.releaseLock = resolve));
    });
  }

  private lead(): void {
    this.leader = true;
    this.stopLeading = this.opts.onLead();
  }

  /** The leading tab tells the others how its connection is doing. */
  announce(state: string, detail?: string): void {
    this.post({ t: 'status', s: state, ...(detail ? { d: detail } : {}) });
  }

  private readonly onUpdate = (u: Uint8Array, origin: unknown): void => {
    if (origin !== FROM_TAB) this.post({ t: 'update', u });
  };

  private onMessage(m: Msg): void {
    const doc = this.opts.doc;
    switch (m.t) {
      case 'update':
      case 'state':
        Y.applyUpdate(doc, m.u, FROM_TAB);
        break;
      case 'hello': {
        // a tab joined: send what it lacks (every tab answers; Yjs ignores what it already has)
        const diff = Y.encodeStateAsUpdate(doc, m.sv);
        if (diff.length > 2) this.post({ t: 'state', u: diff });
        break;
      }
      case 'status':
        if (!this.leader) this.opts.onLeaderStatus?.(m.s, m.d);
        break;
    }
  }

  private post(m: Msg): void {
    try {
      this.bc?.postMessage(m);
    } catch {
      /* channel closed */
    }
  }

  destroy(): void {
    this.closed = true;
    this.opts.doc.off('update', this.onUpdate);
    this.stopLeading?.();
    this.releaseLock?.();
    this.bc?.close();
  }
}

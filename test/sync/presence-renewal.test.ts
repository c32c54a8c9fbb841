// [AUTHZ-1] Presence across socket renewals: sockets close with 4401 at every access-token expiry and reconnect quietly;
// another grader's presence must not blink meanwhile, yet a grader who leaves must disappear. Real server, real ws.
import { afterEach, describe, expect, it } from 'vitest';
import { type PeerStates } from '../../src/lib/sync/room-connection.ts';
import { appConnection, removeDir, startTestServer, until, type TestServer } from './server-harness.ts';

/** Access tokens live 2 s here: long enough to connect and sync on a busy machine, short enough to wait out. */
const TTL_SEC = 2;
const ROOM = 'course/c1';

let server: TestServer | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0)) f();
  await server?.close();
  if (server) removeDir(server.dataDir);
  server = null;
});

interface Cell {
  item: string;
  user: string;
}

/** A grader's device as the workspace runs it: refreshes its token on 4401, announces who it is and which cell it is on. */
async function grader(s: TestServer, username: string, cell: Cell) {
  const { doc, conn, closes, refreshes } = await appConnection(s, username, ROOM);
  const aw = conn.provider.awareness;
  aw.setLocalStateField('user', { id: username, name: username.toUpperCase() });
  aw.setLocalStateField('cell', cell);
  /** Every presence the workspace was handed, in order: who was shown, and on which cell. */
  const shown: Map<string, Cell | null>[] = [];
  const toView = (peers: PeerStates): Map<string, Cell | null> => {
    const m = new Map<string, Cell | null>();
    for (const st of peers.values()) {
      const user = st['user'] as { id: string } | undefined;
      if (user) m.set(user.id, (st['cell'] as Cell | undefined) ?? null);
    }
    return m;
  };
  const off = conn.onPeers((peers) => shown.push(toView(peers)));
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    off();
    conn.destroy();
    doc.destroy();
  };
  cleanups.push(destroy);
  return {
    conn,
    closes,
    shown,
    destroy,
    get refreshes() {
      return refreshes();
    },
    /** Who this grader's presence shows now (asked of the connection, not of the recorded emissions). */
    now: () => toView(conn.peers()),
    /** Who is in this grader's awareness as the server last relayed it (without what the connection holds over a drop). */
    live: () => {
      const states = new Map(aw.getStates());
      states.delete(aw.clientID);
      return toView(states as PeerStates);
    },
    moveTo: (c: Cell) => aw.setLocalStateField('cell', c),
  };
}

describe('presence across socket renewals', () => {
  it('[AUTHZ-1] a grader never sees another vanish while either socket is renewed; one who leaves is gone', async () => {
    server = await startTestServer({ accessTtlSec: TTL_SEC });
    const a = await grader(server, 't1', { item: 'i0', user: 's1' });
    // b signs in a second later (token expiry has one-second resolution), so each socket is renewed while the
    // other stays open and the server keeps the room and what it knows of each grader's presence
    await new Promise((r) => setTimeout(r, 1000));
    const b = await grader(server, 'nt', { item: 'i1', user: 's2' });
    await until(() => a.now().has('nt') && b.now().has('t1'), 'each grader sees the other');
    const firstSeen = a.shown.findIndex((v) => v.has('nt'));
    expect(firstSeen).toBeGreaterThanOrEqual(0);
    // both sockets expire and are renewed, twice each
    await until(
      () => a.refreshes >= 2 && b.refreshes >= 2 && a.conn.state === 'synced' && b.conn.state === 'synced',
      'two renewals of each socket',
      30_000,
    );
    expect(a.closes.filter((c) => c === 4401).length).toBeGreaterThanOrEqual(2);
    expect(b.closes.filter((c) => c === 4401).length).toBeGreaterThanOrEqual(2);
    // the presence shown is live after the renewals, not a copy kept from before them: b's state is back in a's
    // awareness as the server relays it (not only held), and when b moves, a sees it
    await until(() => a.live().has('nt'), "b's state live again at a after the renewals");
    b.moveTo({ item: 'i2', user: 's1' });
    await until(() => a.now().get('nt')?.item === 'i2', "a sees b's move after the renewals");
    // and at no point since a first saw b was b missing from what a was shown
    const gaps = a.shown.slice(firstSeen).filter((v) => !v.has('nt')).length;
    expect(gaps).toBe(0);
    expect(a.shown.slice(firstSeen).map((v) => v.get('nt')?.item)).toContain('i1');
    // b leaves (the workspace closes its connection): a sees b gone
    b.destroy();
    await until(() => !a.live().has('nt'), "b's state leaves a's awareness");
    // a goodbye is not held over like a dropped socket: b is gone from what a shows at the same moment
    expect(a.now().has('nt')).toBe(false);
    expect(a.shown.at(-1)!.has('nt')).toBe(false);
  });

  it('[AUTHZ-1] a grader whose socket is dropped without a goodbye still disappears (once the quiet window has passed), and is back when reconnected', async () => {
    server = await startTestServer({ accessTtlSec: 60 });
    const a = await grader(server, 't1', { item: 'i0', user: 's1' });
    const b = await grader(server, 'nt', { item: 'i1', user: 's2' });
    await until(() => a.now().has('nt'), 'a sees b');
    // b's device goes offline: its socket closes and nothing more is heard from it
    b.conn.pause();
    await until(() => !a.now().has('nt'), 'a sees b gone', 15_000);
    expect(a.shown.at(-1)!.has('nt')).toBe(false);
    // b comes back online: its presence is announced again and a shows it (the server, which dropped b's state but
    // kept its clock, must not ignore the announcement as already seen)
    b.conn.resume();
    await until(() => a.now().get('nt')?.item === 'i1', 'a sees b again');
    expect(a.live().has('nt')).toBe(true);
  });

  it('[AUTHZ-1] when a grader\'s own connection really fails, the others\' presence goes with it', async () => {
    server = await startTestServer({ accessTtlSec: 60 });
    const a = await grader(server, 't1', { item: 'i0', user: 's1' });
    const b = await grader(server, 'nt', { item: 'i1', user: 's2' });
    await until(() => a.now().has('nt'), 'a sees b');
    a.conn.pause();
    expect(a.conn.state).toBe('offline');
    expect(a.now().size).toBe(0);
    expect(a.shown.at(-1)!.size).toBe(0);
    // back online: b is shown again once a's socket has synced
    a.conn.resume();
    await until(() => a.now().get('nt')?.item === 'i1', 'a sees b again after reconnecting');
    expect(b.conn.state).toBe('synced');
  });
});

// [AUTHZ-1] An open socket does not outlive its access token: the server closes it with 4401 at the token's expiry,
// and a client with a refresh path (RoomConnection) refreshes and reconnects quietly and keeps syncing. Real server,
// real ws.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc, docToCourseJson } from '../../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import { peekClaims } from '../../sync-server/auth.ts';
import {
  appConnection,
  demoSeed,
  login,
  rawClient,
  removeDir,
  startTestServer,
  until,
  type TestServer,
} from './server-harness.ts';

/** Access tokens live 2 s here: long enough to connect and sync on a busy machine, short enough to wait out. */
const TTL_SEC = 2;

let server: TestServer | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0)) f();
  await server?.close();
  if (server) removeDir(server.dataDir);
  server = null;
});

async function courseServer(): Promise<TestServer> {
  const course = makeCourse(2, 2);
  const base = new Y.Doc();
  courseJsonToDoc(
    {
      ...course,
      users: [
        { id: 's1', name: 'S1' },
        { id: 's2', name: 'S2' },
      ],
      grades: course.grades.map((g) => ({ ...g, user: g.user === 'u0' ? 's1' : 's2' })),
    },
    base,
    { userId: 'seed', deviceId: 'seed' },
    { at: 1000 },
  );
  return startTestServer(
    { accessTtlSec: TTL_SEC },
    await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(base) }]),
  );
}

/** A device as the app runs it: its own tokens, refreshed when the server says the access token expired. */
async function device(s: TestServer, username: string, deviceId: string) {
  const states: string[] = [];
  const { doc, conn, closes, refreshes } = await appConnection(s, username, 'course/c1', { onState: (st) => states.push(st) });
  cleanups.push(() => {
    conn.destroy();
    doc.destroy();
  });
  const ctx = { actor: { userId: username, deviceId }, clock: { now: () => 2000 } };
  return {
    doc,
    conn,
    closes,
    states,
    get refreshes() {
      return refreshes();
    },
    grade: (user: string, raw: number) => {
      const r = applyCommand(doc, { type: 'setGrade', item: 'i0', user, raw }, ctx);
      expect(r.ok).toBe(true);
    },
  };
}

const rawOf = (doc: Y.Doc, user: string) =>
  docToCourseJson(doc).grades.find((g) => g.item === 'i0' && g.user === user)?.raw;

describe('sockets and token expiry', () => {
  it('[AUTHZ-1] an open socket is closed with 4401 when its access token expires', async () => {
    server = await courseServer();
    const t1 = await login(server.http, 't1');
    const exp = peekClaims(t1.accessToken)!.exp;
    const sock = rawClient(server.url, 'course/c1', t1.accessToken);
    await sock.opened;
    // accepted first: the server's sync step 1 arrives over the open socket
    await until(() => sock.frames.length > 0, 'the server greets the socket');
    const closed = await sock.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/expired/);
    // the close came from the expiry, not from a refusal: the token is now past its lifetime
    expect(Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(exp);
    // a new socket with the same (expired) token is refused
    const again = rawClient(server.url, 'course/c1', t1.accessToken);
    expect((await again.closed).code).toBe(4401);
  });

  it('[AUTHZ-1] a client with a refresh path reconnects after each expiry and keeps syncing both ways', async () => {
    server = await courseServer();
    const a = await device(server, 't1', 'tablet-a');
    const b = await device(server, 't1', 'laptop-b');
    await until(() => a.conn.state === 'synced' && b.conn.state === 'synced', 'both devices synced');
    for (let round = 1; round <= 2; round++) {
      // wait for the next expiry of a's token: closed with 4401, refreshed, synced again
      const seen = a.refreshes;
      await until(() => a.refreshes > seen && a.conn.state === 'synced', `a reconnects (round ${round})`, 15_000);
      expect(a.closes.filter((c) => c === 4401).length).toBeGreaterThanOrEqual(round);
      // writes still flow both ways over the new sockets
      a.grade('s1', 10 + round);
      await until(() => rawOf(b.doc, 's1') === 10 + round, `b receives a's grade (round ${round})`, 15_000);
      b.grade('s2', 20 + round);
      await until(() => rawOf(a.doc, 's2') === 20 + round, `a receives b's grade (round ${round})`, 15_000);
    }
    // only expiry closed the sockets: nothing was refused or denied on the way
    expect(a.closes.every((c) => c === 4401)).toBe(true);
    expect(a.conn.state).not.toBe('denied');
    // and the person saw none of it: once synced, the sync badge never left "synced"
    expect(new Set(a.states.slice(a.states.indexOf('synced')))).toEqual(new Set(['synced']));
  });
});

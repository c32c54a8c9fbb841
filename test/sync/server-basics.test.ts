// The sync server's skeleton against real sockets: health, seed-once, convergence, persistence across restarts,
// compaction, eviction and graceful shutdown (sync-server/SPEC.md SRV-*).
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  demoSeed,
  login,
  rawClient,
  removeDir,
  startTestServer,
  tempDir,
  until,
  yClient,
  type TestServer,
  type YClient,
} from './server-harness.ts';
import { Store } from '../../sync-server/store.ts';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function track(c: YClient): YClient {
  cleanup.push(() => c.destroy());
  return c;
}

async function server(
  over: Parameters<typeof startTestServer>[0] = {},
  seed?: Parameters<typeof startTestServer>[1],
): Promise<TestServer> {
  const s = await startTestServer(over, seed);
  let closed = false;
  cleanup.push(async () => {
    if (!closed) await s.close();
    closed = true;
    if (!over.dataDir) removeDir(s.dataDir);
  });
  return {
    ...s,
    close: async () => {
      if (!closed) {
        closed = true;
        await s.close();
      }
    },
  };
}

describe('sync server skeleton', () => {
  it('[SRV-1] /healthz reports ok and unknown rooms close with 4404', async () => {
    const s = await server();
    const r = await fetch(`${s.http}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true, redis: 'off' });
    const { accessToken } = await login(s.http, 't1');
    const c = rawClient(s.url, 'nonsense/room/here/x', accessToken);
    expect((await c.closed).code).toBe(4404);
    expect(c.frames).toHaveLength(0);
  });

  it('[SRV-2] two editors converge through the server', async () => {
    const s = await server();
    const { accessToken } = await login(s.http, 't1');
    const a = track(yClient(s.url, 'course/c1', accessToken));
    const b = track(yClient(s.url, 'course/c1', accessToken));
    await Promise.all([a.synced, b.synced]);
    a.doc.getMap('grades').set('s1|q1', 7);
    b.doc.getMap('grades').set('s2|q1', 9);
    await until(
      () => a.doc.getMap('grades').size === 2 && b.doc.getMap('grades').size === 2,
      'both edits on both sides',
    );
    expect(a.doc.getMap('grades').toJSON()).toEqual(b.doc.getMap('grades').toJSON());
  });

  it('[SRV-3] what a client received survives a restart, and the seed is not applied twice [SRV-6]', async () => {
    const dataDir = tempDir();
    cleanup.push(() => removeDir(dataDir));
    const seedDoc = new Y.Doc();
    seedDoc.getMap('settings').set('name', 'from seed');
    const seed = await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(seedDoc) }]);
    const s1 = await server({ dataDir }, seed);
    const { accessToken } = await login(s1.http, 't1');
    const a = track(yClient(s1.url, 'course/c1', accessToken));
    const b = track(yClient(s1.url, 'course/c1', accessToken));
    await Promise.all([a.synced, b.synced]);
    expect(a.doc.getMap('settings').get('name')).toBe('from seed');
    for (let i = 0; i < 50; i++) a.doc.getMap('grades').set(`s1|q${i}`, i);
    await until(() => b.doc.getMap('grades').size === 50, 'relay to b');
    a.destroy();
    b.destroy();
    await s1.close();

    // Second start with a different seed: the stored data wins, the new seed is ignored.
    const other = await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(new Y.Doc()) }]);
    other.accounts = other.accounts.filter((x) => x.userId !== 't1');
    const s2 = await server({ dataDir }, other);
    const again = await login(s2.http, 't1');
    const c = track(yClient(s2.url, 'course/c1', again.accessToken));
    await c.synced;
    expect(c.doc.getMap('grades').size).toBe(50);
    expect(c.doc.getMap('settings').get('name')).toBe('from seed');
  });

  it('[SRV-6] a bad seed is refused whole, naming the path', async () => {
    const dataDir = tempDir();
    cleanup.push(() => removeDir(dataDir));
    const seed = await demoSeed();
    seed.courseRoles.push({ userId: 'ghost', courseId: 'c1', role: 'student' });
    await expect(server({ dataDir }, seed)).rejects.toThrow(/\$\.courseRoles\[6\]\.userId/);
    // Nothing was written: a later good seed is still applied.
    const s = await server({ dataDir }, await demoSeed());
    expect((await login(s.http, 's1')).user.id).toBe('s1');
  });

  it('[SRV-4] the log is compacted into a snapshot and [SRV-5] idle rooms are evicted and reload', async () => {
    const s = await server({ compactEvery: 20, idleEvictMs: 100 });
    const { accessToken } = await login(s.http, 't1');
    const a = track(yClient(s.url, 'course/c1', accessToken));
    await a.synced;
    for (let i = 0; i < 45; i++) a.doc.getMap('grades').set(`k${i}`, i);
    const metric = async (name: string) => {
      const text = await (await fetch(`${s.http}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    };
    await until(async () => (await metric('markbook_updates_total')) >= 45, 'all 45 updates stored');
    a.destroy();
    await until(async () => (await metric('markbook_documents_loaded')) === 0, 'room evicted');
    expect(await metric('markbook_documents_evicted_total')).toBe(1);
    const b = track(yClient(s.url, 'course/c1', accessToken));
    await b.synced;
    expect(b.doc.getMap('grades').size).toBe(45);
    await s.close();
    // After compaction + eviction the log holds nothing older than the snapshot.
    const store = await Store.open(s.dataDir);
    const stored = await store.loadRoom('course/c1');
    await store.close();
    expect(stored.snapshot).not.toBeNull();
    expect(stored.updates.length).toBeLessThan(20);
    const check = new Y.Doc();
    for (const u of [stored.snapshot!, ...stored.updates]) Y.applyUpdate(check, u);
    expect(check.getMap('grades').size).toBe(45);
  });

  it('[SRV-7] shutdown closes sockets with 1001 and refuses new work', async () => {
    const s = await server();
    const { accessToken } = await login(s.http, 't1');
    const c = rawClient(s.url, 'course/c1', accessToken);
    await c.opened;
    await until(() => c.frames.length > 0, 'step 1 from the server');
    await s.close();
    expect((await c.closed).code).toBe(1001);
    await expect(fetch(`${s.http}/healthz`)).rejects.toThrow();
  });

  it('[OPS-2] rate, connection and size limits close only the offending socket, with retry/terminal codes', async () => {
    const s = await server({
      rateLimit: { perSecond: 1, burst: 5 },
      maxConnectionsPerUser: 2,
      maxMessageBytes: 1024,
    });
    const { accessToken } = await login(s.http, 't1');
    const keep = track(yClient(s.url, 'course/c1', accessToken));
    await keep.synced;
    const flood = rawClient(s.url, 'course/c1', accessToken);
    await flood.opened;
    for (let i = 0; i < 20; i++) flood.ws.send(new Uint8Array([3]));
    expect((await flood.closed).code).toBe(4529);
    const a = rawClient(s.url, 'course/c1', accessToken);
    await until(() => a.frames.length > 0, 'second socket admitted');
    const b = rawClient(s.url, 'course/c1', accessToken);
    expect((await b.closed).code).toBe(4429);
    a.ws.close();
    const big = rawClient(s.url, 'course/c1', (await login(s.http, 'admin')).accessToken);
    await big.opened;
    big.ws.send(new Uint8Array(2048));
    expect((await big.closed).code).toBe(4413);
    keep.doc.getMap('grades').set('still', 'fine');
    const check = track(yClient(s.url, 'site', (await login(s.http, 'admin')).accessToken));
    await check.synced;
    expect(keep.provider.wsconnected).toBe(true);
  });

  it('[OPS-3] /metrics reports connections, documents, update rate and store size', async () => {
    const s = await server();
    const { accessToken } = await login(s.http, 't1');
    const a = track(yClient(s.url, 'course/c1', accessToken));
    await a.synced;
    for (let i = 0; i < 10; i++) a.doc.getMap('grades').set(`k${i}`, i);
    const read = async () => {
      const text = await (await fetch(`${s.http}/metrics`)).text();
      const v = (n: string) => Number(new RegExp(`^${n} (\\S+)$`, 'm').exec(text)?.[1]);
      return {
        conns: v('markbook_connections'),
        docs: v('markbook_documents_loaded'),
        updates: v('markbook_updates_total'),
        store: v('markbook_store_bytes'),
        rate: v('markbook_update_rate'),
      };
    };
    await until(async () => (await read()).updates === 10, 'ten updates counted');
    const m = await read();
    expect(m).toMatchObject({ conns: 1, docs: 1, updates: 10 });
    expect(m.store).toBeGreaterThan(0);
    expect(m.rate).toBeGreaterThanOrEqual(0);
  });

  it('[OPS-6] cohort processing runs on demand for site admins only', async () => {
    const s = await server({ cohortJobIntervalMs: 0 });
    const admin = await login(s.http, 'admin');
    const teacher = await login(s.http, 't1');
    const run = (token: string) =>
      fetch(`${s.http}/admin/cohorts/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: '{}',
      });
    expect((await run(teacher.accessToken)).status).toBe(403);
    const r = await run(admin.accessToken);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ changes: [], broken: [] });
  });
});

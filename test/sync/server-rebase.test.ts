// [SRV-REBASE] The server re-bases a course document whose change log passed the threshold: every client
// converges on the new epoch with the same grades, the folded log is archived, and the history before the
// re-base can still be rebuilt from that archive. Real server on 127.0.0.1, real y-websocket clients.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc, currentEpoch, docToCourseJson } from '../../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import { bindCourseDoc } from '../../src/lib/crdt/rebase.ts';
import { courseJsonAt, type HistoryArchive } from '../../src/lib/crdt/history.ts';
import { Store } from '../../sync-server/store.ts';
import { demoSeed, login, removeDir, startTestServer, yClient, type TestServer } from './server-harness.ts';

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  if (server) removeDir(server.dataDir);
  server = null;
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('server re-base', () => {
  it('[SRV-REBASE] folds a long log into a new epoch that every client follows, keeping grades and an archive', async () => {
    const course = makeCourse(3, 2);
    const base = new Y.Doc();
    courseJsonToDoc({ ...course, users: [{ id: 's1', name: 'S1' }, { id: 's2', name: 'S2' }], grades: course.grades.map((g) => ({ ...g, user: g.user === 'u0' ? 's1' : 's2' })) }, base, { userId: 'seed', deviceId: 'seed' }, { at: 1000 });
    server = await startTestServer({ rebaseAfterEntries: 20 }, await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(base) }]));
    const t1 = await login(server.http, 't1');
    const a = yClient(server.url, 'course/c1', t1.accessToken);
    const b = yClient(server.url, 'course/c1', t1.accessToken);
    await Promise.all([a.synced, b.synced]);
    const firstEpoch = currentEpoch(a.doc)!.id;
    const ctx = { actor: { userId: 't1', deviceId: 'tablet-a' }, clock: { now: () => 2000 } };
    // as the app does: writes that land in an epoch the server folded meanwhile are replayed into the new one
    const unbind = bindCourseDoc(a.doc, ctx);
    for (let k = 0; k < 30; k++) {
      const r = applyCommand(a.doc, { type: 'setGrade', item: 'i0', user: 's1', raw: k }, ctx);
      expect(r.ok).toBe(true);
    }
    const midTime = 2000;
    await until(() => currentEpoch(b.doc)?.id !== firstEpoch && currentEpoch(a.doc)?.id !== firstEpoch);
    await until(() => JSON.stringify(docToCourseJson(a.doc)) === JSON.stringify(docToCourseJson(b.doc)));
    expect(docToCourseJson(b.doc).grades.find((g) => g.item === 'i0' && g.user === 's1')?.raw).toBe(29);
    unbind();
    a.destroy();
    b.destroy();
    await server.close();
    const store = await Store.open(server.dataDir);
    const key = `archive/course/c1/${firstEpoch}`;
    const archive = JSON.parse((await store.getMeta(key))!) as HistoryArchive;
    await store.close();
    expect(archive.entries.length).toBeGreaterThanOrEqual(20);
    // the archive rebuilds the course as it was before the last writes
    const live = new Y.Doc();
    const again = await startTestServer({ dataDir: server.dataDir });
    server = again;
    const t1b = await login(again.http, 't1');
    const c = yClient(again.url, 'course/c1', t1b.accessToken);
    await c.synced;
    Y.applyUpdate(live, Y.encodeStateAsUpdate(c.doc));
    c.destroy();
    // the app reads the archives over HTTP (course staff only)
    const get = async (token: string) => fetch(`${again.http}/courses/c1/archives`, { headers: { authorization: `Bearer ${token}` } });
    const staff = await get(t1b.accessToken);
    expect(staff.status).toBe(200);
    const served = ((await staff.json()) as { archives: HistoryArchive[] }).archives;
    expect(served.map((a) => a.epoch)).toContain(firstEpoch);
    expect((await get((await login(again.http, 's1')).accessToken)).status).toBe(403);
    expect((await fetch(`${again.http}/courses/c1/archives`)).status).toBe(401);
    expect(courseJsonAt(live, midTime - 1, served).grades.find((g) => g.item === 'i0' && g.user === 's1')?.raw).toBe(course.grades.find((g) => g.item === 'i0' && g.user === 'u0')?.raw);
    expect(courseJsonAt(live, midTime - 1, [archive]).grades.find((g) => g.item === 'i0' && g.user === 's1')?.raw).toBe(course.grades.find((g) => g.item === 'i0' && g.user === 'u0')?.raw);
  });
});

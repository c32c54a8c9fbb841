// [SRV-REBASE] A device that wrote offline into an epoch the server folded meanwhile comes back: the server takes its
// old-epoch update without refusing it (an editing teacher, not only a manager), and its writes are replayed into
// the new epoch so that every device ends with the same grades. Real server on 127.0.0.1, real y-websocket clients.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc, currentEpoch, docToCourseJson } from '../../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import { bindCourseDoc } from '../../src/lib/crdt/rebase.ts';
import { demoSeed, login, removeDir, startTestServer, until, yClient, type TestServer, type YClient } from './server-harness.ts';

let server: TestServer | null = null;
const open: YClient[] = [];
const unbinds: (() => void)[] = [];
afterEach(async () => {
  for (const u of unbinds.splice(0)) u();
  for (const c of open.splice(0)) c.destroy();
  await server?.close();
  if (server) removeDir(server.dataDir);
  server = null;
});

const raw = (doc: Y.Doc, item: string, user: string) =>
  docToCourseJson(doc).grades.find((g) => g.item === item && g.user === user)?.raw;

describe('server re-base and a device that was offline', () => {
  it('[SRV-REBASE] an editing teacher\'s offline grades in the folded epoch reach the new epoch on every device', async () => {
    const course = makeCourse(3, 2);
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
    server = await startTestServer(
      { rebaseAfterEntries: 20 },
      await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(base) }]),
    );
    const t1 = await login(server.http, 't1'); // editing teacher of c1, on two devices
    const tablet = { actor: { userId: 't1', deviceId: 'tablet' }, clock: { now: () => 2000 } };
    const laptop = { actor: { userId: 't1', deviceId: 'laptop' }, clock: { now: () => 2001 } };

    // the laptop syncs once, then goes offline and grades two cells the tablet leaves alone
    const first = yClient(server.url, 'course/c1', t1.accessToken);
    open.push(first);
    await first.synced;
    const laptopDoc = new Y.Doc();
    Y.applyUpdate(laptopDoc, Y.encodeStateAsUpdate(first.doc));
    first.destroy();
    open.splice(open.indexOf(first), 1);
    unbinds.push(bindCourseDoc(laptopDoc, laptop));
    const folded = currentEpoch(laptopDoc)!.id;
    expect(applyCommand(laptopDoc, { type: 'setGrade', item: 'i1', user: 's1', raw: 41 }, laptop).ok).toBe(true);
    expect(applyCommand(laptopDoc, { type: 'setGrade', item: 'i2', user: 's2', raw: 42 }, laptop).ok).toBe(true);

    // the tablet, online, writes past the threshold: the server re-bases
    const tab = yClient(server.url, 'course/c1', t1.accessToken);
    open.push(tab);
    await tab.synced;
    unbinds.push(bindCourseDoc(tab.doc, tablet));
    for (let k = 0; k < 25; k++)
      expect(applyCommand(tab.doc, { type: 'setGrade', item: 'i0', user: 's1', raw: k }, tablet).ok).toBe(true);
    await until(() => currentEpoch(tab.doc)?.id !== folded, 'the tablet follows the re-base');

    // the laptop comes back with its own document (writes into the folded epoch included)
    const back = yClient(server.url, 'course/c1', t1.accessToken);
    open.push(back);
    let refused: number | null = null;
    void back.closedCode.then((c) => (refused = c));
    Y.applyUpdate(back.doc, Y.encodeStateAsUpdate(laptopDoc));
    unbinds.push(bindCourseDoc(back.doc, laptop));
    await back.synced;
    await until(
      () => raw(tab.doc, 'i1', 's1') === 41 && raw(tab.doc, 'i2', 's2') === 42,
      'the laptop\'s offline grades reach the tablet',
    );
    await until(
      () => JSON.stringify(docToCourseJson(back.doc)) === JSON.stringify(docToCourseJson(tab.doc)),
      'both devices hold the same gradebook',
    );
    expect(currentEpoch(back.doc)!.id).toBe(currentEpoch(tab.doc)!.id);
    expect(raw(back.doc, 'i0', 's1')).toBe(24);
    expect(refused).toBeNull(); // the server never closed the laptop's socket (no 4409 refusal)
  });
});

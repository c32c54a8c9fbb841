// Two real y-websocket clients (Node, `ws`) grading one course through the real sync server on 127.0.0.1:
// live edits arrive, offline edits merge on reconnect, and a same-cell clash becomes a visible conflict on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand, type Command } from '../../src/lib/crdt/commands.ts';
import {
  courseJsonToDoc,
  currentEpoch,
  docToCourseJson,
  listConflicts,
  readCell,
} from '../../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import {
  demoSeed,
  login,
  removeDir,
  startTestServer,
  until,
  yClient,
  type TestServer,
  type YClient,
} from './server-harness.ts';

let s: TestServer;
const open: YClient[] = [];
let at = 1_800_000_000;

beforeAll(async () => {
  const doc = new Y.Doc();
  courseJsonToDoc(makeCourse(4, 5), doc, { userId: 'admin', deviceId: 'seed' });
  s = await startTestServer({}, await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(doc) }]));
});
afterAll(async () => {
  for (const c of open) c.destroy();
  await s.close();
  removeDir(s.dataDir);
});

function grade(c: YClient, userId: string, cmd: Command): void {
  at += 1;
  const r = applyCommand(c.doc, cmd, {
    actor: { userId, deviceId: `${userId}-device` },
    clock: { now: () => at },
    src: 'grid',
  });
  if (!r.ok) throw new Error(r.error.message);
}

async function connect(username: string): Promise<YClient> {
  const { accessToken } = await login(s.http, username);
  const c = yClient(s.url, 'course/c1', accessToken);
  open.push(c);
  await c.synced;
  await until(() => currentEpoch(c.doc) !== null, `${username} has the course`);
  return c;
}

const same = (a: YClient, b: YClient) =>
  JSON.stringify(docToCourseJson(a.doc)) === JSON.stringify(docToCourseJson(b.doc));

describe('CRDT through the sync server', () => {
  it('[CRDT-4] live edits arrive; offline edits merge on reconnect; a same-cell clash is a conflict on both', async () => {
    const teacher = await connect('t1');
    const admin = await connect('admin');

    // Live: one grades, the other sees it.
    grade(teacher, 't1', { type: 'setGrade', item: 'i0', user: 'u0', raw: 61 });
    await until(() => readCell(admin.doc, 'i0', 'u0').record.grade?.raw === 61, 'live edit at the admin');

    // Both go offline and grade: one shared cell, one cell each.
    teacher.provider.disconnect();
    admin.provider.disconnect();
    grade(teacher, 't1', { type: 'setGrade', item: 'i1', user: 'u1', raw: 8 });
    grade(admin, 'admin', { type: 'setGrade', item: 'i1', user: 'u1', raw: 5 });
    grade(teacher, 't1', { type: 'setFeedback', item: 'i2', user: 'u2', feedback: 'graded offline' });
    grade(admin, 'admin', { type: 'overrideGrade', item: 'course', user: 'u3', value: 70 });
    teacher.provider.connect();
    admin.provider.connect();

    await until(
      () =>
        listConflicts(teacher.doc).length === 1 &&
        listConflicts(admin.doc).length === 1 &&
        same(teacher, admin),
      'both replicas merged',
    );
    for (const c of [teacher, admin]) {
      const [conflict] = listConflicts(c.doc);
      expect(conflict).toMatchObject({ item: 'i1', user: 'u1', field: 'grade' });
      expect(conflict!.candidates.map((k) => [k.value, k.by])).toEqual([
        [{ raw: 8 }, 't1'],
        [{ raw: 5 }, 'admin'],
      ]);
      expect(readCell(c.doc, 'i2', 'u2').record.feedback).toBe('graded offline');
      expect(readCell(c.doc, 'course', 'u3').record.overridden).toBe(70);
    }

    // The teacher settles it; everyone (including a late joiner) sees one value.
    grade(teacher, 't1', {
      type: 'resolveConflict',
      item: 'i1',
      user: 'u1',
      field: 'grade',
      value: { raw: 5 },
    });
    await until(() => listConflicts(admin.doc).length === 0, 'resolution at the admin');
    const late = await connect('t1');
    await until(() => same(late, teacher), 'late joiner has the same gradebook');
    expect(readCell(late.doc, 'i1', 'u1').record.grade).toEqual({ raw: 5 });
  });
});

// Student projections on a real server: a student's socket receives their own released grades and feedback, and
// no byte of another student's grades, hidden items or hidden feedback; teachers' changes reach it (AUTHZ-5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { applyCommand } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc } from '../../src/lib/crdt/course-doc.ts';
import { fixedClock } from '../../src/lib/domain/shared/clock.ts';
import type { CourseJson } from '../../src/lib/domain/interchange/course-types.ts';
import {
  demoSeed,
  login,
  rawClient,
  removeDir,
  startTestServer,
  until,
  yClient,
  type TestServer,
  type YClient,
} from './server-harness.ts';

const course: CourseJson = {
  categories: [{ id: 'cat', parent: null, name: 'Course', aggregation: 'natural' }],
  items: [
    { id: 'quiz', idnumber: 'quiz', category: 'cat', name: 'Quiz', grademin: 0, grademax: 100 },
    { id: 'exam', idnumber: 'exam', category: 'cat', name: 'Exam', grademin: 0, grademax: 100, hidden: true },
  ],
  grades: [
    { user: 's1', item: 'quiz', raw: 71.25, feedback: 'FEEDBACK-FOR-S1' },
    { user: 's1', item: 'exam', raw: 93.5, feedback: 'HIDDEN-EXAM-FEEDBACK' },
    { user: 's2', item: 'quiz', raw: 42.75, feedback: 'FEEDBACK-FOR-S2-SECRET' },
    { user: 's2', item: 'exam', raw: 12.5 },
  ],
  settings: { hideTotalsWithHiddenItems: 'none' },
};

let s: TestServer;
const open: YClient[] = [];
beforeAll(async () => {
  const doc = new Y.Doc();
  courseJsonToDoc(course, doc, { userId: 'admin', deviceId: 'seed' });
  s = await startTestServer({}, await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(doc) }]));
});
afterAll(async () => {
  for (const c of open) c.destroy();
  await s.close();
  removeDir(s.dataDir);
});

function rows(doc: Y.Doc): Record<string, { final: number | null; feedback: string | null; name: string }> {
  const out: Record<string, { final: number | null; feedback: string | null; name: string }> = {};
  for (const [k, v] of doc.getMap<string>('report')) out[k] = JSON.parse(v);
  return out;
}

describe('student projections', () => {
  it("[AUTHZ-5] a student's socket carries their own released grades and feedback, and nothing of anyone else's", async () => {
    const { accessToken } = await login(s.http, 's1');
    const raw = rawClient(s.url, 'student/c1/s1', accessToken);
    await raw.opened;
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
    raw.ws.send(encoding.toUint8Array(e));
    const y = yClient(s.url, 'student/c1/s1', accessToken);
    open.push(y);
    await until(() => y.doc.getMap('report').has('quiz'), 'projection written');
    const r = rows(y.doc);
    expect(r.quiz).toMatchObject({ name: 'Quiz', final: 71.25, feedback: 'FEEDBACK-FOR-S1' });
    expect(y.doc.getMap('meta').toJSON()).toEqual({ version: 1, courseId: 'c1', userId: 's1' });
    // Hidden item: no grade and no feedback reach the student (the engine's student view decides the rows).
    expect(r.exam?.final ?? null).toBeNull();
    await until(() => Buffer.concat(raw.frames).includes('FEEDBACK-FOR-S1'), 'raw socket saw the projection');
    const bytes = Buffer.concat(raw.frames);
    for (const secret of ['FEEDBACK-FOR-S2-SECRET', 'HIDDEN-EXAM-FEEDBACK', '42.75', '93.5', '12.5', '"s2"'])
      expect(bytes.includes(secret), secret).toBe(false);
    raw.ws.close();
  });

  it("[AUTHZ-5] a teacher's grade change reaches that student's projection only", async () => {
    const t = await login(s.http, 't1');
    const teacher = yClient(s.url, 'course/c1', t.accessToken);
    const s1 = yClient(s.url, 'student/c1/s1', (await login(s.http, 's1')).accessToken);
    const s2 = yClient(s.url, 'student/c1/s2', (await login(s.http, 's2')).accessToken);
    open.push(teacher, s1, s2);
    await Promise.all([teacher.synced, s1.synced, s2.synced]);
    await until(() => s2.doc.getMap('report').has('quiz'), 's2 projection written');
    const before = s1.doc.getMap('report').get('quiz');
    let s1Changes = 0;
    s1.doc.getMap('report').observe(() => s1Changes++);
    const r = applyCommand(
      teacher.doc,
      { type: 'setGrade', item: 'quiz', user: 's2', raw: 55.5 },
      { actor: { userId: 't1', deviceId: 'd1' }, clock: fixedClock(1_800_000_000) },
    );
    expect(r.ok).toBe(true);
    await until(() => rows(s2.doc).quiz?.final === 55.5, 's2 sees the new grade');
    expect(s1.doc.getMap('report').get('quiz')).toBe(before);
    expect(s1Changes).toBe(0);
  });
});

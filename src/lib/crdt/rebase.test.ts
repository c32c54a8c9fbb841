// Re-basing: the snapshot and open conflicts survive, the document shrinks, and offline writes are not lost.
// Real Y.Docs exchanging real updates; "offline" means updates are simply not exchanged for a while.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { CourseJson } from '../domain/interchange/course-types.ts';
import { fixedClock } from '../domain/shared/clock.ts';
import { applyCommand, type Command, type CommandContext } from './commands.ts';
import { courseJsonToDoc, docToCourseJson, listConflicts, readCell, type Actor } from './course-doc.ts';
import { makeCourse } from './fixtures.ts';
import { courseJsonAt } from './history.ts';
import { bindCourseDoc, growthStats, rebaseCourseDoc } from './rebase.ts';

const alice: Actor = { userId: 'alice', deviceId: 'dev-a' };
const bob: Actor = { userId: 'bob', deviceId: 'dev-b' };
const ctx = (actor: Actor, at: number): CommandContext => ({ actor, clock: fixedClock(at), src: 'grid' });
function sync(...docs: Y.Doc[]): void {
  for (const a of docs)
    for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
}
function ok(doc: Y.Doc, cmd: Command, c: CommandContext) {
  const r = applyCommand(doc, cmd, c);
  if (!r.ok) throw new Error(r.error.message);
  return r;
}
const norm = (c: CourseJson) => ({
  ...c,
  grades: [...c.grades].sort((x, y) => (x.item + '|' + x.user < y.item + '|' + y.user ? -1 : 1)),
});

describe('re-base', () => {
  it('[CRDT-8] keeps the gradebook and its open conflicts, and sheds the tombstones of overwrites', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(10, 20), a, alice, { at: 100 });
    const b = new Y.Doc();
    sync(a, b);
    for (let round = 0; round < 20; round++)
      for (let i = 0; i < 10; i++)
        ok(
          a,
          { type: 'setGrade', item: `i${i}`, user: `u${round % 20}`, raw: round + i },
          ctx(alice, 200 + round),
        );
    ok(a, { type: 'setGrade', item: 'i3', user: 'u3', raw: 1 }, ctx(alice, 300));
    ok(b, { type: 'setGrade', item: 'i3', user: 'u3', raw: 2 }, ctx(bob, 301));
    sync(a, b);
    const before = docToCourseJson(a);
    const conflictsBefore = listConflicts(a).map((c) => c.candidates.map((k) => [k.value, k.by]));
    const sizeBefore = growthStats(a).bytes;
    const archive = rebaseCourseDoc(a, { actor: alice, clock: fixedClock(400) });
    sync(a, b);
    for (const d of [a, b]) {
      expect(norm(docToCourseJson(d))).toEqual(norm(before));
      expect(listConflicts(d).map((c) => c.candidates.map((k) => [k.value, k.by]))).toEqual(conflictsBefore);
    }
    expect(growthStats(a).bytes).toBeLessThan(sizeBefore);
    // A fresh replica loading the re-based document gets the same state from fewer bytes.
    const c = new Y.Doc();
    Y.applyUpdate(c, Y.encodeStateAsUpdate(a));
    expect(norm(docToCourseJson(c))).toEqual(norm(before));
    // The conflict carried over can still be settled, and history before the re-base needs the archive.
    ok(
      c,
      { type: 'resolveConflict', item: 'i3', user: 'u3', field: 'grade', value: { raw: 2 } },
      ctx(bob, 500),
    );
    expect(listConflicts(c)).toEqual([]);
    expect(archive.entries.length).toBeGreaterThan(200);
    expect(() => courseJsonAt(a, 250)).toThrow(/archived/);
  });

  it('[CRDT-8] rebuilds a time before the re-base from its archive', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 2), a, alice, { at: 100 });
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 9 }, ctx(alice, 200));
    const at200 = docToCourseJson(a);
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 10 }, ctx(alice, 300));
    const archive = rebaseCourseDoc(a, { actor: alice, clock: fixedClock(400) });
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 11 }, ctx(alice, 500));
    expect(norm(courseJsonAt(a, 250, [archive]))).toEqual(norm(at200));
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 11 });
  });

  it("[CRDT-8] an offline device's writes to the folded epoch are replayed, conflicting where others changed the cell", () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(3, 3), a, alice, { at: 100 });
    const b = new Y.Doc();
    sync(a, b);
    const unbind = bindCourseDoc(b, ctx(bob, 600));
    // Bob goes offline and grades two cells; Alice changes one of them and re-bases.
    ok(b, { type: 'setGrade', item: 'i0', user: 'u0', raw: 41 }, ctx(bob, 200));
    ok(b, { type: 'setGrade', item: 'i1', user: 'u1', raw: 42 }, ctx(bob, 200));
    ok(b, { type: 'setItem', item: { id: 'i2', name: 'Offline rename' } }, ctx(bob, 200));
    ok(a, { type: 'setGrade', item: 'i1', user: 'u1', raw: 7 }, ctx(alice, 300));
    rebaseCourseDoc(a, { actor: alice, clock: fixedClock(400) });
    // Bob reconnects.
    sync(a, b);
    sync(a, b);
    for (const d of [a, b]) {
      expect(readCell(d, 'i0', 'u0').record.grade).toEqual({ raw: 41 });
      const c = listConflicts(d);
      expect(c.map((k) => [k.item, k.user, k.candidates.map((x) => x.value)])).toEqual([
        ['i1', 'u1', [{ raw: 7 }, { raw: 42 }]],
      ]);
      expect(docToCourseJson(d).items.find((i) => i.id === 'i2')?.name).toBe('Offline rename');
    }
    expect(norm(docToCourseJson(a))).toEqual(norm(docToCourseJson(b)));
    unbind();
  });
});

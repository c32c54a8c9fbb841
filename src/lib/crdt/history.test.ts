// History (rebuild a past state, revert as a new change) and per-actor undo/redo on real Y.Docs.
// Never mocks Yjs; past states are compared with snapshots taken at that time, not recomputed expectations.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { CourseJson } from '../domain/interchange/course-types.ts';
import { fixedClock } from '../domain/shared/clock.ts';
import { applyCommand, type Command, type CommandContext } from './commands.ts';
import { courseJsonToDoc, docToCourseJson, listConflicts, readCell, type Actor } from './course-doc.ts';
import { makeCourse } from './fixtures.ts';
import { courseJsonAt, listHistory, revertChange } from './history.ts';
import { rebaseCourseDoc } from './rebase.ts';
import { CourseUndoManager } from './undo.ts';

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

describe('history', () => {
  it('[CRDT-6] every change is logged with who, when, device, source and old -> new', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 2), a, alice, { at: 100 });
    const before = readCell(a, 'i0', 'u1').record.grade;
    ok(a, { type: 'setGrade', item: 'i0', user: 'u1', raw: 12 }, ctx(bob, 200));
    const h = listHistory(a, { item: 'i0', user: 'u1' });
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({
      k: 'grade',
      by: 'bob',
      dev: 'dev-b',
      at: 200,
      src: 'grid',
      old: { grade: before },
      new: { grade: { raw: 12 } },
    });
  });

  it('[CRDT-6] the log survives sync and rebuilds the gradebook exactly as it was at each time', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(3, 3), a, alice, { at: 100 });
    const b = new Y.Doc();
    sync(a, b);
    const snaps: [number, CourseJson][] = [[100, docToCourseJson(a)]];
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 1 }, ctx(alice, 200));
    ok(a, { type: 'setItem', item: { id: 'i1', name: 'Essay', grademax: 50 } }, ctx(alice, 200));
    snaps.push([200, docToCourseJson(a)]);
    // Concurrent offline edits: the state at 300 holds a conflict.
    ok(a, { type: 'setGrade', item: 'i2', user: 'u2', raw: 10 }, ctx(alice, 300));
    ok(b, { type: 'setGrade', item: 'i2', user: 'u2', raw: 20 }, ctx(bob, 300));
    sync(a, b);
    expect(listConflicts(a)).toHaveLength(1);
    snaps.push([300, docToCourseJson(a)]);
    ok(
      b,
      { type: 'resolveConflict', item: 'i2', user: 'u2', field: 'grade', value: { raw: 20 } },
      ctx(bob, 400),
    );
    ok(b, { type: 'deleteItem', id: 'i0' }, ctx(bob, 400));
    ok(b, { type: 'setSettings', settings: { minmaxtouse: 'grade' } }, ctx(bob, 400));
    sync(a, b);
    snaps.push([400, docToCourseJson(a)]);
    for (const [t, snap] of snaps) {
      expect(norm(courseJsonAt(b, t))).toEqual(norm(snap));
      expect(norm(courseJsonAt(b, t + 50))).toEqual(norm(snap));
    }
  });

  it('[CRDT-6] a revert is a new change that puts the old value back, and is itself logged', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(1, 1), a, alice, { at: 100 });
    const original = readCell(a, 'i0', 'u0').record.grade;
    const r = ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 3 }, ctx(bob, 200));
    const rv = revertChange(a, r.entries[0]!.id, ctx(alice, 300));
    expect(rv.ok).toBe(true);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual(original);
    const h = listHistory(a);
    expect(h.map((e) => [e.k, e.src, e.by])).toEqual([
      ['load', 'import', 'alice'],
      ['grade', 'grid', 'bob'],
      ['grade', 'revert', 'alice'],
    ]);
    const missing = revertChange(a, 'nope', ctx(alice, 300));
    expect(missing.ok ? '' : missing.error.problems[0]!.at).toBe('entryId');
  });
});

describe('undo', () => {
  it("[CRDT-7] undo reverts only the actor's own change and leaves another grader's later edit alone", () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 2), a, alice, { at: 100 });
    const b = new Y.Doc();
    sync(a, b);
    const undoA = new CourseUndoManager(a, ctx(alice, 200));
    const orig00 = readCell(a, 'i0', 'u0').record.grade;
    undoA.run({ type: 'setGrade', item: 'i0', user: 'u0', raw: 50 });
    undoA.run({ type: 'setGrade', item: 'i1', user: 'u1', raw: 60 });
    sync(a, b);
    ok(b, { type: 'setGrade', item: 'i1', user: 'u1', raw: 99 }, ctx(bob, 250));
    sync(a, b);
    const r = undoA.undo();
    expect(r?.ok && r.skipped.map((s) => s.at)).toEqual(['i1/u1.grade']);
    expect(readCell(a, 'i1', 'u1').record.grade).toEqual({ raw: 99 });
    undoA.undo();
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual(orig00);
    undoA.redo();
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 50 });
  });

  it('[CRDT-7] a bulk action is one undo step', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 3), a, alice, { at: 100 });
    const before = docToCourseJson(a);
    const undo = new CourseUndoManager(a, ctx(alice, 200));
    undo.run({
      type: 'bulk',
      commands: [
        {
          type: 'setItem',
          item: { id: 'x', idnumber: 'x', name: 'X', category: 'c0', grademin: 0, grademax: 5 },
        },
        { type: 'setGrade', item: 'x', user: 'u0', raw: 4 },
        { type: 'setGrade', item: 'i0', user: 'u2', raw: 4 },
        { type: 'setSettings', settings: { minmaxtouse: 'grade' } },
      ],
    });
    expect(docToCourseJson(a)).not.toEqual(before);
    undo.undo();
    expect(norm(docToCourseJson(a))).toEqual(norm(before));
    expect(undo.canUndo).toBe(false);
  });
});

describe('undo across several steps on one cell', () => {
  it('[CRDT-7][CRDT-8] steps made before a re-base still undo and redo after it (the folded values are the same writes)', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 2), a, alice, { at: 100 });
    const orig = readCell(a, 'i0', 'u0').record.grade;
    const undo = new CourseUndoManager(a, ctx(alice, 200));
    undo.run({ type: 'setGrade', item: 'i0', user: 'u0', raw: 5 });
    undo.run({ type: 'setGrade', item: 'i0', user: 'u0', raw: 6 });
    rebaseCourseDoc(a, { actor: alice, clock: fixedClock(300) });
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 6 });
    expect(undo.undo()?.ok && undo.canUndo).toBe(true);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 5 });
    const r = undo.undo();
    expect(r?.ok && r.skipped).toEqual([]);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual(orig);
    undo.redo();
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 5 });
  });

  it('[CRDT-7][CRDT-8] after a re-base, another grader\'s later edit of the cell is still left alone by undo', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 2), a, alice, { at: 100 });
    const b = new Y.Doc();
    sync(a, b);
    const undo = new CourseUndoManager(a, ctx(alice, 200));
    undo.run({ type: 'setGrade', item: 'i0', user: 'u0', raw: 5 });
    sync(a, b);
    ok(b, { type: 'setGrade', item: 'i0', user: 'u0', raw: 9 }, ctx(bob, 250));
    sync(a, b);
    rebaseCourseDoc(a, { actor: alice, clock: fixedClock(300) });
    const r = undo.undo();
    expect(r?.ok && r.skipped.map((s) => s.at)).toEqual(['i0/u0.grade']);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 9 });
  });

  it('[CRDT-7] undoing two steps on the same cell goes back through both (the first undo rewrote the value under a new origin)', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 2), a, alice, { at: 100 });
    const orig = readCell(a, 'i0', 'u0').record.grade;
    const undo = new CourseUndoManager(a, ctx(alice, 200));
    undo.run({ type: 'setGrade', item: 'i0', user: 'u0', final: 8.5 });
    undo.run({ type: 'bulk', commands: [{ type: 'setGrade', item: 'i0', user: 'u0', final: 4 }, { type: 'setGrade', item: 'i1', user: 'u0', final: 1 }] });
    undo.undo();
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ final: 8.5 });
    const r = undo.undo();
    expect(r?.ok && r.skipped).toEqual([]);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual(orig);
  });

  it('[CRDT-7] the same value written again by another grader still counts as their change', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(2, 2), a, alice, { at: 100 });
    const b = new Y.Doc();
    sync(a, b);
    const undo = new CourseUndoManager(a, ctx(alice, 200));
    undo.run({ type: 'setGrade', item: 'i0', user: 'u0', final: 7 });
    sync(a, b);
    ok(b, { type: 'setGrade', item: 'i0', user: 'u0', final: 3 }, ctx(bob, 250));
    ok(b, { type: 'setGrade', item: 'i0', user: 'u0', final: 7 }, ctx(bob, 260));
    sync(a, b);
    const r = undo.undo();
    expect(r?.ok && r.skipped.map((s) => s.at)).toEqual(['i0/u0.grade']);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ final: 7 });
  });
});

describe('settling conflicts', () => {
  it('[CRDT-7] settling a conflict is not undone or reverted back to one candidate (that would drop the other silently)', () => {
    const a = new Y.Doc();
    courseJsonToDoc(makeCourse(1, 1), a, alice, { at: 100 });
    const b = new Y.Doc();
    sync(a, b);
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 8 }, ctx(alice, 200));
    ok(b, { type: 'setGrade', item: 'i0', user: 'u0', raw: 5 }, ctx(bob, 201));
    sync(a, b);
    const undo = new CourseUndoManager(a, ctx(alice, 300));
    const r = undo.run({
      type: 'resolveConflict',
      item: 'i0',
      user: 'u0',
      field: 'grade',
      value: { raw: 5 },
    });
    expect(r.ok).toBe(true);
    expect(undo.canUndo).toBe(false);
    const entry = listHistory(a, { item: 'i0', user: 'u0' }).at(-1)!;
    const rv = revertChange(a, entry.id, ctx(alice, 400));
    expect(rv.ok).toBe(false);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 5 });
  });
});

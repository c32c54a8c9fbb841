// Importing a course into a document that already holds one: the difference as one validated, undoable bulk.
// Real Y.Docs; expectations are the input course itself, not values computed by the code under test.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { CourseJson } from '../domain/interchange/course-types.ts';
import { fixedClock } from '../domain/shared/clock.ts';
import { applyCommand } from './commands.ts';
import { courseJsonToDoc, docToCourseJson, type Actor } from './course-doc.ts';
import { makeCourse } from './fixtures.ts';
import { importCommand } from './import.ts';
import { CourseUndoManager } from './undo.ts';

const alice: Actor = { userId: 'alice', deviceId: 'dev-a' };
const norm = (c: CourseJson) => ({
  ...c,
  grades: [...c.grades].sort((x, y) => (x.item + '|' + x.user < y.item + '|' + y.user ? -1 : 1)),
});

describe('import into an existing course', () => {
  it('[CRDT-3] a whole course is imported as one bulk: the document then holds exactly it, and one undo restores the old one', () => {
    const doc = new Y.Doc();
    courseJsonToDoc(makeCourse(3, 4, 1), doc, alice, { at: 100 });
    const before = docToCourseJson(doc);
    const next = makeCourse(2, 5, 2);
    next.categories.push({ id: 'c1', parent: 'c0', name: 'Labs', aggregation: 'mean' });
    next.items[1] = { ...next.items[1]!, category: 'c1', name: 'Lab 1', grademax: 20 };
    next.grades = next.grades.filter((g) => g.item !== 'i1');
    next.grades.push({ user: 'u4', item: 'i1', final: 15, feedback: 'ok', locked: true });
    next.settings = { hideTotalsWithHiddenItems: 'include_hidden', minmaxtouse: 'grade' };
    const undo = new CourseUndoManager(doc, { actor: alice, clock: fixedClock(200), src: 'import' });
    const r = undo.run(importCommand(doc, next, { replace: true }));
    expect(r.ok).toBe(true);
    const got = docToCourseJson(doc);
    expect(got.items).toEqual(next.items);
    expect(got.categories).toEqual(next.categories);
    expect(got.settings).toEqual(next.settings);
    // Grades of the deleted item i2 leave the snapshot; grades the input lacks are cleared.
    expect(norm(got).grades).toEqual(norm(next).grades);
    undo.undo();
    expect(norm(docToCourseJson(doc))).toEqual(norm(before));
  });

  it('[CRDT-3] a malformed import names the JSON path; importing the same course again changes nothing', () => {
    const doc = new Y.Doc();
    const json = makeCourse(2, 2);
    courseJsonToDoc(json, doc, alice);
    const bad = makeCourse(2, 2);
    bad.items[0]!.category = 'missing';
    expect(() => importCommand(doc, bad)).toThrow(/\$\.items\[0\]\.category/);
    const r = applyCommand(doc, importCommand(doc, json), { actor: alice, clock: fixedClock(1) });
    expect(r.ok && r.entries.length).toBe(0);
  });
});

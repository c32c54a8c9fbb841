// Course document schema and commands: load, snapshot, small updates, validation, conflicts, locks.
// Uses real Y.Docs exchanging real updates in-process; never mocks Yjs.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { CourseJson } from '../domain/interchange/course-types.ts';
import { fixedClock } from '../domain/shared/clock.ts';
import { ValidationError } from '../domain/shared/errors.ts';
import { Gradebook } from '../domain/gradebook/index.ts';
import { applyCommand, commandCapabilities, type Command, type CommandContext } from './commands.ts';
import {
  BaseBuilder,
  BaseCells,
  COURSE_SCHEMA_VERSION,
  courseJsonToDoc,
  docToCourseJson,
  listConflicts,
  metaMap,
  migrateCourseDoc,
  readCell,
  type Actor,
  type BaseSnapshot,
  type PackedCell,
} from './course-doc.ts';
import { makeCourse } from './fixtures.ts';

const alice: Actor = { userId: 'alice', deviceId: 'dev-a' };
const bob: Actor = { userId: 'bob', deviceId: 'dev-b' };
const ctx = (actor: Actor, at = 1000): CommandContext => ({ actor, clock: fixedClock(at), src: 'grid' });

function sync(...docs: Y.Doc[]): void {
  for (const a of docs)
    for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
}

function pair(json: CourseJson = makeCourse(3, 4)): [Y.Doc, Y.Doc] {
  const a = new Y.Doc();
  courseJsonToDoc(json, a, alice, { at: 500 });
  const b = new Y.Doc();
  sync(a, b);
  return [a, b];
}

const sortGrades = (c: CourseJson) =>
  [...c.grades].sort((x, y) => (x.item + '|' + x.user < y.item + '|' + y.user ? -1 : 1));

function ok(doc: Y.Doc, cmd: Command, c: CommandContext) {
  const r = applyCommand(doc, cmd, c);
  if (!r.ok) throw new Error(r.error.message);
  return r;
}

describe('course document', () => {
  it('[CRDT-1] a loaded course comes back as the same CourseJson on another replica', () => {
    const json: CourseJson = {
      ...makeCourse(2, 3),
      users: [{ id: 'u0', name: 'Ada' }],
    };
    json.grades.push({ user: 'u1', item: 'course', overridden: 77, feedback: 'well done', locked: true });
    json.grades[0] = { user: 'u0', item: 'i0', final: 42, hidden: 1800000000, excluded: true };
    json.grades[1] = { user: 'u1', item: 'i0', raw: 0 };
    json.settings = { hideTotalsWithHiddenItems: 'exclude_hidden', letters: { '90': 'A', '0': 'F' } };
    const [, b] = pair(json);
    const out = docToCourseJson(b);
    expect(out.items).toEqual(json.items);
    expect(out.categories).toEqual(json.categories);
    expect(out.settings).toEqual(json.settings);
    expect(out.users).toEqual(json.users);
    expect(sortGrades(out)).toEqual(sortGrades(json));
  });

  it('[CRDT-1] loading is one transaction whose origin is the actor', () => {
    const doc = new Y.Doc();
    const origins: unknown[] = [];
    doc.on('afterTransaction', (tr: Y.Transaction) => origins.push(tr.origin));
    courseJsonToDoc(makeCourse(2, 2), doc, alice);
    expect(origins).toEqual([alice]);
    expect(metaMap(doc).get('schema')).toBe(COURSE_SCHEMA_VERSION);
  });

  it('[CRDT-1] a malformed course is refused with the JSON path and leaves the doc empty', () => {
    const doc = new Y.Doc();
    const bad = makeCourse(2, 2);
    bad.items[1]!.category = 'nope';
    bad.grades.push({ user: 'u0', item: 'i0', raw: 1 });
    let err: unknown;
    try {
      courseJsonToDoc(bad, doc, alice);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const at = (err as ValidationError).problems.map((p) => p.at);
    expect(at).toContain('$.items[1].category');
    expect(at).toContain('$.grades[4]');
    expect(Y.encodeStateAsUpdate(doc).length).toBeLessThan(3);
  });

  it('[CRDT-1] a second load into a course document is refused', () => {
    const [a] = pair();
    expect(() => courseJsonToDoc(makeCourse(1, 1), a, bob)).toThrow(/already holds a course/);
  });

  it('[CRDT-2] one grade change travels as a small update', () => {
    const [a, b] = pair(makeCourse(40, 100));
    const sv = Y.encodeStateVector(a);
    ok(a, { type: 'setGrade', item: 'i7', user: 'u42', raw: 55.5 }, ctx(alice));
    const update = Y.encodeStateAsUpdate(a, sv);
    expect(update.length).toBeLessThan(600);
    Y.applyUpdate(b, update);
    expect(readCell(b, 'i7', 'u42').record.grade).toEqual({ raw: 55.5 });
  });

  it('[CRDT-11] a document from a newer schema is refused, not rewritten', () => {
    const [a] = pair();
    metaMap(a).set('schema', COURSE_SCHEMA_VERSION + 1);
    expect(() => migrateCourseDoc(a, alice)).toThrow(/newer/);
  });
});

describe('commands', () => {
  it('[CRDT-3] an invalid command names the field and changes nothing', () => {
    const [a] = pair();
    const before = Y.encodeStateAsUpdate(a);
    const r = applyCommand(
      a,
      {
        type: 'bulk',
        commands: [
          { type: 'setGrade', item: 'i0', user: 'u0', raw: 10 },
          { type: 'setItem', item: { id: 'i1', grademax: -5 } },
        ],
      },
      ctx(alice),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid');
      expect(r.error.problems[0]!.at).toBe('bulk[1].item.grademax');
    }
    expect(Y.encodeStateAsUpdate(a)).toEqual(before);
  });

  it('[CRDT-3] unknown items and out-of-range finals are refused by name', () => {
    const [a] = pair();
    const r1 = applyCommand(a, { type: 'setGrade', item: 'zz', user: 'u0', raw: 1 }, ctx(alice));
    expect(r1.ok ? '' : r1.error.code + ' ' + r1.error.problems[0]!.at).toBe('not_found setGrade.item');
    const r2 = applyCommand(a, { type: 'setGrade', item: 'i0', user: 'u0', final: 101 }, ctx(alice));
    expect(r2.ok ? '' : r2.error.problems[0]!.at).toBe('setGrade.final');
  });

  it('[CRDT-3] a bulk is one transaction with the actor as origin, and sees its own earlier steps', () => {
    const [a] = pair();
    const origins: unknown[] = [];
    a.on('afterTransaction', (tr: Y.Transaction) => origins.push(tr.origin));
    const r = ok(
      a,
      {
        type: 'bulk',
        commands: [
          {
            type: 'setItem',
            item: { id: 'new', idnumber: 'new', name: 'New', category: 'c0', grademin: 0, grademax: 10 },
          },
          { type: 'setGrade', item: 'new', user: 'u0', raw: 7 },
          { type: 'setFeedback', item: 'new', user: 'u0', feedback: 'ok' },
        ],
      },
      ctx(bob),
    );
    expect(origins).toEqual([bob]);
    expect(r.entries.map((e) => e.k)).toEqual(['row', 'grade']);
    expect(docToCourseJson(a).grades).toContainEqual({ user: 'u0', item: 'new', raw: 7, feedback: 'ok' });
  });

  it('[CRDT-3] each command declares the capability it needs', () => {
    expect(commandCapabilities({ type: 'setItem', item: { id: 'x' } })).toEqual(['grade:manage']);
    expect(
      commandCapabilities({
        type: 'bulk',
        commands: [
          { type: 'lockGrade', item: 'i0', user: 'u0' },
          { type: 'overrideGrade', item: 'course', user: 'u0', value: 5 },
          { type: 'hideGrade', item: 'i0', user: 'u0', hidden: true },
        ],
      }),
    ).toEqual(['grade:hide', 'grade:lock', 'grade:override']);
  });

  it('[CRDT-5] a locked grade or item refuses edits until unlocked', () => {
    const [a] = pair();
    ok(a, { type: 'lockGrade', item: 'i0', user: 'u0' }, ctx(alice));
    const r = applyCommand(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 3 }, ctx(alice));
    expect(r.ok ? '' : r.error.code).toBe('locked');
    ok(a, { type: 'unlockGrade', item: 'i0', user: 'u0' }, ctx(alice));
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 3 }, ctx(alice));
    ok(a, { type: 'setItem', item: { id: 'i1', locked: 900 } }, ctx(alice));
    const r2 = applyCommand(a, { type: 'overrideGrade', item: 'i1', user: 'u2', value: 3 }, ctx(alice, 1000));
    expect(r2.ok ? '' : r2.error.code).toBe('locked');
  });

  it('[CRDT-3] items can be moved, edited and deleted; grades of deleted items leave the snapshot', () => {
    const [a] = pair();
    ok(a, { type: 'moveItem', id: 'i2', before: 'i0' }, ctx(alice));
    expect(docToCourseJson(a).items.map((i) => i.id)).toEqual(['i2', 'i0', 'i1']);
    ok(a, { type: 'setItem', item: { id: 'i0', name: 'Renamed' } }, ctx(alice));
    ok(a, { type: 'deleteItem', id: 'i1' }, ctx(alice));
    const out = docToCourseJson(a);
    expect(out.items.map((i) => [i.id, i.name])).toEqual([
      ['i2', 'Item 2'],
      ['i0', 'Renamed'],
    ]);
    expect(out.grades.some((g) => g.item === 'i1')).toBe(false);
  });
});

describe('category order', () => {
  it('[CRDT-3] a category moves before a sibling category, or into another category at the end; cycles and strangers are refused', () => {
    const [a] = pair();
    for (const [id, parent] of [
      ['k1', 'c0'],
      ['k2', 'c0'],
      ['k3', 'c0'],
      ['k21', 'k2'],
    ] as const)
      ok(
        a,
        { type: 'setCategory', category: { id, parent, name: id.toUpperCase(), aggregation: 'mean' } },
        ctx(alice),
      );
    const order = () => docToCourseJson(a).categories.map((c) => c.id);
    expect(order()).toEqual(['c0', 'k1', 'k2', 'k3', 'k21']);
    ok(a, { type: 'moveCategory', id: 'k3', before: 'k1' }, ctx(alice));
    expect(order()).toEqual(['c0', 'k3', 'k1', 'k2', 'k21']);
    // the engine's tree follows: the course's sub-categories in the new order
    const gb = new Gradebook(docToCourseJson(a));
    const root = gb.state.course.cats.find((c) => c.parent === -1)!;
    expect(
      root.allChildren.map((q) => gb.state.course.nodes[q]!.id).filter((id) => id.startsWith('k')),
    ).toEqual(['k3', 'k1', 'k2']);
    ok(a, { type: 'moveCategory', id: 'k1', parent: 'k2', before: 'k21' }, ctx(alice));
    expect(docToCourseJson(a).categories.find((c) => c.id === 'k1')!.parent).toBe('k2');
    expect(order().filter((id) => id === 'k1' || id === 'k21')).toEqual(['k1', 'k21']);
    ok(a, { type: 'moveCategory', id: 'k3' }, ctx(alice));
    expect(order().at(-1)).toBe('k3');
    const cycle = applyCommand(a, { type: 'moveCategory', id: 'k2', parent: 'k21' }, ctx(alice));
    expect(cycle.ok ? '' : cycle.error.problems.map((x) => x.message).join()).toMatch(/inside itself/);
    const stranger = applyCommand(a, { type: 'moveCategory', id: 'k3', before: 'k21' }, ctx(alice));
    expect(stranger.ok ? '' : stranger.error.problems[0]!.at).toMatch(/\.before$/);
    const root2 = applyCommand(a, { type: 'moveCategory', id: 'c0', before: 'k1' }, ctx(alice));
    expect(root2.ok ? '' : root2.error.code).toBe('invalid');
  });
});

describe('conflicts', () => {
  it('[CRDT-4] two graders changing one grade offline both keep their value, flagged identically everywhere', () => {
    const [a, b] = pair();
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 8 }, ctx(alice, 1001));
    ok(b, { type: 'setGrade', item: 'i0', user: 'u0', raw: 5 }, ctx(bob, 1002));
    sync(a, b);
    for (const d of [a, b]) {
      const c = listConflicts(d);
      expect(c).toHaveLength(1);
      expect(c[0]!.candidates.map((k) => [k.value, k.by])).toEqual([
        [{ raw: 8 }, 'alice'],
        [{ raw: 5 }, 'bob'],
      ]);
    }
    expect(docToCourseJson(a)).toEqual(docToCourseJson(b));
    // A plain write cannot silently settle it.
    const r = applyCommand(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 9 }, ctx(alice));
    expect(r.ok ? '' : r.error.code).toBe('conflict');
    ok(
      b,
      { type: 'resolveConflict', item: 'i0', user: 'u0', field: 'grade', value: { raw: 5 } },
      ctx(bob, 1003),
    );
    sync(a, b);
    expect(listConflicts(a)).toEqual([]);
    expect(readCell(a, 'i0', 'u0').record.grade).toEqual({ raw: 5 });
  });

  it('[CRDT-4] concurrent changes to different fields of one cell merge without a conflict', () => {
    const [a, b] = pair();
    ok(a, { type: 'setGrade', item: 'i1', user: 'u1', raw: 60 }, ctx(alice));
    ok(b, { type: 'setFeedback', item: 'i1', user: 'u1', feedback: 'see me' }, ctx(bob));
    sync(a, b);
    expect(listConflicts(a)).toEqual([]);
    expect(readCell(b, 'i1', 'u1').record).toMatchObject({ grade: { raw: 60 }, feedback: 'see me' });
  });

  it('[CRDT-4] a sequential edit after seeing the other one is not a conflict', () => {
    const [a, b] = pair();
    ok(a, { type: 'setGrade', item: 'i0', user: 'u0', raw: 1 }, ctx(alice));
    sync(a, b);
    ok(b, { type: 'setGrade', item: 'i0', user: 'u0', raw: 2 }, ctx(bob));
    ok(a, { type: 'setFeedback', item: 'i0', user: 'u0', feedback: 'x' }, ctx(alice));
    sync(a, b);
    expect(listConflicts(a)).toEqual([]);
    expect(readCell(a, 'i0', 'u0').record).toMatchObject({ grade: { raw: 2 }, feedback: 'x' });
  });
});

describe('base cells', () => {
  // every kind of stored cell: none, a plain raw grade, an origin-tagged raw grade, packed cells (other fields, an
  // open conflict); columns as a base snapshot stores them
  const od = ['devA#0', 'devB#1'];
  const conflict: PackedCell = { r: { grade: { raw: 4 } }, p: { grade: [[{ raw: 4 }, 'devA#0', 3], [{ raw: 6 }, 'devB#1', 2]] } };
  const other: PackedCell = { r: { grade: { raw: 7.25 }, feedback: 'Good' } };
  const g: BaseSnapshot['g'] = [
    [null, 12.5, [8.75, 1, 42], other],
    [conflict, null, 3, [0.1, 0, 7]],
  ];
  const base: BaseSnapshot = { v: 1, settings: {} as BaseSnapshot['settings'], categories: [], items: [], gu: ['u1', 'u2', 'u3', 'u4'], gi: ['a', 'b'], g, od };

  it('reads back every cell as stored, unpacked as before, and hands a re-base the same columns', () => {
    const cells = new BaseCells(structuredClone(base));
    expect(cells.wireColumns()).toEqual(g);
    expect(cells.at('a', 'u1')).toBeUndefined();
    expect(cells.at('a', 'u2')).toEqual({ r: { grade: { raw: 12.5 } } });
    expect(cells.at('a', 'u3')).toEqual({ r: { grade: { raw: 8.75 } }, p: { grade: [[{ raw: 8.75 }, 'devB#1', 42]] } });
    expect(cells.get('a\u0000u4')).toEqual(other);
    expect(cells.has('b\u0000u2')).toBe(false);
    expect(cells.at('b', 'u4')).toEqual({ r: { grade: { raw: 0.1 } }, p: { grade: [[{ raw: 0.1 }, 'devA#0', 7]] } });
    expect(cells.at('x', 'u1')).toBeUndefined();
    expect([...cells.withCandidates()]).toEqual([['b\u0000u1', conflict]]);
    expect([...cells].map(([k]) => k)).toEqual(['a\u0000u2', 'a\u0000u3', 'a\u0000u4', 'b\u0000u1', 'b\u0000u3', 'b\u0000u4']);
    const rebuilt = new BaseBuilder({ settings: base.settings, categories: [], items: [] }, cells).finish();
    expect(rebuilt.g).toEqual(g);
    expect(rebuilt.od).toEqual(od);
  });
});

// Regrade, calculations, overrides, locks, min/max and the gradelib-style API (SPEC.md REG-*, CALC-*, FLAG-*, API-*).
// Scenarios from grade_calculated_grade_items.feature, grade_minmax.feature, grade_regrade_do_not_override.feature,
// lib/tests/gradelib_test.php; invariants as fast-check properties over generated courses.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Gradebook, loadCourse } from './index.ts';
import { GradeEngine } from './engine.ts';
import { compileGradebookFormula } from '../formula/index.ts';
import { ValidationError } from '../shared/errors.ts';
import { cancelSource, CancelledError } from '../shared/cancel.ts';
import { course, item, cat, gradesOf } from '../../../../test/fixtures/courses/builder.ts';
import { generateCourse } from '../../../../test/fixtures/courses/generate.ts';
import type { CourseJson } from '../interchange/course-types.ts';

const finals = (gb: Gradebook): (number | null)[] => {
  const out: (number | null)[] = [];
  const ids = [
    ...gb.toJson().items.map((i) => i.id),
    ...gb.toJson().categories.map((c) => (c.parent === null ? 'course' : c.id)),
  ];
  for (const u of gb.users) for (const id of ids) out.push(gb.final(id, u));
  return out;
};

describe('calculated items (grade_calculated_grade_items.feature, grade_minmax.feature)', () => {
  it('[CALC-2] a calculated category ignores its method and keeps its own max: =[[gi1]]/2 -> 37.5/50', () => {
    const gb = loadCourse(
      course('natural', {
        categories: [cat('k', 'mean', { calculation: '=[[gi1]]/2', grademax: 50 })],
        items: [item('gi1', 100), item('other', 100, { category: 'k' })],
        grades: gradesOf('u', { gi1: 75, other: 10 }),
      }),
    );
    expect(gb.final('k', 'u')).toBe(37.5);
    expect(gb.range('k', 'u')).toEqual([0, 50]);
    expect(gb.final('course', 'u')).toBe(112.5);
  });
  it('[CALC-2] the result is clamped to the item range: 75+25+50 -> 100 with max 100, 150 with max 200', () => {
    const build = (max: number) =>
      loadCourse(
        course('natural', {
          items: [
            item('a', 100),
            item('b', 100),
            item('c', 100),
            item('t', max, { calculation: '=[[a]]+[[b]]+[[c]]' }),
          ],
          grades: gradesOf('u', { a: 75, b: 25, c: 50 }),
        }),
      );
    expect(build(100).final('t', 'u')).toBe(100);
    expect(build(200).final('t', 'u')).toBe(150);
  });
  it('[CALC-2] empty inputs count as 0; all empty gives no grade', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100), item('b', 100), item('t', 100, { calculation: '=[[a]]+[[b]]' })],
        grades: [...gradesOf('u', { a: 30 }), ...gradesOf('v', { a: null })],
      }),
    );
    expect(gb.final('t', 'u')).toBe(30);
    expect(gb.final('t', 'v')).toBeNull();
  });
  it('[CALC-2] an evaluation error gives no grade for that user and is reported', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100), item('b', 100), item('t', 100, { calculation: '=[[a]]/[[b]]' })],
        grades: gradesOf('u', { a: 30, b: 0 }),
      }),
    );
    expect(gb.final('t', 'u')).toBeNull();
    expect(gb.issues).toHaveLength(1);
    expect(gb.issues[0]).toMatchObject({ item: 't', user: 'u' });
  });
  it('[CALC-1] unknown idnumbers and syntax errors name the item and the position', () => {
    const bad = (calculation: string) => () =>
      loadCourse(course('mean', { items: [item('a', 100), item('t', 100, { calculation })] }));
    expect(bad('=[[a]] + [[nope]]')).toThrow(
      /\$\.items\[1\]\.calculation: unknown idnumber \[\[nope\]\] at column 10/,
    );
    expect(bad('=[[a]] +')).toThrow(/\$\.items\[1\]\.calculation: formula error: .*column/);
    expect(bad('=[[t]] + 1')).toThrow(/its own item/);
  });
  it('[CALC-3] a cycle is rejected and every formula on it is named', () => {
    const json = course('mean', {
      items: [
        item('a', 100, { calculation: '=[[b]]' }),
        item('b', 100, { calculation: '=[[c]] + 1' }),
        item('c', 100, { calculation: '=[[a]]' }),
        item('d', 100),
      ],
    });
    try {
      loadCourse(json);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const problems = (e as ValidationError).problems;
      expect(problems.map((p) => p.at).sort()).toEqual([
        '$.items[0].calculation',
        '$.items[1].calculation',
        '$.items[2].calculation',
      ]);
      for (const name of ['a', 'b', 'c'])
        expect(problems[0]!.message).toMatch(new RegExp(`(^|[ >])${name}( |$)`));
      expect(problems[0]!.message).not.toMatch(/\bd\b/);
    }
  });
  it('[CALC-3] a category total that a calculation inside it refers to is a cycle', () => {
    const json = course('mean', {
      categories: [cat('k', 'mean', { idnumber: 'ktot' })],
      items: [item('t', 100, { category: 'k', calculation: '=[[ktot]]' })],
    });
    expect(() => loadCourse(json)).toThrow(/circular reference/);
  });
});

describe('min and max (grade_minmax.feature)', () => {
  // MI 1 graded 75 on 0..100, then its range changed to 5..50 without rescaling (the stored final stays).
  const build = (minmaxtouse: 'item' | 'grade') =>
    loadCourse(
      course('natural', {
        items: [item('mi1', 50, { grademin: 5 }), item('mi2', 100)],
        grades: [
          { user: 'u', item: 'mi1', raw: null, final: 75, rawgrademin: 0, rawgrademax: 100 },
          { user: 'u', item: 'mi2', raw: 50 },
        ],
        settings: { minmaxtouse },
      }),
    );
  it('[RNG-7] with item min/max the stored 75 counts as 75/50 of its weight', () => {
    const gb = build('item');
    expect(gb.final('course', 'u')).toBe(125); // 75 + 50
    expect(gb.range('course', 'u')).toEqual([0, 150]);
  });
  it('[RNG-7] with the initial min/max the grade is read against 0..100 again', () => {
    const gb = build('grade');
    expect(gb.final('course', 'u')).toBe(125);
    expect(gb.range('course', 'u')).toEqual([0, 200]);
  });
  it('[RNG-4] changing the range with rescale keeps the percentage (grade_grade_minmax_change.feature: 10 -> 20, 8 -> 16)', () => {
    const gb = loadCourse(
      course('natural', {
        items: [item('a', 10)],
        grades: [...gradesOf('u', { a: 10 }), ...gradesOf('v', { a: 8 })],
      }),
    );
    gb.updateItem('a', { grademax: 20 }, { rescale: true });
    expect(gb.final('a', 'u')).toBe(20);
    expect(gb.final('a', 'v')).toBe(16);
    const kept = loadCourse(
      course('natural', { items: [item('a', 10)], grades: [{ user: 'u', item: 'a', raw: null, final: 8 }] }),
    );
    kept.updateItem('a', { grademax: 20 });
    expect(kept.final('a', 'u')).toBe(8);
  });
});

describe('overrides and locks (grade_regrade_do_not_override.feature, gradelib_test.php)', () => {
  const json = () =>
    course('mean', {
      items: [item('a', 100)],
      grades: [
        ...gradesOf('s1', { a: 50 }),
        ...gradesOf('s2', { a: 90 }),
        { user: 's1', item: 'course', overridden: 80 },
      ],
    });
  it('[FLAG-3] an overridden total is not recomputed when activity grades change', () => {
    const gb = loadCourse(json());
    expect(gb.final('course', 's1')).toBe(80);
    gb.gradeUpdate('mod/assign', 'a', [
      { user: 's1', raw: 10 },
      { user: 's2', raw: 60 },
    ]);
    expect(gb.final('course', 's1')).toBe(80);
    expect(gb.final('course', 's2')).toBe(60);
  });
  it('[API-4] overrides survive grade_update; clearing the override brings back the activity grade', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100)],
        grades: [{ user: 'u', item: 'a', raw: 40, overridden: 70 }],
      }),
    );
    gb.gradeUpdate('mod/quiz', 'a', [{ user: 'u', raw: 55 }]);
    expect(gb.final('a', 'u')).toBe(70);
    gb.setGrade('a', 'u', { overridden: null });
    expect(gb.final('a', 'u')).toBe(55);
  });
  it('[API-4][FLAG-2] locked grades ignore grade_update; a locked item refuses everyone', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100), item('b', 100, { locked: true })],
        grades: [{ user: 'u', item: 'a', raw: 40, locked: true }, ...gradesOf('v', { a: 10 })],
      }),
    );
    expect(
      gb.gradeUpdate('mod/quiz', 'a', [
        { user: 'u', raw: 99 },
        { user: 'v', raw: 20 },
      ]).refused,
    ).toEqual(['u']);
    expect(gb.final('a', 'u')).toBe(40);
    expect(gb.final('a', 'v')).toBe(20);
    expect(gb.isLocked('b')).toBe(true);
    expect(gb.gradeUpdate('mod/quiz', 'b', [{ user: 'u', raw: 1 }]).refused).toEqual(['u']);
  });
  it('[FLAG-2] a lock time locks once it has passed; a locked total keeps its stored value', () => {
    const j = course('mean', {
      categories: [cat('k', 'mean', { locked: 1000 })],
      items: [item('a', 100, { category: 'k' })],
      grades: [...gradesOf('u', { a: 60 }), { user: 'u', item: 'k', final: 30 }],
    });
    const gb = loadCourse(j, { now: 500 });
    expect(gb.final('k', 'u')).toBe(60);
    expect(gb.isLocked('a', 'u')).toBe(false);
    gb.setNow(2000);
    expect(gb.final('k', 'u')).toBe(30);
    expect(gb.isLocked('a', 'u')).toBe(true);
  });
  it('[API-4] grade_update checks every grade before writing any', () => {
    const gb = loadCourse(course('mean', { items: [item('a', 100)], grades: gradesOf('u', { a: 40 }) }));
    expect(() =>
      gb.gradeUpdate('mod/quiz', 'a', [
        { user: 'u', raw: 50 },
        { user: 'ghost', raw: 1 },
      ]),
    ).toThrow(/unknown user "ghost"/);
    expect(() => gb.gradeUpdate('mod/quiz', 'a', [{ user: 'u', raw: Infinity }])).toThrow(/finite/);
    expect(gb.final('a', 'u')).toBe(40);
  });
  it('[API-3] setGrade names unknown items and users', () => {
    const gb = loadCourse(course('mean', { items: [item('a', 100)], grades: gradesOf('u', { a: 40 }) }));
    expect(() => gb.setGrade('nope', 'u', { raw: 1 })).toThrow(/unknown item "nope"/);
    expect(() => gb.setGrade('a', 'nobody', { raw: 1 })).toThrow(/unknown user "nobody"/);
  });
  it('[API-6][API-8] verify idnumber; removing course grades keeps the history', () => {
    const gb = loadCourse(course('mean', { items: [item('a', 100)], grades: gradesOf('u', { a: 40 }) }));
    expect(gb.verifyIdnumber('a')).toBe(false);
    expect(gb.verifyIdnumber('a', 'a')).toBe(true);
    expect(gb.verifyIdnumber('fresh')).toBe(true);
    gb.setGrade('a', 'u', { raw: 45 });
    gb.removeCourseGrades();
    expect(gb.toJson().grades).toEqual([]);
    expect(gb.history.map((h) => [h.item, h.oldValue?.raw ?? null, h.newValue?.raw ?? null])).toEqual([
      ['a', 40, 45],
      ['a', 45, null],
    ]);
  });
});

describe('regrade', () => {
  const small = (seed: number, students = 6): CourseJson =>
    generateCourse({ students, items: 24, levels: 2, fanout: 2, calculated: 2, seed });
  it('[REG-3] property: incremental regrade equals a full regrade after random grade changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(
          fc.record({
            item: fc.integer({ min: 0, max: 21 }),
            user: fc.integer({ min: 0, max: 5 }),
            raw: fc.option(fc.integer({ min: 0, max: 100 })),
            excl: fc.boolean(),
            ovr: fc.option(fc.integer({ min: 0, max: 10 })),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (seed, changes) => {
          const gb = loadCourse(small(seed));
          for (const c of changes) {
            gb.setGrade(`i${c.item}`, `u${c.user}`, { raw: c.raw, excluded: c.excl, overridden: c.ovr });
          }
          const incremental = finals(gb);
          const weights = gb.users.map((u) => gb.aggregation('i3', u));
          gb.regradeAll();
          expect(finals(gb)).toEqual(incremental);
          expect(gb.users.map((u) => gb.aggregation('i3', u))).toEqual(weights);
        },
      ),
      { numRuns: 40 },
    );
  });
  it('[REG-5] property: a one-user engine loaded with a user\'s row gives that user\'s finals of a full regrade', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 5 }), (seed, who) => {
        const json = small(seed);
        const full = new GradeEngine(json, { compileFormula: compileGradebookFormula });
        const user = full.users[who]!;
        const row = new GradeEngine({ ...json, grades: [], users: [{ id: 'x', name: 'x' }] }, { compileFormula: compileGradebookFormula });
        // load another user's row first: nothing of it may stay behind
        row.loadUserRow(0, json.grades.filter((g) => g.user === full.users[(who + 1) % full.users.length]));
        row.loadUserRow(0, json.grades.filter((g) => g.user === user));
        const u = full.userIndex.get(user)!;
        expect(full.derived.final.map((col) => col[u])).toEqual(row.derived.final.map((col) => col[0]));
        expect(full.derived.weight.map((col) => col[u])).toEqual(row.derived.weight.map((col) => col[0]));
      }),
      { numRuns: 40 },
    );
  });
  it('[REG-5] a row naming an unknown item is refused and changes nothing', () => {
    const json = small(3);
    const e = new GradeEngine(json, { compileFormula: compileGradebookFormula });
    const before = e.derived.final.map((col) => col[0]);
    expect(() => e.loadUserRow(0, [{ item: 'i0', raw: 1 }, { item: 'nope', raw: 2 }])).toThrow(/grades\[1\]\.item.*unknown item "nope"/);
    expect(e.derived.final.map((col) => col[0])).toEqual(before);
  });
  it('[REG-2] property: finals do not depend on the order of items and grades in the document', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (seed, shuffleSeed) => {
          const json = small(seed);
          const a = loadCourse(json);
          let s = shuffleSeed;
          const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
          const shuffle = <T>(xs: T[]): T[] =>
            xs
              .map((x) => [rnd(), x] as const)
              .sort((p, q) => p[0] - q[0])
              .map((p) => p[1]);
          const b = loadCourse({ ...json, items: shuffle(json.items), grades: shuffle(json.grades) });
          for (const u of a.users)
            for (const it of json.items) expect(b.final(it.id, u)).toBe(a.final(it.id, u));
          for (const u of a.users)
            for (const c of json.categories) expect(b.final(c.id, u)).toBe(a.final(c.id, u));
        },
      ),
      { numRuns: 30 },
    );
  });
  it('[NAT-1] property: the Natural weights of non-extra-credit children sum to 100 %', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            max: fc.integer({ min: 1, max: 500 }),
            extra: fc.boolean(),
            over: fc.option(fc.integer({ min: 1, max: 60 })),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        (specs) => {
          fc.pre(specs.some((s) => !s.extra));
          const items = specs.map((s, i) =>
            item(`i${i}`, s.max, {
              extraCredit: s.extra,
              ...(s.over !== null ? { weightOverride: true, weight: s.over / 100 } : {}),
            }),
          );
          const setup = loadCourse(course('natural', { items })).setupReport();
          const sum = setup
            .filter((r, i) => i < specs.length && !specs[i]!.extra)
            .reduce((t, r) => t + r.setupWeightPct!, 0);
          const allZero = setup
            .slice(0, specs.length)
            .every((r, i) => specs[i]!.extra || r.setupWeightPct === 0);
          // Weights are stored with 5 decimals, so the sum may be off by the rounding of each.
          if (!allZero) expect(Math.abs(sum - 100)).toBeLessThan(0.001 * specs.length);
        },
      ),
    );
  });
  it('[REG-2] a cancelled regrade leaves the previous results; progress is reported', () => {
    const gb = loadCourse(small(5, 3));
    const before = finals(gb);
    const src = cancelSource();
    let calls = 0;
    expect(() =>
      gb.regradeAll({
        cancel: src.token,
        onProgress: () => {
          calls++;
          src.cancel();
        },
      }),
    ).toThrow(CancelledError);
    expect(calls).toBeGreaterThan(0);
    expect(finals(gb)).toEqual(before);
    let last = [0, 0];
    gb.regradeAll({ onProgress: (d, t) => (last = [d, t]) });
    expect(last[0]).toBe(last[1]);
  });
  it('[REG-2] the pausing full regrade gives the same grades, and a cancel made during one of its pauses leaves the previous ones', async () => {
    const json = generateCourse({ students: 40, items: 30, levels: 3, calculated: 3, seed: 11 });
    const direct = new GradeEngine(json, { compileFormula: compileGradebookFormula });
    const deferred = new GradeEngine(json, { compileFormula: compileGradebookFormula, deferRegrade: true });
    const root = deferred.course.root;
    // deferred: nothing computed until the host runs the regrade
    expect(Number.isNaN(deferred.derived.final[root]![0]!)).toBe(true);
    let pauses = 0;
    await deferred.regradeAllAsync({ chunkNodes: 4, pause: async () => void pauses++ });
    expect(pauses).toBe(Math.floor(deferred.course.order.length / 4));
    expect(deferred.derived.final.map((c) => [...c!])).toEqual(direct.derived.final.map((c) => [...c!]));
    // cancel from the second pause: the grades stay those of the regrade that finished
    const before = deferred.derived.final.map((c) => [...c!]);
    const src = cancelSource();
    let seen = 0;
    await expect(
      deferred.regradeAllAsync({ chunkNodes: 2, cancel: src.token, pause: async () => void (++seen === 2 && src.cancel()) }),
    ).rejects.toThrow(CancelledError);
    expect(seen).toBe(2);
    expect(deferred.derived.final.map((c) => [...c!])).toEqual(before);
  });
  it('[API-1] toJson round-trips: reloading gives the same finals', () => {
    const gb = loadCourse(small(9));
    gb.setGrade('i2', 'u1', { raw: 3, hidden: 5000, feedback: 'well done' });
    const again = loadCourse(JSON.parse(JSON.stringify(gb.toJson())));
    expect(finals(again)).toEqual(finals(gb));
  });
});

describe('settings changes, outcomes and grade reads', () => {
  it('[API-7] an overridden course total is rescaled with the range and then left alone (grade_regrade_do_not_override.feature)', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100)],
        grades: [
          ...gradesOf('s1', { a: 50 }),
          ...gradesOf('s2', { a: 90 }),
          { user: 's1', item: 'course', overridden: 80 },
        ],
      }),
    );
    gb.updateCategory('course', { grademax: 200 }, { rescale: true });
    expect(gb.final('course', 's1')).toBe(160);
    expect(gb.final('course', 's2')).toBe(180);
    gb.gradeUpdate('mod/assign', 'a', [{ user: 's1', raw: 20 }]);
    expect(gb.final('course', 's1')).toBe(160);
  });
  it('[API-7] an invalid settings change is refused and changes nothing', () => {
    const gb = loadCourse(course('mean', { items: [item('a', 100)], grades: gradesOf('u', { a: 40 }) }));
    expect(() => gb.updateItem('a', { grademax: -5 })).toThrow(/grademax: must not be below grademin/);
    expect(gb.final('a', 'u')).toBe(40);
    expect(gb.getGrades('a').item.grademax).toBe(100);
  });
  it('[API-10] outcome items count only where the category aggregates outcomes; updates are checked', () => {
    const outcome = item('o', 3, {
      outcome: true,
      gradetype: 'scale',
      scale: ['No', 'Partly', 'Yes'],
      grademin: 1,
    });
    const json = course('mean', {
      items: [item('a', 100), outcome],
      grades: [...gradesOf('u', { a: 40 }), { user: 'u', item: 'o', final: 3 }],
    });
    expect(loadCourse(json).final('course', 'u')).toBe(40);
    const gb = loadCourse({ ...json, categories: [{ ...json.categories[0]!, aggregateOutcomes: true }] });
    expect(gb.final('course', 'u')).toBe(70); // (0.4 + 1) / 2
    expect(gb.outcomeItems()).toEqual([{ id: 'o', name: 'o', scale: ['No', 'Partly', 'Yes'] }]);
    gb.updateOutcomes('mod/forum', 'u', { o: 1 });
    expect(gb.final('course', 'u')).toBe(20);
    expect(() => gb.updateOutcomes('mod/forum', 'u', { o: 5 })).toThrow(
      /values\.o: must be a scale position 1\.\.3/,
    );
    expect(() => gb.updateOutcomes('mod/forum', 'u', { a: 1 })).toThrow(/"a" is not an outcome item/);
  });
  it('[API-9] getGrades reports grade, flags and feedback per user', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100)],
        grades: [
          { user: 'u', item: 'a', raw: 40, overridden: 45, feedback: 'Good', hidden: true },
          ...gradesOf('v', { a: null }),
        ],
      }),
    );
    const r = gb.getGrades('a');
    expect(r.grades.u).toEqual({
      grade: 45,
      overridden: true,
      excluded: false,
      hidden: true,
      locked: false,
      feedback: 'Good',
    });
    expect(r.grades.v!.grade).toBeNull();
  });
});

describe('grade_update with item details (lib/tests/gradelib_test.php test_grade_update)', () => {
  it('[API-4] creates the item when it does not exist, then takes the grades', () => {
    const gb = loadCourse(course('natural', { items: [item('a', 100)], grades: gradesOf('u', { a: 40 }) }));
    gb.gradeUpdate('mod/quiz', 'quiz7', [{ user: 'u', raw: 8 }], {
      idnumber: 'quiz7',
      category: 'root',
      name: 'Quiz 7',
      grademin: 0,
      grademax: 10,
    });
    expect(gb.final('quiz7', 'u')).toBe(8);
    expect(gb.final('course', 'u')).toBe(48);
    expect(gb.range('course', 'u')).toEqual([0, 110]);
  });
});

describe("applyChange (the CRDT layer's changes)", () => {
  it('[API-11] a grade change regrades the user; setup changes regrade all; invalid changes change nothing', () => {
    const gb = loadCourse(
      course('natural', { items: [item('a', 100), item('b', 50)], grades: gradesOf('u', { a: 40, b: 10 }) }),
    );
    expect(gb.applyChange({ kind: 'grade', item: 'b', user: 'u', patch: { raw: 30 } })).toEqual({
      regraded: 'user',
      courseTotal: 70,
    });
    expect(gb.applyChange({ kind: 'item', id: 'b', patch: { extraCredit: true } }).regraded).toBe('all');
    expect(gb.range('course', 'u')).toEqual([0, 100]);
    gb.applyChange({ kind: 'addItem', item: item('c', 20) });
    gb.applyChange({ kind: 'addUsers', users: [{ id: 'v', name: 'New student' }] });
    expect(gb.users).toContain('v');
    expect(gb.final('course', 'v')).toBeNull();
    gb.applyChange({ kind: 'settings', patch: { hideTotalsWithHiddenItems: 'include_hidden' } });
    expect(gb.toJson().settings.hideTotalsWithHiddenItems).toBe('include_hidden');
    expect(() =>
      gb.applyChange({ kind: 'addCategory', category: cat('k', 'mean', { parent: 'nowhere' }) }),
    ).toThrow(/\$\.categories\[1\]\.parent: unknown category "nowhere"/);
    expect(gb.toJson().categories).toHaveLength(1);
    expect(gb.final('course', 'u')).toBe(70);
  });
});

describe('incremental regrade with totals changed directly', () => {
  it('[REG-3] property: overriding, locking and excluding category totals incrementally equals a full regrade', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(
          fc.record({
            cat: fc.integer({ min: 1, max: 6 }),
            user: fc.integer({ min: 0, max: 4 }),
            ovr: fc.option(fc.integer({ min: 0, max: 100 })),
            excl: fc.boolean(),
            locked: fc.boolean(),
            final: fc.option(fc.integer({ min: 0, max: 100 })),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        (seed, changes) => {
          const gb = loadCourse(
            generateCourse({ students: 5, items: 24, levels: 2, fanout: 2, calculated: 2, seed }),
          );
          for (const c of changes) {
            gb.setGrade(`cat${c.cat}`, `u${c.user}`, {
              overridden: c.ovr,
              excluded: c.excl,
              locked: c.locked,
              final: c.final,
            });
          }
          const incremental = finals(gb);
          gb.regradeAll();
          expect(finals(gb)).toEqual(incremental);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('bad input never crashes', () => {
  it('[API-1][JSON-1] property: any field set to any JSON value either loads or is a ValidationError naming a path', () => {
    const base = generateCourse({ students: 2, items: 8, levels: 1, fanout: 2, calculated: 1, seed: 3 });
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, at: (string | number)[]) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
      paths.push(at);
    };
    walk(base, []);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: paths.length - 1 }), fc.jsonValue(), (i, value) => {
        const doc = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
        const path = paths[i]!;
        if (path.length === 0) return;
        let parent: Record<string | number, unknown> = doc;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        parent[path.at(-1)!] = value;
        try {
          loadCourse(doc);
        } catch (e) {
          expect(e).toBeInstanceOf(ValidationError);
          expect((e as ValidationError).problems[0]!.at).toMatch(/^\$/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

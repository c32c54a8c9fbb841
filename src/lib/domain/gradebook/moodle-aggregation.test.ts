// grade/tests/behat/grade_aggregation.feature re-encoded: one course, every method, teacher totals and the
// student's "show totals excluding hidden items" totals, compared as Moodle displays them (2 decimals).
// SPEC.md AGG-*, NAT-*, HID-*, REP-*.
import { describe, expect, it } from 'vitest';
import { loadCourse, formatFloat, type Gradebook } from './index.ts';
import type { Aggregation, CourseCategory, CourseItem, CourseJson } from '../interchange/course-types.ts';

// Background: Sub category 1 (a5 20, a6 10, a7 15), Sub category 2 & (a8 20, a9 10, a10 15), course items
// a1 300, a2 100, a3 150, a4 150; Student 1 graded a1 60, a2 20, a3 40, a5 10, a6 5, a8 10, a9 5; a2, a5, a8 hidden.
function background(opts: {
  course: Aggregation;
  sub1?: Aggregation;
  sub2?: Aggregation;
  courseExtra?: Partial<CourseCategory>;
  sub1Extra?: Partial<CourseCategory>;
  sub2Extra?: Partial<CourseCategory>;
  items?: Record<string, Partial<CourseItem>>;
  extraItems?: CourseItem[];
  extraGrades?: CourseJson['grades'];
}): CourseJson {
  const it = (id: string, category: string, grademax: number): CourseItem => ({
    id,
    idnumber: id,
    category,
    name: id,
    grademin: 0,
    grademax,
    ...(['a2', 'a5', 'a8'].includes(id) ? { hidden: true } : {}),
    ...opts.items?.[id],
  });
  const raws: Record<string, number> = { a1: 60, a2: 20, a3: 40, a5: 10, a6: 5, a8: 10, a9: 5 };
  return {
    categories: [
      { id: 'c1', parent: null, name: 'Course 1', aggregation: opts.course, ...opts.courseExtra },
      {
        id: 'sub1',
        parent: 'c1',
        name: 'Sub category 1',
        aggregation: opts.sub1 ?? 'natural',
        ...opts.sub1Extra,
      },
      {
        id: 'sub2',
        parent: 'c1',
        name: 'Sub category 2 &',
        aggregation: opts.sub2 ?? 'natural',
        ...opts.sub2Extra,
      },
    ],
    items: [
      it('a1', 'c1', 300),
      it('a2', 'c1', 100),
      it('a3', 'c1', 150),
      it('a4', 'c1', 150),
      it('a5', 'sub1', 20),
      it('a6', 'sub1', 10),
      it('a7', 'sub1', 15),
      it('a8', 'sub2', 20),
      it('a9', 'sub2', 10),
      it('a10', 'sub2', 15),
      ...(opts.extraItems ?? []),
    ],
    grades: [
      ...Object.entries(raws).map(([item, raw]) => ({ user: 's1', item, raw })),
      ...(opts.extraGrades ?? []),
    ],
    settings: { hideTotalsWithHiddenItems: 'exclude_hidden' },
  };
}

/** "60.00 (20.00 %)" as Moodle's Real (percentage) display shows a report row. */
function shown(gb: Gradebook, viewer: 'teacher' | 'student', item = 'course'): string {
  const row = gb.userReport('s1', { viewer, now: 0 }).find((r) => r.item === item)!;
  return row.final === null ? '-' : `${formatFloat(row.final, 2)} (${formatFloat(row.percentage!, 2)} %)`;
}

/** User report rows as [item, weight, grade, range, contribution] strings. */
const table = (g: Gradebook, viewer: 'teacher' | 'student') =>
  g
    .userReport('s1', { viewer, now: 0 })
    .map((r) => [
      r.item,
      r.weightPct === null ? '-' : `${formatFloat(r.weightPct, 2)} %`,
      r.final === null ? '-' : `${formatFloat(r.final, 2)} (${formatFloat(r.percentage!, 2)} %)`,
      `${r.range[0]}–${r.range[1]}`,
      r.contributionPct === null ? '-' : `${formatFloat(r.contributionPct, 2)} %`,
    ]);

describe('grade_aggregation.feature', () => {
  it.each([
    [
      'mean',
      { course: 'mean', sub1: 'mean', sub2: 'mean', sub2Extra: { aggregateOnlyGraded: false } },
      '30.00 (30.00 %)',
      '30.42 (30.42 %)',
    ],
    [
      'weighted_mean',
      {
        course: 'weighted_mean',
        sub1: 'weighted_mean',
        sub2: 'weighted_mean',
        sub1Extra: { weight: 1 },
        sub2Extra: { weight: 1, aggregateOnlyGraded: false },
        items: { a1: { weight: 3 } },
      },
      '27.14 (27.14 %)',
      '26.94 (26.94 %)',
    ],
    [
      'simple_weighted_mean',
      {
        course: 'simple_weighted_mean',
        sub1: 'simple_weighted_mean',
        sub2: 'simple_weighted_mean',
        sub2Extra: { aggregateOnlyGraded: false },
        items: { a1: { extraCredit: true } },
      },
      '45.19 (45.19 %)',
      '48.57 (48.57 %)',
    ],
    [
      'extra_credit_mean',
      {
        course: 'extra_credit_mean',
        sub1: 'extra_credit_mean',
        sub2: 'extra_credit_mean',
        sub2Extra: { aggregateOnlyGraded: false },
        items: { a1: { extraCreditWeight: 2 } },
      },
      '42.50 (42.50 %)',
      '47.22 (47.22 %)',
    ],
    [
      'median',
      { course: 'median', sub1: 'median', sub2: 'median', sub2Extra: { aggregateOnlyGraded: false } },
      '26.67 (26.67 %)',
      '25.83 (25.83 %)',
    ],
    [
      'lowest',
      {
        course: 'lowest',
        sub1: 'lowest',
        sub2: 'lowest',
        sub2Extra: { aggregateOnlyGraded: false },
        items: { a4: { hidden: true } },
      },
      '0.00 (0.00 %)',
      '0.00 (0.00 %)',
    ],
    [
      'highest',
      {
        course: 'highest',
        sub1: 'highest',
        sub2: 'highest',
        sub2Extra: { aggregateOnlyGraded: false },
        items: { a1: { hidden: true } },
      },
      '50.00 (50.00 %)',
      '50.00 (50.00 %)',
    ],
    [
      'mode',
      {
        course: 'mode',
        sub1: 'mode',
        sub1Extra: { aggregateOnlyGraded: false },
        items: { a1: { hidden: true } },
      },
      '50.00 (50.00 %)',
      '50.00 (50.00 %)',
    ],
  ] as const)('[AGG-0] %s: teacher %s, student %s', (_m, opts, teacher, student) => {
    const gb = loadCourse(background(opts as Parameters<typeof background>[0]));
    expect(shown(gb, 'teacher')).toBe(teacher);
    expect(shown(gb, 'student')).toBe(student);
  });

  const outcome = (extra: Partial<CourseItem> = {}): CourseItem => ({
    id: 'o1',
    idnumber: 'o1',
    category: 'c1',
    name: 'Test outcome item one',
    gradetype: 'scale',
    scale: ['Disappointing', 'Good', 'Very good', 'Excellent'],
    grademin: 1,
    grademax: 4,
    outcome: true,
    ...extra,
  });
  it('[HID-3] Natural with an outcome item: 114.82 (18.27 %), then 114.00 (18.39 %) as extra credit, 110.00 (17.74 %) without outcomes', () => {
    const build = (extraCredit: boolean, aggregateOutcomes: boolean) =>
      loadCourse(
        background({
          course: 'natural',
          courseExtra: { aggregateOutcomes, aggregateOnlyGraded: false },
          extraItems: [outcome(extraCredit ? { extraCredit: true } : {})],
          extraGrades: [{ user: 's1', item: 'o1', final: 4 }],
        }),
      );
    expect(shown(build(false, true), 'student')).toBe('114.82 (18.27 %)');
    expect(shown(build(true, true), 'student')).toBe('114.00 (18.39 %)');
    expect(shown(build(true, false), 'student')).toBe('110.00 (17.74 %)');
  });
  it('[NAT-2] Natural with an outcome item overridden to 100 %: 4.00 (100.00 %)', () => {
    const gb = loadCourse(
      background({
        course: 'natural',
        courseExtra: { aggregateOutcomes: true, aggregateOnlyGraded: false },
        extraItems: [outcome({ weightOverride: true, weight: 1 })],
        extraGrades: [{ user: 's1', item: 'o1', final: 4 }],
      }),
    );
    expect(shown(gb, 'student')).toBe('4.00 (100.00 %)');
  });

  describe('Natural aggregation', () => {
    const gb = () =>
      loadCourse(
        background({
          course: 'natural',
          courseExtra: { aggregateOnlyGraded: false },
          sub1Extra: { aggregateOnlyGraded: false },
          sub2Extra: { aggregateOnlyGraded: true },
          items: { a6: { weightOverride: true, weight: 0.5 }, a3: { extraCredit: true } },
        }),
      );
    const table = (g: Gradebook, viewer: 'teacher' | 'student') =>
      g
        .userReport('s1', { viewer, now: 0 })
        .map((r) => [
          r.item,
          r.weightPct === null ? '-' : `${formatFloat(r.weightPct, 2)} %`,
          r.final === null ? '-' : `${formatFloat(r.final, 2)} (${formatFloat(r.percentage!, 2)} %)`,
          `${r.range[0]}–${r.range[1]}`,
          r.contributionPct === null ? '-' : `${formatFloat(r.contributionPct, 2)} %`,
        ]);
    it('[AGG-9][REP-5] teacher: 152.68 (24.43 %) and the user report weights and contributions', () => {
      const g = gb();
      expect(shown(g, 'teacher')).toBe('152.68 (24.43 %)');
      const rows = table(g, 'teacher');
      expect(rows).toEqual(
        expect.arrayContaining([
          ['a5', '28.57 %', '10.00 (50.00 %)', '0–20', '1.03 %'],
          ['a6', '50.00 %', '5.00 (50.00 %)', '0–10', '1.80 %'],
          ['a7', '21.43 %', '-', '0–15', '0.00 %'],
          ['a8', '66.67 %', '10.00 (50.00 %)', '0–20', '1.60 %'],
          ['a9', '33.33 %', '5.00 (50.00 %)', '0–10', '0.80 %'],
          ['a10', '0.00 %', '-', '0–15', '0.00 %'],
          ['a1', '48.00 %', '60.00 (20.00 %)', '0–300', '9.60 %'],
          ['a2', '16.00 %', '20.00 (20.00 %)', '0–100', '3.20 %'],
          ['a3', '24.00 %', '40.00 (26.67 %)', '0–150', '6.40 %'],
          ['a4', '24.00 %', '-', '0–150', '0.00 %'],
        ]),
      );
    });
    it('[HID-6][REP-5] student: 113.75 (23.45 %) with recomputed weights and contributions', () => {
      const g = gb();
      expect(shown(g, 'student')).toBe('113.75 (23.45 %)');
      expect(table(g, 'student')).toEqual(
        expect.arrayContaining([
          ['a6', '70.00 %', '5.00 (50.00 %)', '0–10', '1.80 %'],
          ['a7', '30.00 %', '-', '0–15', '0.00 %'],
          ['a9', '100.00 %', '5.00 (50.00 %)', '0–10', '1.03 %'],
          ['a10', '-', '-', '0–15', '-'],
          ['a1', '61.86 %', '60.00 (20.00 %)', '0–300', '12.37 %'],
          ['a3', '30.93 %', '40.00 (26.67 %)', '0–150', '8.25 %'],
          ['a4', '30.93 %', '-', '0–150', '0.00 %'],
        ]),
      );
    });
  });

  it('[NAT-4] Natural with drop lowest: 250.00 (25.25 %); extra credit, a different max or a sub-category stop the drop', () => {
    const sub3 = (extra: Partial<CourseItem> = {}): Parameters<typeof background>[0] => ({
      course: 'natural',
      courseExtra: { aggregateOnlyGraded: false },
      sub1Extra: { aggregateOnlyGraded: false },
      sub2Extra: { aggregateOnlyGraded: false },
      extraItems: [
        { id: 'm1', idnumber: 'm1', category: 'sub3', name: 'Manual item 1', grademin: 0, grademax: 100 },
        {
          id: 'm2',
          idnumber: 'm2',
          category: 'sub3',
          name: 'Manual item 2',
          grademin: 0,
          grademax: 100,
          ...extra,
        },
        { id: 'm3', idnumber: 'm3', category: 'sub3', name: 'Manual item 3', grademin: 0, grademax: 100 },
      ],
      extraGrades: [
        { user: 's1', item: 'm1', final: 60 },
        { user: 's1', item: 'm2', final: 20 },
        { user: 's1', item: 'm3', final: 40 },
      ],
    });
    const build = (extra: Partial<CourseItem> = {}, subsub = false) => {
      const json = background(sub3(extra));
      json.categories.push({
        id: 'sub3',
        parent: 'c1',
        name: 'Sub category 3',
        aggregation: 'natural',
        dropLowest: 1,
      });
      if (subsub)
        json.categories.push({
          id: 'subsub',
          parent: 'sub3',
          name: 'Sub sub category 1',
          aggregation: 'natural',
        });
      return loadCourse(json);
    };
    expect(shown(build(), 'teacher')).toBe('250.00 (25.25 %)');
    expect(shown(build({ extraCredit: true }), 'teacher')).toBe('270.00 (27.27 %)');
    expect(shown(build({ grademax: 200 }), 'teacher')).toBe('270.00 (22.69 %)');
    expect(shown(build({}, true), 'teacher')).toBe('270.00 (24.77 %)');
  });

  it('[NAT-2][NAT-3] Natural with weights of zero: 75.00 (16.85 %), student 45.00 (13.85 %)', () => {
    const g = loadCourse(
      background({
        course: 'natural',
        courseExtra: { aggregateOnlyGraded: false },
        sub1Extra: { aggregateOnlyGraded: false },
        sub2Extra: { aggregateOnlyGraded: false },
        items: {
          a1: { weightOverride: true, weight: 0 },
          a6: { weightOverride: true, weight: 0 },
          a9: { weightOverride: true, weight: 1 },
        },
      }),
    );
    expect(shown(g, 'teacher')).toBe('75.00 (16.85 %)');
    const cols = (rows: string[][]) => rows.map(([item, w, grade, , c]) => [item, w, grade, c]);
    expect(cols(table(g, 'teacher'))).toEqual(
      expect.arrayContaining([
        ['a5', '57.14 %', '10.00 (50.00 %)', '2.25 %'],
        ['a6', '0.00 %', '5.00 (50.00 %)', '0.00 %'],
        ['a7', '42.86 %', '-', '0.00 %'],
        ['a8', '0.00 %', '10.00 (50.00 %)', '0.00 %'],
        ['a9', '100.00 %', '5.00 (50.00 %)', '1.12 %'],
        ['a10', '0.00 %', '-', '0.00 %'],
        ['a1', '0.00 %', '60.00 (20.00 %)', '0.00 %'],
        ['a2', '22.47 %', '20.00 (20.00 %)', '4.49 %'],
        ['a3', '33.71 %', '40.00 (26.67 %)', '8.99 %'],
        ['a4', '33.71 %', '-', '0.00 %'],
      ]),
    );
    expect(shown(g, 'student')).toBe('45.00 (13.85 %)');
    expect(cols(table(g, 'student'))).toEqual(
      expect.arrayContaining([
        ['a6', '0.00 %', '5.00 (50.00 %)', '0.00 %'],
        ['a7', '100.00 %', '-', '0.00 %'],
        ['a9', '100.00 %', '5.00 (50.00 %)', '1.54 %'],
        ['a10', '0.00 %', '-', '0.00 %'],
        ['a1', '0.00 %', '60.00 (20.00 %)', '0.00 %'],
        ['a3', '46.15 %', '40.00 (26.67 %)', '12.31 %'],
        ['a4', '46.15 %', '-', '0.00 %'],
      ]),
    );
  });
});

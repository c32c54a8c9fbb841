// grade/tests/behat/grade_calculated_weights.feature re-encoded: calculated weight and contribution to the
// course total for every method, with a Natural (or other) sub-category (REP-5, AGG-*).
import { describe, expect, it } from 'vitest';
import { loadCourse, formatFloat } from './index.ts';
import type { Aggregation, CourseItem, CourseJson } from '../interchange/course-types.ts';

// a1 60, a2 20, a3 40 in the course; a4 10, a5 70, a6 30 in "Sub category"; every item out of 100.
function build(
  courseAgg: Aggregation,
  subAgg: Aggregation,
  items: Record<string, Partial<CourseItem>> = {},
): string[][] {
  const raws: Record<string, number> = { a1: 60, a2: 20, a3: 40, a4: 10, a5: 70, a6: 30 };
  const json: CourseJson = {
    categories: [
      { id: 'c1', parent: null, name: 'Course 1', aggregation: courseAgg },
      { id: 'sub', parent: 'c1', name: 'Sub category', aggregation: subAgg },
    ],
    items: Object.keys(raws).map((id, i) => ({
      id,
      idnumber: id,
      category: i < 3 ? 'c1' : 'sub',
      name: id,
      grademin: 0,
      grademax: 100,
      ...items[id],
    })),
    grades: Object.entries(raws).map(([item, raw]) => ({ user: 's1', item, raw })),
    settings: {},
  };
  const pct = (v: number | null) => (v === null ? '-' : `${formatFloat(v, 2)} %`);
  return loadCourse(json)
    .userReport('s1', { viewer: 'teacher', now: 0 })
    .map((r) => [
      r.item,
      pct(r.weightPct),
      r.final === null ? '-' : formatFloat(r.final, 2),
      pct(r.contributionPct),
    ]);
}

const w = (rows: [string, string, string][]) =>
  rows.map(([item, weight, contribution]) => [
    item,
    weight,
    { a1: '60.00', a2: '20.00', a3: '40.00', a4: '10.00', a5: '70.00', a6: '30.00' }[item]!,
    contribution,
  ]);

describe('grade_calculated_weights.feature', () => {
  it.each([
    [
      'mean',
      'mean',
      'natural',
      {},
      [
        ['a1', '25.00 %', '15.00 %'],
        ['a2', '25.00 %', '5.00 %'],
        ['a3', '25.00 %', '10.00 %'],
        ['a4', '33.33 %', '0.83 %'],
        ['a5', '33.33 %', '5.83 %'],
        ['a6', '33.33 %', '2.50 %'],
      ],
    ],
    [
      'weighted mean',
      'weighted_mean',
      'natural',
      { a1: { weight: 2 } },
      [
        ['a1', '40.00 %', '24.00 %'],
        ['a2', '20.00 %', '4.00 %'],
        ['a3', '20.00 %', '8.00 %'],
        ['a4', '33.33 %', '0.67 %'],
        ['a5', '33.33 %', '4.67 %'],
        ['a6', '33.33 %', '2.00 %'],
      ],
    ],
    [
      'simple weighted mean',
      'simple_weighted_mean',
      'simple_weighted_mean',
      { a3: { extraCredit: true } },
      [
        ['a1', '33.33 %', '20.00 %'],
        ['a2', '33.33 %', '6.67 %'],
        ['a3', '33.33 %', '13.33 %'],
        ['a4', '33.33 %', '1.11 %'],
        ['a5', '33.33 %', '7.78 %'],
        ['a6', '33.33 %', '3.33 %'],
      ],
    ],
    [
      'mean with extra credits',
      'extra_credit_mean',
      'natural',
      { a3: { extraCreditWeight: 1 } },
      [
        ['a1', '33.33 %', '20.00 %'],
        ['a2', '33.33 %', '6.67 %'],
        ['a3', '33.33 %', '13.33 %'],
        ['a4', '33.33 %', '1.11 %'],
        ['a5', '33.33 %', '7.78 %'],
        ['a6', '33.33 %', '3.33 %'],
      ],
    ],
    [
      'median',
      'median',
      'natural',
      {},
      [
        ['a1', '0.00 %', '0.00 %'],
        ['a2', '0.00 %', '0.00 %'],
        ['a3', '50.00 %', '20.00 %'],
        ['a4', '33.33 %', '1.67 %'],
        ['a5', '33.33 %', '11.67 %'],
        ['a6', '33.33 %', '5.00 %'],
      ],
    ],
    [
      'lowest',
      'lowest',
      'natural',
      {},
      [
        ['a1', '0.00 %', '0.00 %'],
        ['a2', '100.00 %', '20.00 %'],
        ['a3', '0.00 %', '0.00 %'],
        ['a4', '33.33 %', '0.00 %'],
        ['a5', '33.33 %', '0.00 %'],
        ['a6', '33.33 %', '0.00 %'],
      ],
    ],
    [
      'highest',
      'highest',
      'natural',
      {},
      [
        ['a1', '100.00 %', '60.00 %'],
        ['a2', '0.00 %', '0.00 %'],
        ['a3', '0.00 %', '0.00 %'],
        ['a4', '33.33 %', '0.00 %'],
        ['a5', '33.33 %', '0.00 %'],
        ['a6', '33.33 %', '0.00 %'],
      ],
    ],
    [
      'mode',
      'mode',
      'natural',
      {},
      [
        ['a1', '100.00 %', '60.00 %'],
        ['a2', '0.00 %', '0.00 %'],
        ['a3', '0.00 %', '0.00 %'],
        ['a4', '33.33 %', '0.00 %'],
        ['a5', '33.33 %', '0.00 %'],
        ['a6', '33.33 %', '0.00 %'],
      ],
    ],
  ] as const)('[REP-5] %s', (_name, courseAgg, subAgg, items, expected) => {
    expect(build(courseAgg, subAgg, items)).toEqual(
      expect.arrayContaining(w(expected as unknown as [string, string, string][])),
    );
  });
  it('[REP-5] mixed methods: Natural course, weighted-mean sub-category, extra credit', () => {
    const rows = build('natural', 'weighted_mean', { a3: { extraCredit: true } });
    expect(rows).toEqual(
      expect.arrayContaining([
        ...w([
          ['a1', '33.33 %', '20.00 %'],
          ['a2', '33.33 %', '6.67 %'],
          ['a3', '33.33 %', '13.33 %'],
          ['a4', '33.33 %', '1.11 %'],
          ['a5', '33.33 %', '7.78 %'],
          ['a6', '33.33 %', '3.33 %'],
        ]),
        ['sub', '33.33 %', '36.67', '-'],
        ['course', '-', '156.67', '-'],
      ]),
    );
  });
  it('[REP-5] Natural everywhere with extra credit', () => {
    const rows = build('natural', 'natural', { a3: { extraCredit: true } });
    expect(rows).toEqual(
      expect.arrayContaining([
        ...w([
          ['a1', '20.00 %', '12.00 %'],
          ['a2', '20.00 %', '4.00 %'],
          ['a3', '20.00 %', '8.00 %'],
          ['a4', '33.33 %', '2.00 %'],
          ['a5', '33.33 %', '14.00 %'],
          ['a6', '33.33 %', '6.00 %'],
        ]),
        ['sub', '60.00 %', '110.00', '-'],
        ['course', '-', '230.00', '-'],
      ]),
    );
  });
});

describe('grade_mingrade.feature', () => {
  // Natural everywhere with empty grades as zero; minima -100 and 50. Manual grades are stored bounded
  // (Student 2's 0.00 on Manual item 2, min 50, is stored as 50).
  const json = (finals: Record<string, number>): CourseJson => ({
    categories: [
      { id: 'c1', parent: null, name: 'Course 1', aggregation: 'natural', aggregateOnlyGraded: false },
      {
        id: 'sub1',
        parent: 'c1',
        name: 'Sub category 1',
        aggregation: 'natural',
        aggregateOnlyGraded: false,
      },
      {
        id: 'sub2',
        parent: 'c1',
        name: 'Sub category 2',
        aggregation: 'natural',
        aggregateOnlyGraded: false,
      },
    ],
    items: [
      ['mi1', 'c1', -100, 100],
      ['mi2', 'c1', 50, 100],
      ['mi3', 'sub1', -100, 50],
      ['mi4', 'sub1', -100, 100],
      ['mi5', 'sub2', 50, 100],
      ['mi6', 'sub2', 50, 100],
    ].map(([id, category, grademin, grademax]) => ({
      id: id as string,
      idnumber: id as string,
      category: category as string,
      name: id as string,
      grademin: grademin as number,
      grademax: grademax as number,
    })),
    grades: Object.entries(finals).map(([item, final]) => ({ user: 's', item, raw: null, final })),
    settings: {},
  });
  const rows = (finals: Record<string, number>) =>
    loadCourse(json(finals))
      .userReport('s', { viewer: 'teacher', now: 0 })
      .filter((r) => r.item.startsWith('mi'))
      .map((r) => [
        r.item,
        `${formatFloat(r.weightPct!, 2)} %`,
        formatFloat(r.final!, 2),
        `${formatFloat(r.contributionPct!, 2)} %`,
      ]);
  it('[AGG-9][REP-5] Student 1: negative grades keep their points', () => {
    expect(rows({ mi1: -25, mi2: 50, mi3: -80, mi4: -10, mi5: 50, mi6: 75 })).toEqual([
      ['mi1', '18.18 %', '-25.00', '-4.55 %'],
      ['mi2', '18.18 %', '50.00', '9.09 %'],
      ['mi3', '33.33 %', '-80.00', '-14.55 %'],
      ['mi4', '66.67 %', '-10.00', '-1.82 %'],
      ['mi5', '50.00 %', '50.00', '9.09 %'],
      ['mi6', '50.00 %', '75.00', '13.64 %'],
    ]);
  });
  it('[AGG-9][REP-5] Student 2', () => {
    expect(rows({ mi1: 0, mi2: 50, mi3: -10, mi4: 50, mi5: 50, mi6: 50 })).toEqual([
      ['mi1', '18.18 %', '0.00', '0.00 %'],
      ['mi2', '18.18 %', '50.00', '9.09 %'],
      ['mi3', '33.33 %', '-10.00', '-1.82 %'],
      ['mi4', '66.67 %', '50.00', '9.09 %'],
      ['mi5', '50.00 %', '50.00', '9.09 %'],
      ['mi6', '50.00 %', '50.00', '9.09 %'],
    ]);
  });
});

describe('grade_contribution_with_extra_credit.feature', () => {
  // Manual item 1 out of 150 graded 80; items 2-4 out of 100 are extra credit, graded 10, 70, 90.
  it.each([
    ['natural', ['100.00 %', '53.33 %', '66.67 %', '6.67 %', '57.14 %', '40.00 %']],
    ['simple_weighted_mean', ['100.00 %', '53.33 %', '66.67 %', '6.67 %', '57.14 %', '40.00 %']],
    ['extra_credit_mean', ['100.00 %', '53.33 %', '100.00 %', '10.00 %', '52.38 %', '36.67 %']],
  ] as const)(
    '[AGG-7][AGG-8][AGG-9] %s: extra-credit weights are cut at the bound',
    (method, [m1w, m1c, m2w, m2c, m3w, m3c]) => {
      const extra = method === 'extra_credit_mean' ? { extraCreditWeight: 1 } : { extraCredit: true };
      const json: CourseJson = {
        categories: [{ id: 'c1', parent: null, name: 'Course 1', aggregation: method }],
        items: [
          { id: 'm1', idnumber: 'm1', category: 'c1', name: 'Manual item 1', grademin: 0, grademax: 150 },
          ...['m2', 'm3', 'm4'].map((id) => ({
            id,
            idnumber: id,
            category: 'c1',
            name: id,
            grademin: 0,
            grademax: 100,
            ...extra,
          })),
        ],
        grades: Object.entries({ m1: 80, m2: 10, m3: 70, m4: 90 }).map(([item, final]) => ({
          user: 's',
          item,
          raw: null,
          final,
        })),
        settings: {},
      };
      const rows = loadCourse(json)
        .userReport('s', { viewer: 'teacher', now: 0 })
        .map((r) => [
          r.item,
          `${formatFloat(r.weightPct ?? NaN, 2)} %`,
          `${formatFloat(r.contributionPct ?? NaN, 2)} %`,
        ]);
      expect(rows.slice(0, 4)).toEqual([
        ['m1', m1w, m1c],
        ['m2', m2w, m2c],
        ['m3', m3w, m3c],
        ['m4', '0.00 %', '0.00 %'],
      ]);
    },
  );
});

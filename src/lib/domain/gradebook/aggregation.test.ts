// Aggregation scenarios re-encoded from Moodle's behat features and PHPUnit tests (SPEC.md AGG-*, NAT-*, LIM-*).
// Each test names the Moodle test it mirrors; expected values are Moodle's, or hand arithmetic where stated.
import { describe, expect, it } from 'vitest';
import { loadCourse } from './index.ts';
import { applyLimitRules } from './limit-rules.ts';
import { course, item, cat, gradesOf } from '../../../../test/fixtures/courses/builder.ts';
import type { Aggregation } from '../interchange/course-types.ts';

const LETTERS5 = ['F', 'D', 'C', 'B', 'A'];

describe('scales in totals (grade/tests/behat/grade_scales_aggregation.feature)', () => {
  // A 0-100 item graded 10 and a 5-point scale graded B (4 of 1..5).
  const build = (method: Aggregation, includeScales = true) =>
    loadCourse(
      course(method, {
        items: [item('a', 100), item('s', 5, { gradetype: 'scale', scale: LETTERS5, grademin: 1 })],
        grades: [
          { user: 'u', item: 'a', raw: 10 },
          { user: 'u', item: 's', final: 4 },
        ],
        settings: { includeScalesInAggregation: includeScales },
      }),
    );
  it.each([
    ['natural', 14, 105],
    ['mean', 42.5, 100],
    ['simple_weighted_mean', 12.5, 100],
    ['lowest', 10, 100],
    ['highest', 75, 100],
    ['mode', 75, 100],
  ] as const)('[AGG-0] %s gives %d out of %d', (method, total, max) => {
    const gb = build(method);
    expect(gb.final('course', 'u')).toBe(total);
    expect(gb.range('course', 'u')).toEqual([0, max]);
  });
  it.each(['natural', 'mean', 'simple_weighted_mean', 'lowest', 'highest', 'mode'] as const)(
    '[AGG-0] scales excluded from aggregation: %s gives 10',
    (method) => expect(build(method, false).final('course', 'u')).toBe(10),
  );
});

describe('scales (grade/tests/behat/grade_scales.feature, grade_single_item_scales.feature)', () => {
  const scaleCourse = (method: Aggregation, labels: string[], value: number) =>
    loadCourse(
      course(method, {
        items: [item('s', labels.length, { gradetype: 'scale', scale: labels, grademin: 1 })],
        grades: [{ user: 'u', item: 's', final: value }],
      }),
    );
  it('[AGG-9] Natural counts scale points from 0: C (3 of 5) is 60 %', () => {
    const gb = scaleCourse('natural', LETTERS5, 3);
    expect(gb.final('course', 'u')).toBe(3);
    expect(gb.userReport('u', { viewer: 'teacher', now: 0 }).at(-1)!.percentage).toBe(60);
  });
  it('[AGG-1] other methods normalise from the scale minimum 1: C is 50 %', () => {
    expect(scaleCourse('mean', LETTERS5, 3).final('course', 'u')).toBe(50);
  });
  it('[AGG-7] a single-item scale: Natural 1/1, Mean 100 %, Simple weighted mean empty', () => {
    expect(scaleCourse('natural', ['Only'], 1).final('course', 'u')).toBe(1);
    expect(scaleCourse('natural', ['Only'], 1).range('course', 'u')).toEqual([0, 1]);
    expect(scaleCourse('mean', ['Only'], 1).final('course', 'u')).toBe(100);
    expect(scaleCourse('simple_weighted_mean', ['Only'], 1).final('course', 'u')).toBeNull();
  });
});

describe('the simple methods (lib/tests/grade_category_test.php aggregate_values)', () => {
  const four = (method: Aggregation, raws: Record<string, number | null>, extra = {}) =>
    loadCourse(
      course(method, {
        items: [item('a', 100), item('b', 100), item('c', 100), item('d', 100)],
        grades: gradesOf('u', raws),
        root: extra,
      }),
    );
  it('[AGG-2] median of an even count is the mean of the middle two, weights 0.5 each', () => {
    const gb = four('median', { a: 10, b: 40, c: 60, d: 90 });
    expect(gb.final('course', 'u')).toBe(50);
    expect(gb.aggregation('b', 'u').weight).toBe(0.5);
    expect(gb.aggregation('c', 'u').weight).toBe(0.5);
    expect(gb.aggregation('a', 'u').weight).toBe(0);
  });
  it('[AGG-2] median of an odd count is the middle value', () => {
    expect(four('median', { a: 10, b: 40, c: 60, d: null }).final('course', 'u')).toBe(40);
  });
  it('[AGG-5] mode: the highest of the most frequent values wins', () => {
    expect(four('mode', { a: 20, b: 20, c: 70, d: 70 }).final('course', 'u')).toBe(70);
    expect(four('mode', { a: 20, b: 20, c: 70, d: 90 }).final('course', 'u')).toBe(20);
  });
  it('[AGG-5] mode of all-distinct values equals highest; weights go to the winners only', () => {
    const gb = four('mode', { a: 20, b: 30, c: 70, d: 90 });
    expect(gb.final('course', 'u')).toBe(90);
    expect(gb.aggregation('d', 'u').weight).toBe(1);
    expect(gb.aggregation('a', 'u').weight).toBe(0);
  });
  it('[AGG-3][AGG-4] lowest and highest; empty counted as zero makes lowest 0', () => {
    expect(four('lowest', { a: 20, b: 30, c: 70, d: null }).final('course', 'u')).toBe(20);
    expect(four('highest', { a: 20, b: 30, c: 70, d: null }).final('course', 'u')).toBe(70);
    expect(
      four('lowest', { a: 20, b: 30, c: 70, d: null }, { aggregateOnlyGraded: false }).final('course', 'u'),
    ).toBe(0);
  });
  it('[AGG-0] every child empty gives an empty total, even when empty grades count as zero', () => {
    const gb = four('mean', { a: null }, { aggregateOnlyGraded: false });
    expect(gb.final('course', 'u')).toBeNull();
  });
  it('[AGG-1] mean with empty grades counted as zero', () => {
    expect(four('mean', { a: 80, b: 40 }, { aggregateOnlyGraded: false }).final('course', 'u')).toBe(30);
    expect(four('mean', { a: 80, b: 40 }).final('course', 'u')).toBe(60);
  });
  it('[AGG-0] an excluded grade is left out whatever exclude-empty says', () => {
    const json = course('mean', {
      items: [item('a', 100), item('b', 100)],
      grades: [
        { user: 'u', item: 'a', raw: 80 },
        { user: 'u', item: 'b', raw: 20, excluded: true },
      ],
      root: { aggregateOnlyGraded: false },
    });
    const gb = loadCourse(json);
    expect(gb.final('course', 'u')).toBe(80);
    expect(gb.aggregation('b', 'u').status).toBe('dropped');
  });
  it('[AGG-1] the category range applies: mean of 50 % on a 0..20 total is 10; stored finals have 5 decimals', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 3), item('b', 3)],
        grades: gradesOf('u', { a: 1, b: 0 }),
        root: { grademax: 20 },
      }),
    );
    expect(gb.final('course', 'u')).toBe(3.33333); // (1/3 + 0)/2 x 20 = 3.333..., stored as DECIMAL(10,5)
  });
});

describe('weighted means (grade_category_test.php; grade/tests/behat/grade_aggregation.feature)', () => {
  it('[AGG-6] weighted mean uses the weights; zero and negative weights are ignored', () => {
    const gb = loadCourse(
      course('weighted_mean', {
        items: [item('a', 100, { weight: 3 }), item('b', 50, { weight: 1 }), item('c', 10, { weight: 0 })],
        grades: gradesOf('u', { a: 80, b: 10, c: 10 }),
      }),
    );
    // (3 x 0.8 + 1 x 0.2) / 4 = 0.65
    expect(gb.final('course', 'u')).toBe(65);
    expect(gb.aggregation('a', 'u').weight).toBe(0.75);
    expect(gb.aggregation('c', 'u').weight).toBe(0);
  });
  it('[AGG-6] all weights zero gives an empty total', () => {
    const gb = loadCourse(
      course('weighted_mean', { items: [item('a', 100, { weight: 0 })], grades: gradesOf('u', { a: 80 }) }),
    );
    expect(gb.final('course', 'u')).toBeNull();
  });
  it('[AGG-7] simple weighted mean weighs by item range; extra credit adds to the numerator and is capped', () => {
    const items = [item('a', 100), item('b', 50), item('x', 50, { extraCredit: true })];
    const gb = loadCourse(
      course('simple_weighted_mean', { items, grades: gradesOf('u', { a: 60, b: 30, x: 50 }) }),
    );
    // (60 + 30 + 50) / 150 = 93.33333...
    expect(gb.final('course', 'u')).toBe(93.33333);
    const capped = loadCourse(
      course('simple_weighted_mean', { items, grades: gradesOf('v', { a: 100, b: 40, x: 50 }) }),
    );
    expect(capped.final('course', 'v')).toBe(100);
    // The extra-credit weight is cut to what it really added: (100 - 93.333...)/100 / 1.0
    expect(capped.aggregation('x', 'v').weight).toBeCloseTo(0.06667, 5);
    expect(capped.aggregation('x', 'v').status).toBe('extra');
  });
  it('[AGG-8] mean with extra credits: extra credit adds weight x grade over the normal count', () => {
    const items = [item('a', 100), item('b', 100), item('x', 100, { extraCreditWeight: 0.5 })];
    const gb = loadCourse(
      course('extra_credit_mean', { items, grades: gradesOf('u', { a: 60, b: 40, x: 80 }) }),
    );
    // (0.6 + 0.4 + 0.5 x 0.8) / 2 = 0.7
    expect(gb.final('course', 'u')).toBe(70);
    expect(gb.aggregation('a', 'u').weight).toBe(0.5);
  });
});

describe('Natural (grade_natural_exclude_empty.feature, grade_natural_normalisation.feature, grade_aggregation.feature)', () => {
  const ee = [
    item('a1', 100),
    item('a2', 50),
    item('a3', 200),
    item('a4', 20, { extraCredit: true }),
    item('a5', 10, { extraCredit: true }),
  ];
  const eeGrades = gradesOf('s', { a1: 80, a2: 30, a4: 10, a5: 8 });
  it('[AGG-9] empty grades leave the per-user maximum: 128 out of 150', () => {
    const gb = loadCourse(course('natural', { items: ee, grades: eeGrades }));
    expect(gb.final('course', 's')).toBe(128);
    expect(gb.range('course', 's')).toEqual([0, 150]);
  });
  it('[AGG-9] an overridden weight of 50 % is renormalised to 83.33 %: 133 out of 150', () => {
    const items = ee.map((it) => (it.id === 'a1' ? { ...it, weightOverride: true, weight: 0.5 } : it));
    const gb = loadCourse(course('natural', { items, grades: eeGrades }));
    expect(gb.final('course', 's')).toBe(133);
    expect(gb.aggregation('a1', 's').weight).toBeCloseTo(0.83333, 5);
  });
  it('[NAT-1] setup weights follow the maxima: 300/100/150/150/45/45', () => {
    const items = [300, 100, 150, 150, 45, 45].map((m, i) => item(`i${i}`, m));
    const setup = loadCourse(course('natural', { items })).setupReport();
    expect(setup.map((r) => r.setupWeightPct)).toEqual([37.975, 12.658, 18.987, 18.987, 5.696, 5.696, null]);
    expect(setup.at(-1)!.grademax).toBe(790);
  });
  it('[NAT-1] overriding the first to 10 % shares the remaining 90 % by maxima: 100/490 x 90 = 18.367 %', () => {
    const items = [300, 100, 150, 150, 45, 45].map((m, i) =>
      item(`i${i}`, m, i === 0 ? { weightOverride: true, weight: 0.1 } : {}),
    );
    const setup = loadCourse(course('natural', { items })).setupReport();
    expect(setup[0]!.setupWeightPct).toBe(10);
    expect(setup[1]!.setupWeightPct).toBe(18.367);
  });
  it('[NAT-1] an extra-credit item weighs max / sum of normal maxima: 15/(20+10) = 50 %', () => {
    const items = [item('a', 20), item('b', 10), item('x', 15, { extraCredit: true })];
    const setup = loadCourse(course('natural', { items })).setupReport();
    expect(setup.map((r) => r.setupWeightPct)).toEqual([66.667, 33.333, 50, null]);
  });
  it('[NAT-2] an extra-credit override of 105 % is kept; made normal it is renormalised to 100 % and the rest get 0', () => {
    const ec = [
      item('a', 20),
      item('b', 10),
      item('x', 15, { extraCredit: true, weightOverride: true, weight: 1.05 }),
    ];
    expect(loadCourse(course('natural', { items: ec })).setupReport()[2]!.setupWeightPct).toBe(105);
    const normal = ec.map((it) => (it.id === 'x' ? { ...it, extraCredit: false } : it));
    expect(
      loadCourse(course('natural', { items: normal }))
        .setupReport()
        .map((r) => r.setupWeightPct),
    ).toEqual([0, 0, 100, null]);
  });
  it('[NAT-2] a negative override becomes 0', () => {
    const items = [item('a', 20, { weightOverride: true, weight: -0.5 }), item('b', 10)];
    expect(loadCourse(course('natural', { items })).setupReport()[0]!.setupWeightPct).toBe(0);
  });
  it('[NAT-3] zero-weight items leave the maximum; sub-category maxima feed the parent', () => {
    const items = [
      item('a', 100),
      item('b', 10, { weightOverride: true, weight: 0 }),
      item('c', 40, { category: 'k' }),
    ];
    const gb = loadCourse(
      course('natural', {
        items,
        categories: [cat('k', 'natural')],
        grades: gradesOf('u', { a: 50, b: 10, c: 20 }),
      }),
    );
    const setup = gb.setupReport();
    expect(setup.find((r) => r.item === 'k')!.grademax).toBe(40);
    expect(setup.find((r) => r.item === 'course')!.grademax).toBe(140);
    expect(gb.final('course', 'u')).toBe(70);
  });
  it('[AGG-9] extra credit is capped at the maximum (grade_contribution_with_extra_credit.feature)', () => {
    const items = [
      item('a', 150),
      item('x', 50, { extraCredit: true }),
      item('y', 20, { extraCredit: true }),
    ];
    const gb = loadCourse(course('natural', { items, grades: gradesOf('u', { a: 140, x: 40, y: 20 }) }));
    expect(gb.final('course', 'u')).toBe(150);
  });
  it('[AGG-9] only extra credit graded: 0 with range 0..0', () => {
    const items = [item('a', 100), item('x', 10, { extraCredit: true })];
    const gb = loadCourse(course('natural', { items, grades: gradesOf('u', { x: 5 }) }));
    expect(gb.final('course', 'u')).toBe(0);
    expect(gb.range('course', 'u')).toEqual([0, 0]);
  });
  it('[AGG-9] an excluded grade takes its maximum out of the user total', () => {
    const json = course('natural', {
      items: [item('a', 100), item('b', 50)],
      grades: [
        { user: 'u', item: 'a', raw: 60 },
        { user: 'u', item: 'b', raw: 50, excluded: true },
      ],
    });
    const gb = loadCourse(json);
    expect(gb.final('course', 'u')).toBe(60);
    expect(gb.range('course', 'u')).toEqual([0, 100]);
  });
  it('[AGG-9] negative grades keep their points (grade_mingrade.feature): min treated as 0', () => {
    const items = [item('a', 100, { grademin: -100 }), item('b', 100)];
    const gb = loadCourse(
      course('natural', {
        items,
        grades: [
          { user: 'u', item: 'a', final: -20 },
          { user: 'u', item: 'b', final: 50 },
        ],
      }),
    );
    expect(gb.final('course', 'u')).toBe(30);
  });
});

describe('limit rules (lib/tests/grade_category_test.php sub_test_grade_category_apply_limit_rules)', () => {
  // Items 0, 1, 2, 4 of the PHPUnit fixture have maxima 110, 100, 6 and 100.
  const maxes = new Float64Array([110, 100, 6, 100]);
  const run = (values: number[], drop: number, keep: number, extra: number[] = [], extraUsed = true) => {
    const pos = Int32Array.from([0, 1, 2, 3]);
    const isExtra = new Uint8Array(4);
    for (const e of extra) isExtra[e] = 1;
    const n = applyLimitRules(drop, keep, pos, 4, Float64Array.from(values), maxes, isExtra, extraUsed);
    return Array.from(pos.subarray(0, n)).sort();
  };
  it('[LIM-1] dropping the lowest 2 of 4 keeps 9.4743 and 7.3754', () => {
    expect(run([5.374, 9.4743, 2.5474, 7.3754], 2, 0)).toEqual([1, 3]);
  });
  it('[LIM-2] keeping the highest 1 keeps the highest; extra credit is always kept', () => {
    expect(run([5.374, 9.4743, 2.5474, 7.3754], 0, 1)).toEqual([1]);
    expect(run([5.374, 9.4743, 2.5474, 7.3754], 0, 1, [2])).toEqual([1, 2]);
    expect(run([5.374, 9.4743, 2.5474, 7.3754], 2, 0, [2])).toEqual([1, 2]);
  });
  it('[LIM-1] among equal lowest values the one with the largest grademax is dropped first', () => {
    expect(run([0, 5, 2, 0], 1, 0)).toEqual([1, 2, 3]);
    expect(run([0, 5, 0, 0], 2, 0)).toEqual([1, 2]);
  });
  it('[LIM-1] dropping more than exist leaves none; extra credit survives', () => {
    expect(run([0, 5, 6, 1], 5, 0)).toEqual([]);
    expect(run([0, 5, 6, 1], 4, 0, [2])).toEqual([2]);
  });
  it('[LIM-1] MDL-35667: equal values with one extra credit do not loop', () => {
    expect(run([1, 1, 1, 1], 1, 0, [1])).toEqual([1, 2, 3]);
  });
  it('[LIM-3] both set: drop lowest wins', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100), item('b', 100), item('c', 100)],
        grades: gradesOf('u', { a: 10, b: 50, c: 90 }),
        root: { dropLowest: 1, keepHighest: 1 },
      }),
    );
    expect(gb.final('course', 'u')).toBe(70);
  });
  it('[NAT-4] Natural applies drop lowest only with equal maxima and no extra credit', () => {
    const grades = gradesOf('u', { a: 50, b: 100, c: 100 });
    const equal = loadCourse(
      course('natural', {
        items: [item('a', 100), item('b', 100), item('c', 100)],
        grades,
        root: { dropLowest: 1 },
      }),
    );
    expect(equal.final('course', 'u')).toBe(200);
    expect(equal.range('course', 'u')).toEqual([0, 200]);
    const uneven = loadCourse(
      course('natural', {
        items: [item('a', 100), item('b', 100), item('c', 150)],
        grades,
        root: { dropLowest: 1 },
      }),
    );
    expect(uneven.final('course', 'u')).toBe(250);
    const withExtra = loadCourse(
      course('natural', {
        items: [item('a', 100), item('b', 100), item('c', 100, { extraCredit: true })],
        grades,
        root: { dropLowest: 1 },
      }),
    );
    expect(withExtra.final('course', 'u')).toBe(200);
    expect(withExtra.range('course', 'u')).toEqual([0, 200]);
  });
});

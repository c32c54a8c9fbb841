// grade/tests/behat/grade_scales.feature re-encoded: a scale item (F,D,C,B,A) in a sub-category, under Natural
// and under every other method with the sub-category on 1..5 (MODEL-3, AGG-0, AGG-9, REP-5, DISP-2).
import { describe, expect, it } from 'vitest';
import { loadCourse, formatFloat, formatGrade } from './index.ts';
import type { Aggregation, CourseJson } from '../interchange/course-types.ts';

const SCALE = ['F', 'D', 'C', 'B', 'A'];
function build(method: Aggregation): CourseJson {
  const other = method !== 'natural';
  return {
    categories: [
      { id: 'c1', parent: null, name: 'Course 1', aggregation: method },
      {
        id: 'sub1',
        parent: 'c1',
        name: 'Sub category 1',
        aggregation: method,
        ...(other ? { grademin: 1, grademax: 5 } : {}),
      },
    ],
    items: [
      {
        id: 'a1',
        idnumber: 'a1',
        category: 'sub1',
        name: 'Test assignment one',
        gradetype: 'scale',
        scale: SCALE,
        grademin: 1,
        grademax: 5,
      },
    ],
    // Students 1..5 graded A, B, C, D, F.
    grades: [5, 4, 3, 2, 1].map((v, i) => ({ user: `s${i + 1}`, item: 'a1', raw: v })),
    settings: {},
  };
}
const row = (method: Aggregation, user: string) =>
  loadCourse(build(method))
    .userReport(user, { viewer: 'teacher', now: 0 })
    .map((r) => [
      r.item,
      r.item === 'a1'
        ? formatGrade(r.final, 'real', { min: r.range[0], max: r.range[1], scale: SCALE })
        : formatFloat(r.final!, 2),
      `${r.range[0]}–${r.range[1]}`,
      `${formatFloat(r.percentage!, 2)} %`,
      r.contributionPct === null ? '-' : `${formatFloat(r.contributionPct, 2)} %`,
    ]);

describe('grade_scales.feature', () => {
  it('[AGG-9][REP-5] Natural counts scale points from 0: C is 3.00 of 0–5, 60 % of the course', () => {
    const gb = loadCourse(build('natural'));
    expect(gb.users.map((u) => gb.final('course', u))).toEqual([5, 4, 3, 2, 1]);
    expect(row('natural', 's3')).toEqual([
      ['a1', 'C', '1–5', '50.00 %', '60.00 %'],
      ['sub1', '3.00', '0–5', '60.00 %', '-'],
      ['course', '3.00', '0–5', '60.00 %', '-'],
    ]);
    expect(row('natural', 's2')[0]).toEqual(['a1', 'B', '1–5', '75.00 %', '80.00 %']);
    expect(gb.setupReport().map((r) => r.grademax)).toEqual([5, 5, 5]);
  });
  it.each([
    'mean',
    'weighted_mean',
    'simple_weighted_mean',
    'extra_credit_mean',
    'median',
    'lowest',
    'highest',
    'mode',
  ] as const)('[AGG-0] %s normalises from the scale minimum: totals 100/75/50/25/0', (method) => {
    const gb = loadCourse(build(method));
    expect(gb.users.map((u) => gb.final('course', u))).toEqual([100, 75, 50, 25, 0]);
    expect(row(method, 's3')).toEqual([
      ['a1', 'C', '1–5', '50.00 %', '50.00 %'],
      ['sub1', '3.00', '1–5', '50.00 %', '-'],
      ['course', '50.00', '0–100', '50.00 %', '-'],
    ]);
    expect(row(method, 's2')[0]).toEqual(['a1', 'B', '1–5', '75.00 %', '75.00 %']);
  });
});

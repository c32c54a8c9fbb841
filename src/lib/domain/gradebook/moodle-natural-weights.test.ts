// grade/tests/behat/grade_natural_normalisation.feature re-encoded: Natural weights of Sub category 1
// (a5 20, a6 10, a7 15) after overrides, as the setup page shows them (NAT-1, NAT-2, REP-6).
// The feature's extra-credit scenarios predate MDL-49257 (extra credit now weighs max / sum of normal maxima,
// see grade_category::auto_update_weights); those are covered by aggregation.test.ts instead.
import { describe, expect, it } from 'vitest';
import { loadCourse } from './index.ts';
import type { CourseItem, CourseJson } from '../interchange/course-types.ts';

function weights(overrides: Record<string, number>): (number | null)[] {
  const it = (id: string, category: string, grademax: number): CourseItem => ({
    id,
    idnumber: id,
    category,
    name: id,
    grademin: 0,
    grademax,
    ...(id in overrides ? { weightOverride: true, weight: overrides[id]! / 100 } : {}),
  });
  const json: CourseJson = {
    categories: [
      { id: 'c1', parent: null, name: 'Course 1', aggregation: 'natural' },
      { id: 'sub1', parent: 'c1', name: 'Sub category 1', aggregation: 'natural' },
    ],
    items: [
      it('a1', 'c1', 300),
      it('a2', 'c1', 100),
      it('a3', 'c1', 150),
      it('a4', 'c1', 150),
      it('a5', 'sub1', 20),
      it('a6', 'sub1', 10),
      it('a7', 'sub1', 15),
    ],
    grades: [],
    settings: {},
  };
  const setup = loadCourse(json).setupReport();
  return ['a5', 'a6', 'a7'].map((id) => setup.find((r) => r.item === id)!.setupWeightPct);
}

describe('grade_natural_normalisation.feature', () => {
  it.each([
    ['no overrides', {}, [44.444, 22.222, 33.333]],
    ['all overridden to exactly 100', { a5: 30, a6: 50, a7: 20 }, [30, 50, 20]],
    ['all overridden below 100 are normalised', { a5: 1, a6: 1, a7: 2 }, [25, 25, 50]],
    ['one over 100', { a5: 120 }, [100, 0, 0]],
    ['several but not all over 100', { a5: 150, a6: 150 }, [50, 50, 0]],
    ['two of three overridden totalling over 100', { a6: 55, a7: 65 }, [0, 45.833, 54.167]],
    ['a negative override becomes zero', { a5: -15 }, [0, 40, 60]],
    ['a negative and an over-100 override', { a5: -10, a6: 120 }, [0, 100, 0]],
  ] as const)('[NAT-1][NAT-2] %s', (_name, overrides, expected) => {
    expect(weights(overrides)).toEqual(expected);
  });
});

// Tests of raw -> final adjustment, bounding, rescaling and 5-decimal storage (SPEC.md RNG-*).
// Values mirror lib/grade/tests/grade_item_test.php and grade/tests/behat/grade_grade_minmax_change.feature.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adjustRawGrade, boundedGrade, rescaleKeepPercentage, round5, standardise } from './range.ts';

const value = (min: number, max: number, multfactor = 1, plusfactor = 0) => ({
  min,
  max,
  isScale: false,
  multfactor,
  plusfactor,
});

describe('adjust_raw_grade (grade_item_test.php test_adjust_raw_grade)', () => {
  it('[RNG-1] raw 40 of 0..100 rescales to the item range', () => {
    expect(adjustRawGrade(40, 0, 100, value(0, 50))).toBe(20);
    expect(adjustRawGrade(40, 0, 100, value(0, 150))).toBe(60);
    expect(adjustRawGrade(40, 0, 100, value(50, 150))).toBe(90);
  });
  it('[RNG-1] multfactor and plusfactor apply after rescaling, before clamping', () => {
    expect(adjustRawGrade(40, 0, 100, value(0, 50, 1.23, 3))).toBeCloseTo(27.6, 10);
    expect(round5(adjustRawGrade(40, 0, 100, value(0, 50, 0.23, -3)))).toBe(1.6);
    expect(adjustRawGrade(90, 0, 100, value(0, 100, 2, 0))).toBe(100);
  });
  it('[RNG-1] raw 40 of 0..50 on 0..100 gives 80 and on 40..100 gives 88', () => {
    expect(adjustRawGrade(40, 0, 50, value(0, 100))).toBe(80);
    expect(adjustRawGrade(40, 0, 50, value(40, 100))).toBe(88);
  });
  it('[RNG-1] degenerate ranges: max < min gives null, max = min gives max; null stays null', () => {
    expect(adjustRawGrade(5, 0, 10, value(10, 5))).toBeNaN();
    expect(adjustRawGrade(5, 0, 10, value(7, 7))).toBe(7);
    expect(adjustRawGrade(NaN, 0, 10, value(0, 10))).toBeNaN();
  });
  it('[RNG-1][RNG-3] scales round half up, ignore factors, and clamp to 1..labels', () => {
    const scale = { min: 1, max: 4, isScale: true, multfactor: 3, plusfactor: 2 };
    expect(adjustRawGrade(2, 1, 4, scale)).toBe(2);
    expect(adjustRawGrade(50, 0, 100, scale)).toBe(3); // 2.5 -> 3
    expect(boundedGrade(2.49998, 1, 4, true)).toBe(2);
    expect(boundedGrade(2.49999, 1, 4, true)).toBe(3); // + 0.00001 reaches the half
    expect(boundedGrade(9, 1, 4, true)).toBe(4);
  });
});

describe('standardise and rescale', () => {
  it('[RNG-2] a zero-width range gives the target max', () => {
    expect(standardise(1, 1, 1, 0, 1)).toBe(1);
    expect(standardise(5, 0, 10, 0, 1)).toBe(0.5);
  });
  it('[RNG-4] keep-percentage rescale: 10 -> 6 and 50 -> 18 for 0..100 -> 3..33; 10 -> 20 for 0..10 -> 0..20', () => {
    expect(rescaleKeepPercentage(10, 0, 100, 3, 33)).toBe(6);
    expect(rescaleKeepPercentage(50, 0, 100, 3, 33)).toBe(18);
    expect(rescaleKeepPercentage(10, 0, 10, 0, 20)).toBe(20);
    expect(rescaleKeepPercentage(8, 0, 10, 0, 20)).toBe(16);
    expect(rescaleKeepPercentage(20, 0, 100, 0, 87.5)).toBe(17.5);
  });
  it('[RNG-4] refuses an empty old range or a new width below 1', () => {
    expect(() => rescaleKeepPercentage(5, 3, 3, 0, 10)).toThrow(RangeError);
    expect(() => rescaleKeepPercentage(5, 0, 10, 0, 0.5)).toThrow(RangeError);
  });
  it('[RNG-4] property: rescaling there and back returns the grade', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 1, max: 500 }),
        (t, amin, aw, bmin, bw) => {
          const g = amin + t * aw;
          const there = rescaleKeepPercentage(g, amin, amin + aw, bmin, bmin + bw);
          const back = rescaleKeepPercentage(there, bmin, bmin + bw, amin, amin + aw);
          expect(back).toBeCloseTo(g, 8);
        },
      ),
    );
  });
});

describe('5-decimal storage', () => {
  it('[RNG-5] rounds half away from zero to 5 decimals, like DECIMAL(10,5)', () => {
    expect(round5(100 / 3)).toBe(33.33333);
    expect(round5(2 / 3)).toBe(0.66667);
    expect(round5(1.000005)).toBe(1.00001);
    expect(round5(-1.000005)).toBe(-1.00001);
    expect(round5(0.285714285)).toBe(0.28571);
  });
});

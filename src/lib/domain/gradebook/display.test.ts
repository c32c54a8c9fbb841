// Letters and display formatting (SPEC.md LET-*, DISP-*); mirrors grade_letter_boundary.feature,
// grade_override_letter.feature and lib/tests/gradelib_test.php display cases.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LETTERS, gradeLetter, letterTable, resolveLetters } from './letters.ts';
import { formatFloat, formatGrade, parseDisplayType, percentage } from './display.ts';
import { loadCourse } from './index.ts';
import { course, item, gradesOf } from '../../../../test/fixtures/courses/builder.ts';

describe('letters', () => {
  it('[LET-1] default letters: 93 A, 90 A-, ... 60 D, below F', () => {
    expect(gradeLetter(93, 0, 100, DEFAULT_LETTERS)).toBe('A');
    expect(gradeLetter(92.99999, 0, 100, DEFAULT_LETTERS)).toBe('A-');
    expect(gradeLetter(60, 0, 100, DEFAULT_LETTERS)).toBe('D');
    expect(gradeLetter(59.9, 0, 100, DEFAULT_LETTERS)).toBe('F');
    expect(gradeLetter(null, 0, 100, DEFAULT_LETTERS)).toBeNull();
  });
  it('[LET-3] 57/100 matches a boundary of 57 despite floating-point error (grade_letter_boundary.feature)', () => {
    const letters = letterTable({ '57': 'D', '0': 'F' });
    expect(gradeLetter(57, 0, 100, letters)).toBe('D');
    expect(gradeLetter(5.7, 0, 10, letters)).toBe('D');
  });
  it('[LET-3] no matching boundary gives no letter; grades are clamped to 0..100 %', () => {
    const letters = letterTable({ '50': 'Pass' });
    expect(gradeLetter(40, 0, 100, letters)).toBeNull();
    expect(gradeLetter(140, 0, 100, letters)).toBe('Pass');
  });
  it('[LET-2] the nearest level that defines letters wins', () => {
    const course = letterTable({ '50': 'P', '0': 'F' });
    expect(resolveLetters(undefined, course)).toBe(course);
    expect(resolveLetters(undefined, undefined)).toBe(DEFAULT_LETTERS);
  });
  it('[LET-2] course JSON letters apply in the report', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100)],
        grades: gradesOf('u', { a: 55 }),
        settings: { letters: { '50': 'Pass', '0': 'Fail' } },
      }),
    );
    expect(gb.userReport('u', { viewer: 'teacher', now: 0 }).map((r) => r.letter)).toEqual(['Pass', 'Pass']);
  });
});

describe('display', () => {
  it('[DISP-1] PHP rounding: 1.005 -> "1.01" where toFixed gives "1.00"', () => {
    expect(formatFloat(1.005, 2)).toBe('1.01');
    expect(formatFloat(2.675, 2)).toBe('2.68');
    expect(formatFloat(-1.005, 2)).toBe('-1.01');
    expect(formatFloat(33.333333, 2)).toBe('33.33');
    expect(formatFloat(-0.001, 2)).toBe('0.00');
    expect(formatFloat(1234567.5, 0)).toBe('1234568');
  });
  it('[DISP-2] the basic types and their combinations', () => {
    const ctx = { min: 0, max: 50, decimals: 2 };
    expect(formatGrade(40, 'real', ctx)).toBe('40.00');
    expect(formatGrade(40, 'percentage', ctx)).toBe('80.00 %');
    expect(formatGrade(40, 'letter', ctx)).toBe('B-');
    expect(formatGrade(40, 'real_percentage', ctx)).toBe('40.00 (80.00 %)');
    expect(formatGrade(40, 'letter_real', ctx)).toBe('B- (40.00)');
    expect(formatGrade(null, 'real_letter', ctx)).toBe('-');
  });
  it('[DISP-2] a scale item shows its label as the real value', () => {
    expect(formatGrade(3, 'real', { min: 1, max: 4, scale: ['No', 'Some', 'Good', 'Great'] })).toBe('Good');
  });
  it('[DISP-3] percentage is bounded first and empty when min = max', () => {
    expect(percentage(75, 5, 50)).toBe(100);
    expect(percentage(5, 5, 5)).toBeNull();
    expect(formatGrade(5, 'percentage', { min: 5, max: 5 })).toBe('');
  });
  it('[DISP-2] display types parse from names and Moodle codes', () => {
    expect(parseDisplayType('Real (Percentage)')).toBe('real_percentage');
    expect(parseDisplayType('31')).toBe('letter_real');
    expect(parseDisplayType('letter')).toBe('letter');
    expect(parseDisplayType('real (real)')).toBeNull();
    expect(parseDisplayType('fancy')).toBeNull();
  });
});

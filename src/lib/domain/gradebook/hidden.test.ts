// Hidden grades: teacher versus student view and the three "hide totals" modes (SPEC.md HID-*, REP-2..4).
// Mirrors grade/tests/reportlib_test.php, grade_hidden_items.feature and grade_hidden_items_locked_category.feature.
import { describe, expect, it } from 'vitest';
import { loadCourse } from './index.ts';
import { course, item, cat, gradesOf } from '../../../../test/fixtures/courses/builder.ts';
import type { HideTotalsMode } from '../interchange/course-types.ts';

const total = (rows: { item: string; final: number | null }[], id = 'course') =>
  rows.find((r) => r.item === id)?.final;

describe('hidden 50 and visible 70 in a Natural course (grade/tests/reportlib_test.php)', () => {
  const build = (mode: HideTotalsMode) =>
    loadCourse(
      course('natural', {
        items: [item('a', 100, { hidden: true }), item('b', 100)],
        grades: gradesOf('u', { a: 50, b: 70 }),
        settings: { hideTotalsWithHiddenItems: mode },
      }),
    );
  it('[HID-1] the teacher sees the real total, 120', () => {
    const rows = build('none').userReport('u', { viewer: 'teacher', now: 0 });
    expect(total(rows)).toBe(120);
    expect(rows.map((r) => r.item)).toEqual(['a', 'b', 'course']);
  });
  it('[HID-2] students do not get the hidden row', () => {
    expect(
      build('include_hidden')
        .userReport('u', { viewer: 'student', now: 0 })
        .map((r) => r.item),
    ).toEqual(['b', 'course']);
  });
  it('[HID-6] "include hidden" shows 120', () => {
    expect(total(build('include_hidden').userReport('u', { viewer: 'student', now: 0 }))).toBe(120);
  });
  it('[HID-4] "hide" shows "-" (null)', () => {
    expect(total(build('none').userReport('u', { viewer: 'student', now: 0 }))).toBeNull();
  });
  it('[HID-6] "exclude hidden" recomputes without the hidden grade: 70 out of 100', () => {
    const row = build('exclude_hidden').userReport('u', { viewer: 'student', now: 0 }).at(-1)!;
    expect(row.final).toBe(70);
    expect(row.range).toEqual([0, 100]);
    expect(row.percentage).toBe(70);
  });
});

describe('hidden until, grade-level and category hiding', () => {
  const json = (hidden: boolean | number) =>
    course('mean', {
      items: [item('a', 100, { hidden }), item('b', 100)],
      grades: gradesOf('u', { a: 20, b: 60 }),
      settings: { hideTotalsWithHiddenItems: 'exclude_hidden' },
    });
  it('[FLAG-1] hidden until a time: before it the row shows without a grade and the total excludes it', () => {
    const rows = loadCourse(json(1000)).userReport('u', { viewer: 'student', now: 500 });
    expect(rows.find((r) => r.item === 'a')!.final).toBeNull();
    expect(total(rows)).toBe(60);
  });
  it('[FLAG-1] hidden until a time: after it the grade shows and counts', () => {
    const rows = loadCourse(json(1000)).userReport('u', { viewer: 'student', now: 2000 });
    expect(rows.find((r) => r.item === 'a')!.final).toBe(20);
    expect(total(rows)).toBe(40);
  });
  it("[FLAG-1] a grade hidden on its own hides only that user's grade", () => {
    const j = course('mean', {
      items: [item('a', 100), item('b', 100)],
      grades: [
        ...gradesOf('u', { b: 60 }),
        { user: 'u', item: 'a', raw: 20, hidden: true },
        ...gradesOf('v', { a: 20, b: 60 }),
      ],
      settings: { hideTotalsWithHiddenItems: 'exclude_hidden' },
    });
    const gb = loadCourse(j);
    expect(total(gb.userReport('u', { viewer: 'student', now: 0 }))).toBe(60);
    expect(total(gb.userReport('v', { viewer: 'student', now: 0 }))).toBe(40);
  });
  it('[FLAG-1] a hidden category hides its items and total for students', () => {
    const j = course('mean', {
      categories: [cat('k', 'mean', { hidden: true })],
      items: [item('a', 100, { category: 'k' }), item('b', 100)],
      grades: gradesOf('u', { a: 20, b: 60 }),
      settings: { hideTotalsWithHiddenItems: 'exclude_hidden' },
    });
    const rows = loadCourse(j).userReport('u', { viewer: 'student', now: 0 });
    expect(rows.map((r) => r.item)).toEqual(['b', 'course']);
    expect(total(rows)).toBe(60);
  });
});

describe('totals that cannot be recomputed (grade_hidden_items_locked_category.feature)', () => {
  const build = (mode: HideTotalsMode) =>
    loadCourse(
      course('mean', {
        categories: [cat('k', 'mean', { locked: true })],
        items: [
          item('a', 100, { category: 'k', hidden: true }),
          item('b', 100, { category: 'k' }),
          item('c', 100),
        ],
        grades: [...gradesOf('u', { a: 20, b: 60, c: 90 }), { user: 'u', item: 'k', final: 40 }],
        settings: { hideTotalsWithHiddenItems: mode },
      }),
    );
  it('[HID-5] a locked category keeps its stored value and is unknown: "exclude" shows stored values', () => {
    const rows = build('exclude_hidden').userReport('u', { viewer: 'student', now: 0 });
    expect(total(rows, 'k')).toBe(40);
    expect(total(rows)).toBe(65); // stored course total (40 + 90) / 2: not recomputed above an unknown
  });
  it('[HID-5] under "hide" the locked category and everything above it are blank', () => {
    const rows = build('none').userReport('u', { viewer: 'student', now: 0 });
    expect(total(rows, 'k')).toBeNull();
    expect(total(rows)).toBeNull();
  });
  it('[HID-5] a calculation over a hidden grade is unknown', () => {
    const gb = loadCourse(
      course('mean', {
        items: [
          item('a', 100, { hidden: true }),
          item('b', 100),
          item('calc', 100, { calculation: '=[[a]]+[[b]]' }),
        ],
        grades: gradesOf('u', { a: 20, b: 60 }),
        settings: { hideTotalsWithHiddenItems: 'none' },
      }),
    );
    expect(gb.final('calc', 'u')).toBe(80);
    const rows = gb.userReport('u', { viewer: 'student', now: 0 });
    expect(total(rows, 'calc')).toBeNull();
  });
});

describe('Moodle quirks of the recomputation', () => {
  it('[HID-3] under "hide", a Natural sub-category with no hidden item is blank when the user has a hidden grade elsewhere', () => {
    const gb = loadCourse(
      course('mean', {
        categories: [cat('k', 'natural')],
        items: [item('a', 100, { hidden: true }), item('b', 100, { category: 'k' })],
        grades: gradesOf('u', { a: 20, b: 60 }),
        settings: { hideTotalsWithHiddenItems: 'none' },
      }),
    );
    expect(total(gb.userReport('u', { viewer: 'student', now: 0 }), 'k')).toBeNull();
    expect(total(gb.userReport('u', { viewer: 'teacher', now: 0 }), 'k')).toBe(60);
  });
  it('[HID-3] the recomputed Natural total keeps the summed minimum of a scale child (grade_aggregation.feature)', () => {
    const gb = loadCourse(
      course('natural', {
        items: [
          item('a', 100, { hidden: true }),
          item('s', 5, { gradetype: 'scale', scale: ['F', 'D', 'C', 'B', 'A'], grademin: 1 }),
          item('b', 100),
        ],
        grades: [...gradesOf('u', { a: 50, b: 70 }), { user: 'u', item: 's', final: 4 }],
        settings: { hideTotalsWithHiddenItems: 'exclude_hidden' },
      }),
    );
    expect(gb.final('course', 'u')).toBe(124);
    const row = gb.userReport('u', { viewer: 'student', now: 0 }).at(-1)!;
    // Normalised with item ranges: scale (4-1)/4, b 0.7; points 3.75 + 70 over max 105, mapped onto 1..105.
    expect(row.final).toBeCloseTo(1 + (73.75 / 105) * 104, 9);
    expect(row.range).toEqual([1, 105]);
  });
  it('[HID-3] a hidden grade is removed, not counted as zero, even with empty grades as zero', () => {
    const gb = loadCourse(
      course('mean', {
        items: [item('a', 100, { hidden: true }), item('b', 100)],
        grades: gradesOf('u', { a: 20, b: 60 }),
        settings: { hideTotalsWithHiddenItems: 'exclude_hidden' },
        root: { aggregateOnlyGraded: false },
      }),
    );
    expect(total(gb.userReport('u', { viewer: 'student', now: 0 }))).toBe(60);
  });
});

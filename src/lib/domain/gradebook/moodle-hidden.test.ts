// grade/tests/behat/grade_hidden_items.feature re-encoded: teacher ("view report as myself") and student user
// reports with a hidden item under Natural sub-categories and a calculation over it (HID-*, REP-*).
import { describe, expect, it } from 'vitest';
import { loadCourse, formatFloat, type Gradebook } from './index.ts';
import type { CourseJson } from '../interchange/course-types.ts';

const pct = (v: number | null) => (v === null ? '-' : `${formatFloat(v, 2)} %`);
function table(gb: Gradebook, viewer: 'teacher' | 'student'): string[][] {
  return gb
    .userReport('s1', { viewer, now: 0 })
    .map((r) => [
      r.item,
      pct(r.weightPct),
      r.final === null ? '-' : formatFloat(r.final, 2),
      `${r.range[0]}–${r.range[1]}`,
      pct(r.percentage),
      pct(r.contributionPct),
    ]);
}

describe('grade_hidden_items.feature', () => {
  const json: CourseJson = {
    categories: [
      { id: 'c1', parent: null, name: 'Course 1', aggregation: 'natural' },
      { id: 'sub1', parent: 'c1', name: 'Sub category 1', aggregation: 'natural' },
      { id: 'sub2', parent: 'c1', name: 'Sub category 2', aggregation: 'natural' },
    ],
    items: [
      { id: 'a1', idnumber: 'a1', category: 'sub1', name: 'Test assignment one', grademin: 0, grademax: 100 },
      { id: 'a2', idnumber: 'a2', category: 'sub1', name: 'Test assignment two', grademin: 0, grademax: 100 },
      {
        id: 'a3',
        idnumber: 'a3',
        category: 'sub2',
        name: 'Test assignment three',
        grademin: 0,
        grademax: 100,
      },
      {
        id: 'a4',
        idnumber: 'a4',
        category: 'sub2',
        name: 'Test assignment four',
        grademin: 0,
        grademax: 100,
        hidden: true,
      },
      {
        id: 'calc',
        idnumber: 'calc',
        category: 'c1',
        name: 'calculated',
        grademin: 0,
        grademax: 100,
        calculation: '=[[a4]]/2',
      },
    ],
    grades: [
      { user: 's1', item: 'a1', raw: 50 },
      { user: 's1', item: 'a3', raw: 50 },
    ],
    settings: { hideTotalsWithHiddenItems: 'exclude_hidden' },
  };
  it('[HID-1][REP-5] the teacher sees every row with stored weights and contributions', () => {
    const rows = table(loadCourse(json), 'teacher');
    expect(rows).toEqual(
      expect.arrayContaining([
        ['a1', '100.00 %', '50.00', '0–100', '50.00 %', '25.00 %'],
        ['a2', '0.00 %', '-', '0–100', '-', '0.00 %'],
        ['a3', '100.00 %', '50.00', '0–100', '50.00 %', '25.00 %'],
        ['course', '-', '100.00', '0–200', '50.00 %', '-'],
      ]),
    );
  });
  it('[HID-2][HID-6] the student does not see the hidden item; empty rows have no weight or contribution', () => {
    const rows = table(loadCourse(json), 'student');
    expect(rows).toEqual(
      expect.arrayContaining([
        ['a1', '100.00 %', '50.00', '0–100', '50.00 %', '25.00 %'],
        ['a2', '-', '-', '0–100', '-', '-'],
        ['a3', '100.00 %', '50.00', '0–100', '50.00 %', '25.00 %'],
        ['course', '-', '100.00', '0–200', '50.00 %', '-'],
      ]),
    );
    expect(rows.map((r) => r[0])).not.toContain('a4');
  });
});

describe('grade_hidden_items_locked_category.feature ("Hide" mode)', () => {
  const base = (withB: boolean): CourseJson => ({
    categories: [
      { id: 'c1', parent: null, name: 'Course 1', aggregation: 'natural' },
      { id: 'locked', parent: 'c1', name: 'Test locked category', aggregation: 'natural', locked: true },
      ...(withB
        ? [{ id: 'catb', parent: 'c1', name: 'Test overridden category B', aggregation: 'natural' as const }]
        : []),
    ],
    items: [
      {
        id: 'hidden',
        idnumber: 'hidden',
        category: 'locked',
        name: 'Hidden item',
        grademin: 0,
        grademax: 100,
        hidden: true,
      },
      ...(withB
        ? [
            {
              id: 'bitem',
              idnumber: 'bitem',
              category: 'catb',
              name: 'Cat b item',
              grademin: 0,
              grademax: 100,
            },
          ]
        : []),
    ],
    grades: [
      { user: 's1', item: 'hidden', raw: null, final: 50 },
      { user: 's1', item: 'locked', raw: null, final: 50 },
      ...(withB ? [{ user: 's1', item: 'catb', overridden: 50 }] : []),
    ],
    settings: { hideTotalsWithHiddenItems: 'none' },
  });
  it('[HID-1] the teacher sees the locked total and the course total', () => {
    const rows = table(loadCourse(base(false)), 'teacher');
    expect(rows).toEqual(
      expect.arrayContaining([
        ['locked', '100.00 %', '50.00', '0–100', '50.00 %', '-'],
        ['course', '-', '50.00', '0–100', '50.00 %', '-'],
      ]),
    );
  });
  it('[HID-4][HID-5] the student sees neither the hidden item nor the totals above it', () => {
    const rows = table(loadCourse(base(false)), 'student');
    expect(rows).toEqual([
      ['locked', '100.00 %', '-', '0–100', '-', '-'],
      ['course', '-', '-', '0–100', '-', '-'],
    ]);
  });
  it('[FLAG-3][HID-4] an overridden category beside it still shows', () => {
    const rows = table(loadCourse(base(true)), 'student');
    expect(rows).toEqual(
      expect.arrayContaining([
        ['locked', '50.00 %', '-', '0–100', '-', '-'],
        ['catb', '50.00 %', '50.00', '0–100', '50.00 %', '-'],
        ['course', '-', '-', '0–200', '-', '-'],
      ]),
    );
  });
});

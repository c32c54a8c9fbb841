// Tests of grade export (SPEC-import-export.md EXP-*): columns, filters, display types, feedback, totals, the
// export time, the file formats, and round trips through the CSV import with the real gradebook engine.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CourseJson } from './course-types.ts';
import { parseCourseJson } from './course-json.ts';
import { Gradebook } from '../gradebook/index.ts';
import { formatFloat } from '../gradebook/display.ts';
import {
  exportCourseJson,
  exportGrades,
  exportTargets,
  exportToCsv,
  exportToOds,
  exportToXlsx,
  fastFloat,
  type ExportOptions,
} from './grade-export.ts';
import {
  applyImportPlan,
  csvHeaders,
  planCsvImport,
  suggestMapping,
  type DirectoryUser,
} from './grade-import.ts';
import { ValidationError } from '../shared/errors.ts';
import { cancelSource, CancelledError } from '../shared/cancel.ts';
import { readOdsRows, readXlsxRows } from '../../../../test/fixtures/import/read-sheets.ts';
import { generateCourse } from '../../../../test/fixtures/courses/generate.ts';

const dir = fileURLToPath(new URL('../../../../test/fixtures/import/', import.meta.url));
const fixture = (): CourseJson => parseCourseJson(readFileSync(dir + 'course.json', 'utf8'));
const T = 1_800_000_000;

function run(opts: Partial<ExportOptions> = {}, course = fixture()) {
  return exportGrades(course, new Gradebook(course), { exportedAt: T, ...opts });
}

describe('grade export', () => {
  it('[EXP-1] columns: user id, name, each item and total in tree order as "Name (Real)", then the export time', () => {
    const e = run();
    expect(e.columns.map((c) => c.header)).toEqual([
      'User ID',
      'Name',
      'Quiz 1 (Real)',
      'Essay (Real)',
      'Bonus (Real)',
      'Lab 1 (Real)',
      'Lab 2 (Real)',
      'Labs total (Real)',
      'Course total (Real)',
      'Last downloaded from this course',
    ]);
    // Quiz 6/10, Essay "Fair", Bonus =[[QUIZ1]]*2, labs mean (70, 55) = 62.5, natural course 6+2+12+62.5.
    expect(e.rows[0]).toEqual([
      'u1',
      'Ann Able',
      '6.00',
      'Fair',
      '12.00',
      '70.00',
      '55.00',
      '62.50',
      '82.50',
      String(T),
    ]);
    expect(e.rows[2]).toEqual(['u3', 'Cy Cole', '-', '-', '-', '-', '-', '-', '-', String(T)]);
    expect(exportTargets(fixture()).map((t) => t.id)).toEqual([
      'q1',
      'essay',
      'bonus',
      'lab1',
      'lab2',
      'labs',
      'course',
    ]);
  });

  it("[EXP-1] identity columns from the directory use Moodle's names, and the import maps users by them", () => {
    const course = fixture();
    const directory = JSON.parse(readFileSync(dir + 'directory.json', 'utf8')) as DirectoryUser[];
    const e = run({ identity: ['email', 'idnumber'], directory, items: ['q1'] }, course);
    expect(e.columns.map((c) => c.header).slice(0, 5)).toEqual([
      'User ID',
      'Name',
      'Email address',
      'ID number',
      'Quiz 1 (Real)',
    ]);
    expect(e.rows[0]!.slice(0, 4)).toEqual(['u1', 'Ann Able', 'Ann@Example.com', 'S001']);
    // Without the User ID column, the suggested mapping matches users by email.
    const csv = exportToCsv(e)
      .replace(/^User ID,/, 'Student,')
      .replace('u2,Bob Bunce,bob@example.com,S002,8.50', 'u2,Bob Bunce,bob@example.com,S002,9.00');
    const mapping = suggestMapping(csvHeaders(csv), course, directory);
    expect(mapping.user).toEqual({ column: 'Email address', key: 'email' });
    const plan = planCsvImport(csv, course, mapping, { directory });
    expect(plan.changes.map((c) => [c.user, c.new])).toEqual([['u2', 9]]);
    expect(() => run({ identity: ['phone' as never] })).toThrow(/identity/);
  });

  it('[EXP-2] filters: group, category (its items and totals), items by id or idnumber, users', () => {
    expect(run({ group: 'g2' }).rows.map((r) => r[0])).toEqual(['u2', 'u3']);
    expect(run({ category: 'labs' }).summary.items).toEqual(['lab1', 'lab2', 'labs']);
    expect(run({ items: ['QUIZ1', 'course'] }).summary.items).toEqual(['q1', 'course']);
    expect(run({ users: ['u3', 'u1'] }).rows.map((r) => r[0])).toEqual(['u1', 'u3']);
    const s = run({ group: 'g1', category: 'labs', items: ['lab1'] }).summary;
    expect(s).toMatchObject({
      users: 2,
      items: ['lab1'],
      filters: { group: 'g1', category: 'labs', items: ['lab1'], users: null },
    });
  });

  it('[EXP-2] unknown filters are errors naming the option', () => {
    try {
      run({ group: 'g9', category: 'nope', users: ['u1', 'zz'] });
      expect.unreachable();
    } catch (e) {
      expect((e as ValidationError).problems.map((p) => p.at)).toEqual(['group', 'users[1]', 'category']);
    }
    expect(() => run({ category: 'labs', items: ['q1'] })).toThrow(
      /items\[0\]: unknown item "q1" in that category/,
    );
    expect(() => run({ display: [] })).toThrow(/display/);
    expect(() => run({ decimals: 6 })).toThrow(/decimals/);
  });

  it('[EXP-3] display types through the engine formatter: percentage, letter, several at once', () => {
    const e = run({ display: ['percentage', 'letter'], items: ['q1', 'lab1', 'course'] });
    expect(e.columns.slice(2, 8).map((c) => c.header)).toEqual([
      'Quiz 1 (Percentage)',
      'Quiz 1 (Letter)',
      'Lab 1 (Percentage)',
      'Lab 1 (Letter)',
      'Course total (Percentage)',
      'Course total (Letter)',
    ]);
    // 6/10 = 60 % -> D (60..67); 70/100 -> C- (70..73); u2 8.5/10 -> B+ (85 in 83..87 is B; 87 is B+): 85 -> B.
    expect(e.rows[0]!.slice(2, 6)).toEqual(['60.00 %', 'D', '70.00 %', 'C-']);
    expect(e.rows[1]!.slice(2, 4)).toEqual(['85.00 %', 'B']);
    expect(run({ decimals: 0, items: ['q1'] }).rows[1]![2]).toBe('9'); // 8.5 rounds half up, as PHP
  });

  it('[EXP-4] feedback columns follow their item; totals have none', () => {
    const e = run({ feedback: true, items: ['q1', 'labs'] });
    expect(e.columns.map((c) => c.header).slice(2, 5)).toEqual([
      'Quiz 1 (Real)',
      'Quiz 1 (Feedback)',
      'Labs total (Real)',
    ]);
    expect(e.rows[0]![3]).toBe('Solid');
    expect(e.rows[1]![3]).toBe('');
  });

  it('[EXP-5] totals can be left out', () => {
    expect(run({ totals: false }).summary).toMatchObject({
      totals: false,
      items: ['q1', 'essay', 'bonus', 'lab1', 'lab2'],
    });
  });

  it('[EXP-6] the summary says what was exported and when (the injected time)', () => {
    const e = run({ display: 'letter', feedback: true });
    expect(e.summary).toEqual({
      users: 3,
      items: ['q1', 'essay', 'bonus', 'lab1', 'lab2', 'labs', 'course'],
      columns: 2 + 7 + 5 + 1,
      filters: { group: null, category: null, items: null, users: null },
      display: ['letter'],
      feedback: true,
      totals: true,
      decimals: 2,
      exportedAt: T,
    });
  });

  it('[EXP-6] progress per chunk of users; cancelling stops the export', () => {
    const course = generateCourse({ students: 450, items: 3, seed: 2 });
    const seen: number[] = [];
    exportGrades(course, new Gradebook(course), { exportedAt: T, onProgress: (d) => seen.push(d) });
    expect(seen).toEqual([0, 200, 400, 450]);
    const src = cancelSource();
    src.cancel();
    expect(() => exportGrades(course, new Gradebook(course), { exportedAt: T, cancel: src.token })).toThrow(
      CancelledError,
    );
  });

  it('[EXP-7] XLSX and ODS hold the same table: real grades as numbers, no grade as an empty cell', () => {
    const e = run({ feedback: true, items: ['q1', 'essay'] });
    const expected = [
      [
        'User ID',
        'Name',
        'Quiz 1 (Real)',
        'Quiz 1 (Feedback)',
        'Essay (Real)',
        'Essay (Feedback)',
        'Last downloaded from this course',
      ],
      ['u1', 'Ann Able', 6, 'Solid', 'Fair', '', T],
      ['u2', 'Bob Bunce', 8.5, '', '-', '', T],
      ['u3', 'Cy Cole', null, '', '-', '', T],
    ];
    expect(readOdsRows(exportToOds(e)).map((r) => r.map((c) => c ?? (r === null ? null : c)))).toEqual(
      expected.map((r) => r.map((c) => (c === '' ? null : c))),
    );
    // XLSX drops empty cells (trailing ones vanish), so compare cell by cell.
    const x = readXlsxRows(exportToXlsx(e));
    expected.forEach((r, i) => r.forEach((c, j) => expect(x[i]![j] ?? null).toEqual(c === '' ? null : c)));
  });

  it('[EXP-8] course JSON export keeps the setup and only the selected users grades', () => {
    const { text, users } = exportCourseJson(fixture(), { group: 'g1' });
    const doc = parseCourseJson(text);
    expect(users).toBe(2);
    expect(doc.items).toHaveLength(5);
    expect(new Set(doc.grades.map((g) => g.user))).toEqual(new Set(['u1']));
    expect(doc.users!.map((u) => u.id)).toEqual(['u1', 'u3']);
  });

  it('[EXP-9] round trip: a CSV export re-imported with the suggested mapping plans zero changes (fixture and generated)', () => {
    for (const course of [fixture(), generateCourse({ students: 40, items: 12, seed: 5 })]) {
      const gb = new Gradebook(course);
      for (const decimals of [1, 2, 5]) {
        const csv = exportToCsv(exportGrades(course, gb, { exportedAt: T, feedback: true, decimals }));
        const plan = planCsvImport(csv, course, suggestMapping(csvHeaders(csv), course), {
          grades: gb,
          now: T + 60,
        });
        expect(plan.problems).toEqual([]);
        expect(plan.changes).toEqual([]);
        expect(plan.unchanged).toBeGreaterThan(0);
      }
    }
  });

  it('[EXP-9] property: for generated courses (overrides, hidden, calculated, scales), any decimals 1..5, the CSV round trip plans nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 5 }), (seed, decimals) => {
        const course = generateCourse({ students: 6, items: 8, seed, calculated: 1, empty: 0.2 });
        const gb = new Gradebook(course);
        const csv = exportToCsv(exportGrades(course, gb, { exportedAt: T, feedback: true, decimals }));
        const plan = planCsvImport(csv, course, suggestMapping(csvHeaders(csv), course), { grades: gb });
        expect(plan.problems).toEqual([]);
        expect(plan.changes).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });

  it('[EXP-9] export, edit one cell, import: exactly that change; applied, the next export shows it', () => {
    const course = fixture();
    const csv = exportToCsv(run({ items: ['q1', 'lab1'] }, course)).replace(
      'u2,Bob Bunce,8.50',
      'u2,Bob Bunce,9.75',
    );
    const plan = planCsvImport(csv, course, suggestMapping(csvHeaders(csv), course));
    expect(plan.changes.map((c) => [c.user, c.item, c.old, c.new])).toEqual([['u2', 'q1', 8.5, 9.75]]);
    const next = applyImportPlan(course, plan);
    expect(run({ items: ['q1'] }, next).rows[1]![2]).toBe('9.75');
  });

  it('[EXP-3] fastFloat writes exactly what formatFloat (PHP number_format) writes', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 5 }), (v, d) => {
        expect(fastFloat(v, d)).toBe(formatFloat(v, d));
      }),
      { numRuns: 2000 },
    );
    for (const v of [1.005, 2.675, 0.125, -0.005, 1e-9, 99.995])
      for (const d of [0, 1, 2, 3]) expect(fastFloat(v, d)).toBe(formatFloat(v, d));
  });
});

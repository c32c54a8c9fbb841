// Tests of the CSV grade import plan (SPEC-import-export.md IMP-*), including Moodle's
// grade/import/csv/tests/load_data_test.php cases re-encoded, and fast-check properties.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CourseJson } from './course-types.ts';
import { parseCourseJson } from './course-json.ts';
import { Gradebook } from '../gradebook/index.ts';
import {
  applyImportPlan,
  csvHeaders,
  importPatches,
  MAX_PROBLEMS,
  planCsvImport,
  readNumber,
  suggestMapping,
  validateImportMapping,
  type DirectoryUser,
  type ImportMapping,
  type ImportOptions,
} from './grade-import.ts';
import { ValidationError } from '../shared/errors.ts';
import { cancelSource, CancelledError } from '../shared/cancel.ts';

const dir = fileURLToPath(new URL('../../../../test/fixtures/import/', import.meta.url));
const fixture = (): CourseJson => parseCourseJson(readFileSync(dir + 'course.json', 'utf8'));
const directory = JSON.parse(readFileSync(dir + 'directory.json', 'utf8')) as DirectoryUser[];
const byId = (column = 'User ID'): ImportMapping['user'] => ({ column, key: 'id' });

function plan(csv: string, columns: ImportMapping['columns'], opts: ImportOptions = {}, course = fixture()) {
  return planCsvImport(csv, course, { user: byId(), columns }, { directory, ...opts });
}

describe('CSV import plan', () => {
  it('[IMP-1] the fixture mapping plans every change with old and new values, unchanged cells counted', () => {
    const mapping = validateImportMapping(JSON.parse(readFileSync(dir + 'mapping.json', 'utf8')));
    const p = planCsvImport(readFileSync(dir + 'grades.csv', 'utf8'), fixture(), mapping, { directory });
    expect(p.problems).toEqual([]);
    expect(p.ok).toBe(true);
    expect(p.changes.map((c) => [c.user, c.item, c.field, c.old, c.new])).toEqual([
      ['u1', 'q1', 'final', 6, 7.5],
      ['u1', 'q1', 'feedback', 'Solid', 'Better'],
      ['u1', 'essay', 'final', 2, 3],
      ['u2', 'essay', 'final', null, 2],
      ['u3', 'lab1', 'final', null, 88],
    ]);
    // u1 Lab 1 70 = 70, u2 Quiz 1 8.5 = 8.5, u3 Quiz 1 "-" on no grade.
    expect(p.unchanged).toBe(3);
    expect(p.records).toBe(3);
    expect(p.ignoredColumns).toEqual(['Name']);
    expect(p.changes[0]!.at).toBe('row 2, column "Quiz 1"');
  });

  it('[IMP-1] a stored mapping is validated with JSON paths', () => {
    try {
      validateImportMapping({
        user: { column: '', key: 'phone' },
        columns: { A: { kind: 'grade' }, B: { kind: 'x' } },
      });
      expect.unreachable();
    } catch (e) {
      expect((e as ValidationError).problems.map((p) => p.at)).toEqual([
        '$.user.column',
        '$.user.key',
        '$.columns.A.item',
        '$.columns.B.kind',
      ]);
    }
    expect(validateImportMapping({ user: null, columns: {} })).toEqual({ user: null, columns: {} });
  });

  it('[IMP-1] suggestMapping reads our export headers: (Real) grades, (Feedback), totals and other displays ignored', () => {
    const headers = [
      'User ID',
      'Name',
      'Quiz 1 (Real)',
      'Quiz 1 (Percentage)',
      'Quiz 1 (Feedback)',
      'Bonus (Real)',
      'Labs total (Real)',
      'Course total (Real)',
      'Last downloaded from this course',
    ];
    expect(suggestMapping(headers, fixture())).toEqual({
      user: { column: 'User ID', key: 'id' },
      columns: {
        Name: { kind: 'ignore' },
        'Quiz 1 (Real)': { kind: 'grade', item: 'q1' },
        'Quiz 1 (Percentage)': { kind: 'ignore' },
        'Quiz 1 (Feedback)': { kind: 'feedback', item: 'q1' },
        'Bonus (Real)': { kind: 'ignore' }, // calculated
        'Labs total (Real)': { kind: 'ignore' },
        'Course total (Real)': { kind: 'ignore' },
        'Last downloaded from this course': { kind: 'ignore' },
      },
    });
  });

  it('[IMP-1] suggestMapping reads Moodle-style headers: "Module: Name", "Feedback: Name", idnumbers; email with a directory', () => {
    // Header shape of load_data_test.php $oktext.
    const headers = [
      'First name',
      'Surname',
      'ID number',
      'Email address',
      'Assignment: Lab 1',
      'Feedback: Lab 1',
      'QUIZ1',
    ];
    const m = suggestMapping(headers, fixture(), directory);
    expect(m.user).toEqual({ column: 'Email address', key: 'email' });
    expect(m.columns['Assignment: Lab 1']).toEqual({ kind: 'grade', item: 'lab1' });
    expect(m.columns['Feedback: Lab 1']).toEqual({ kind: 'feedback', item: 'lab1' });
    expect(m.columns.QUIZ1).toEqual({ kind: 'grade', item: 'q1' });
    expect(m.columns['First name']).toEqual({ kind: 'ignore' });
    // Without a directory only user ids can identify users.
    expect(suggestMapping(headers, fixture()).user).toBeNull();
  });

  it('[IMP-1] no user column is a problem, not a guess', () => {
    const p = planCsvImport('Quiz 1\n5\n', fixture(), {
      user: null,
      columns: { 'Quiz 1': { kind: 'grade', item: 'q1' } },
    });
    expect(p.ok).toBe(false);
    expect(p.problems[0]!.message).toMatch(/no column identifies the user/);
  });

  it('[IMP-2] items by id, idnumber or name; totals and calculated items are refused at row 1 of their column', () => {
    const csv = 'User ID,A,B,C,D,E\nu1,1,2,3,4,5\n';
    const p = plan(csv, {
      A: { kind: 'grade', item: 'labs' },
      B: { kind: 'grade', item: 'course' },
      C: { kind: 'grade', item: 'BONUS' },
      D: { kind: 'grade', item: 'Nope' },
      E: { kind: 'feedback', item: 'Bonus' },
    });
    expect(p.ok).toBe(false);
    expect(p.problems.map((x) => [x.at, x.row, x.column])).toEqual([
      ['row 1, column "A"', 1, 'A'],
      ['row 1, column "B"', 1, 'B'],
      ['row 1, column "C"', 1, 'C'],
      ['row 1, column "D"', 1, 'D'],
    ]);
    expect(p.problems[0]!.message).toMatch(/total of category "Labs" is computed/);
    expect(p.problems[1]!.message).toMatch(/course total/);
    expect(p.problems[2]!.message).toMatch(/calculated item/);
    expect(p.problems[3]!.message).toMatch(/no grade item/);
    // Feedback on a calculated item is allowed (E planned a change).
  });

  it('[IMP-2] two columns on one target (Moodle cannotmapfield), a missing or duplicated header', () => {
    const p = plan('User ID,A,B,B\nu1,1,2,3\n', {
      A: { kind: 'grade', item: 'q1' },
      'Quiz 1': { kind: 'grade', item: 'QUIZ1' },
      B: { kind: 'grade', item: 'lab1' },
      Z: { kind: 'feedback', item: 'q1' },
    });
    const msgs = p.problems.map((x) => `${x.at}: ${x.message}`);
    expect(msgs).toContain('column "Quiz 1": the grade column "Quiz 1" is not in the file');
    expect(msgs).toContain(
      'row 1, column "B": 2 columns are headed "B"; rename them so the mapping is unambiguous',
    );
    expect(msgs).toContain('column "Z": the feedback column "Z" is not in the file');
    const q = plan('User ID,A,Quiz 1\nu1,1,2\n', {
      A: { kind: 'grade', item: 'q1' },
      'Quiz 1': { kind: 'grade', item: 'QUIZ1' },
    });
    expect(q.problems.map((x) => x.message)).toEqual([
      'column "A" is already mapped to the grade of "Quiz 1"',
    ]);
  });

  it('[IMP-3] users by email (case-insensitive), username or idnumber; unknown, not enrolled, empty and repeated rows', () => {
    const csv = [
      'Email,Quiz 1',
      'ANN@example.com,5',
      'nobody@example.com,5',
      'zed@example.com,5',
      ',5',
      'ann@example.com,6',
    ].join('\n');
    const p = planCsvImport(
      csv,
      fixture(),
      { user: { column: 'Email', key: 'email' }, columns: { 'Quiz 1': { kind: 'grade', item: 'q1' } } },
      { directory },
    );
    expect(p.problems.map((x) => `${x.at}: ${x.message}`)).toEqual([
      'row 3, column "Email": no user with email "nobody@example.com"',
      'row 4, column "Email": user "u9" is not in this course',
      'row 5, column "Email": no user given (the user column is empty)',
      'row 6, column "Email": user "u1" already appears in row 2; each user may have one row',
    ]);
    expect(p.changes).toHaveLength(1);
    const byName = planCsvImport(
      'Login,Quiz 1\nbob,9\n',
      fixture(),
      { user: { column: 'Login', key: 'username' }, columns: { 'Quiz 1': { kind: 'grade', item: 'q1' } } },
      { directory },
    );
    expect(byName.changes.map((c) => [c.user, c.new])).toEqual([['u2', 9]]);
  });

  it('[IMP-3] load_data_test.php test_check_user_exists: a name in the id column does not match anyone', () => {
    const p = plan('User ID,Quiz 1\nAnne,5\n', { 'Quiz 1': { kind: 'grade', item: 'q1' } });
    expect(p.problems[0]).toMatchObject({
      row: 2,
      column: 'User ID',
      message: 'user "Anne" is not in this course',
    });
  });

  it('[IMP-4] load_data_test.php test_update_grade_item: "A" is not a grade; "-" clears', () => {
    const p = plan('User ID,Quiz 1\nu1,A\nu2,-\n', { 'Quiz 1': { kind: 'grade', item: 'q1' } });
    expect(p.problems).toEqual([
      { at: 'row 2, column "Quiz 1"', row: 2, column: 'Quiz 1', message: '"A" is not a number' },
    ]);
    const q = plan('User ID,Quiz 1\nu2,-\n', { 'Quiz 1': { kind: 'grade', item: 'q1' } });
    expect(q.changes.map((c) => [c.user, c.old, c.new])).toEqual([['u2', 8.5, null]]);
  });

  it('[IMP-5] an empty cell changes nothing by default; emptyCells "clear" follows Moodle and clears it', () => {
    const csv = 'User ID,Quiz 1,FB\nu1,,\n';
    const cols = { 'Quiz 1': { kind: 'grade', item: 'q1' }, FB: { kind: 'feedback', item: 'q1' } } as const;
    const skip = plan(csv, cols);
    expect(skip).toMatchObject({ ok: true, changes: [], skipped: 2, unchanged: 0 });
    // load_data_test.php test_map_user_data_with_value: an empty grade becomes a null finalgrade.
    const clear = plan(csv, cols, { emptyCells: 'clear' });
    expect(clear.changes.map((c) => [c.field, c.old, c.new])).toEqual([
      ['final', 6, null],
      ['feedback', 'Solid', ''],
    ]);
  });

  it('[IMP-6] decimal commas with the "," locale (unformat_float), spaces as thousands separators; rejected with "."', () => {
    const csv = 'User ID;Lab 1\nu1;"7,5"\nu3;" 8 0,25"\n';
    const p = plan(csv, { 'Lab 1': { kind: 'grade', item: 'lab1' } }, { decimalSeparator: ',' });
    expect(p.changes.map((c) => c.new)).toEqual([7.5, 80.25]);
    const dot = plan(csv, { 'Lab 1': { kind: 'grade', item: 'lab1' } });
    expect(dot.problems[0]!.message).toBe('"7,5" is not a number (the decimal separator is ".")');
    expect(readNumber('1e2', '.')).toEqual({ value: 100, decimals: 0 });
    expect(readNumber('0x10', '.')).toBeNull();
    expect(readNumber('Infinity', '.')).toBeNull();
  });

  it('[IMP-7] scale items take labels (trimmed, exact) or, with verboseScales false, positions', () => {
    const cols = { Essay: { kind: 'grade', item: 'essay' } } as const;
    const p = plan('User ID,Essay\nu2, Good \nu3,good\n', cols);
    expect(p.changes.map((c) => [c.user, c.new])).toEqual([['u2', 3]]);
    expect(p.problems[0]!.message).toBe('"good" is not on the scale of "Essay" (Poor, Fair, Good)');
    const pos = plan('User ID,Essay\nu2,1\nu3,4\n', cols, { verboseScales: false });
    expect(pos.changes.map((c) => c.new)).toEqual([1]);
    expect(pos.problems[0]!.message).toBe('4 is not a scale position of "Essay" (1..3)');
  });

  it('[IMP-8] out of range is a problem by default; outOfRange "clamp" bounds it as Moodle does', () => {
    const cols = { 'Quiz 1': { kind: 'grade', item: 'q1' } } as const;
    const p = plan('User ID,Quiz 1\nu1,11\nu3,-1\n', cols);
    expect(p.problems.map((x) => x.message)).toEqual([
      '11 is out of the range of "Quiz 1" (0..10)',
      '-1 is out of the range of "Quiz 1" (0..10)',
    ]);
    expect(
      plan('User ID,Quiz 1\nu1,11\nu3,-1\n', cols, { outOfRange: 'clamp' }).changes.map((c) => c.new),
    ).toEqual([10, 0]);
  });

  it('[IMP-9] a locked item or grade refuses any change, including feedback; unchanged cells pass', () => {
    const cols = {
      'Lab 1': { kind: 'grade', item: 'lab1' },
      'Lab 2': { kind: 'grade', item: 'lab2' },
      FB: { kind: 'feedback', item: 'lab2' },
    } as const;
    const p = plan('User ID,Lab 1,Lab 2,FB\nu1,70,55,\nu2,40,,hi\nu3,1,2,\n', cols);
    expect(p.problems.map((x) => `${x.at}: ${x.message}`)).toEqual([
      'row 3, column "FB": item "Lab 2" is locked; the import would change its feedback',
      'row 4, column "Lab 2": item "Lab 2" is locked; the import would change it',
    ]);
    const g = plan('User ID,Lab 1\nu2,41\n', { 'Lab 1': { kind: 'grade', item: 'lab1' } });
    expect(g.problems[0]!.message).toBe(
      'the grade of user "u2" in "Lab 1" is locked; the import would change it',
    );
  });

  it('[IMP-9] lock times: a grade with a lock time is refused only after that time (engine isLocked)', () => {
    const c = fixture();
    c.grades.push({ user: 'u3', item: 'q1', final: 1, locked: 1000 });
    const cols = { 'Quiz 1': { kind: 'grade', item: 'q1' } } as const;
    expect(plan('User ID,Quiz 1\nu3,2\n', cols, { now: 999 }, c).ok).toBe(true);
    expect(plan('User ID,Quiz 1\nu3,2\n', cols, { now: 1000 }, c).ok).toBe(true);
    expect(plan('User ID,Quiz 1\nu3,2\n', cols, { now: 1001 }, c).ok).toBe(false);
  });

  it('[IMP-10] a cell equal to the current grade at its own precision is unchanged; whole numbers compare exactly', () => {
    const c = fixture();
    c.grades.push({ user: 'u3', item: 'lab1', final: 66.66667 });
    const cols = { 'Lab 1': { kind: 'grade', item: 'lab1' } } as const;
    expect(plan('User ID,Lab 1\nu3,66.67\n', cols, {}, c)).toMatchObject({ changes: [], unchanged: 1 });
    expect(plan('User ID,Lab 1\nu3,66.7\n', cols, {}, c)).toMatchObject({ changes: [], unchanged: 1 });
    expect(plan('User ID,Lab 1\nu3,66.66\n', cols, {}, c).changes).toHaveLength(1);
    expect(plan('User ID,Lab 1\nu3,67\n', cols, {}, c).changes).toHaveLength(1);
  });

  it('[IMP-11] applying: activity grades become overrides, manual ones stored finals; feedback kept or created; the engine agrees', () => {
    const course = fixture();
    const p = plan('User ID,Quiz 1,FB,Lab 1\nu1,7.5,Better,70\nu2,-,,\nu3,3,New,12\n', {
      'Quiz 1': { kind: 'grade', item: 'q1' },
      FB: { kind: 'feedback', item: 'q1' },
      'Lab 1': { kind: 'grade', item: 'lab1' },
    });
    expect(p.ok).toBe(true);
    const before = JSON.stringify(course);
    const next = applyImportPlan(course, p);
    expect(JSON.stringify(course)).toBe(before);
    const g = (u: string, i: string) => next.grades.find((x) => x.user === u && x.item === i);
    expect(g('u1', 'q1')).toEqual({ user: 'u1', item: 'q1', raw: 6, feedback: 'Better', overridden: 7.5 });
    expect(g('u2', 'q1')).toMatchObject({ raw: null, overridden: null });
    expect(g('u2', 'q1')!.final).toBeUndefined();
    expect(g('u3', 'q1')).toEqual({ user: 'u3', item: 'q1', raw: null, final: 3, feedback: 'New' });
    const gb = new Gradebook(next);
    for (const ch of p.changes.filter((x) => x.field === 'final'))
      expect(gb.final(ch.item, ch.user)).toBe(ch.new);
  });

  it('[IMP-11] importPatches: one patch per grade; applied through the engine they give the same finals as applyImportPlan', () => {
    const course = fixture();
    const p = plan('User ID,Quiz 1,FB,Lab 1\nu1,7.5,Better,\nu2,-,x,\nu3,3,,12\n', {
      'Quiz 1': { kind: 'grade', item: 'q1' },
      FB: { kind: 'feedback', item: 'q1' },
      'Lab 1': { kind: 'grade', item: 'lab1' },
    });
    const patches = importPatches(course, p);
    expect(patches).toEqual([
      {
        item: 'q1',
        user: 'u1',
        patch: { overridden: 7.5, feedback: 'Better' },
        expected: { final: 6, feedback: 'Solid' },
      },
      {
        item: 'q1',
        user: 'u2',
        patch: {
          raw: null,
          final: null,
          overridden: null,
          rawgrademin: null,
          rawgrademax: null,
          feedback: 'x',
        },
        expected: { final: 8.5, feedback: null },
      },
      { item: 'q1', user: 'u3', patch: { raw: null, final: 3 }, expected: { final: null } },
      { item: 'lab1', user: 'u3', patch: { raw: null, final: 12 }, expected: { final: null } },
    ]);
    const live = new Gradebook(course);
    for (const x of patches) live.setGrade(x.item, x.user, x.patch, 'import');
    const applied = new Gradebook(applyImportPlan(course, p));
    for (const u of ['u1', 'u2', 'u3'])
      for (const i of ['q1', 'lab1', 'bonus', 'labs', 'course'])
        expect(live.final(i, u)).toBe(applied.final(i, u));
  });

  it('[IMP-3] with a group, users outside it are refused (Moodle separate groups mode)', () => {
    const p = plan(
      'User ID,Quiz 1\nu1,1\nu2,2\n',
      { 'Quiz 1': { kind: 'grade', item: 'q1' } },
      { group: 'g1' },
    );
    expect(p.problems.map((x) => `${x.at}: ${x.message}`)).toEqual([
      'row 3, column "User ID": user "u2" is not in group "g1"; you may import only that group',
    ]);
  });

  it('[IMP-11] all-or-nothing: a plan with problems cannot be applied and says so', () => {
    const p = plan('User ID,Quiz 1\nu1,5\nu2,x\n', { 'Quiz 1': { kind: 'grade', item: 'q1' } });
    expect(p.ok).toBe(false);
    expect(p.changes).toHaveLength(1);
    expect(() => applyImportPlan(fixture(), p)).toThrow(/1 problem\(s\); nothing was changed/);
  });

  it('[IMP-12] load_data_test.php $badtext: a row with more cells than headers is refused (csvweirdcolumns)', () => {
    const bad =
      '"First name",Surname,"ID number",Institution,Department,"Email address","Assignment: Lab 1","Course total"\n' +
      'Anne,Able,,"Moodle HQ","Rock on!",ann@example.com,56.00,56.00,78.00\n' +
      'Bobby,Bunce,,"Moodle HQ","Rock on!",cy@example.com,75.00,75.00\n';
    const m = suggestMapping(csvHeaders(bad), fixture(), directory);
    const p = planCsvImport(bad, fixture(), m, { directory });
    expect(p.problems).toEqual([{ at: 'row 2', row: 2, message: 'has 9 cells but the header row has 8' }]);
  });

  it('[IMP-12] load_data_test.php $oktext: Moodle export headers import by email with feedback; empty cells skip', () => {
    const ok =
      '"First name",Surname,"ID number",Institution,Department,"Email address","Assignment: Lab 1", "Feedback: Lab 1","Quiz 1","Course total"\n' +
      'Anne,Able,,"Moodle HQ","Rock on!",ann@example.com,56.00,"We welcome feedback",,56.00\n' +
      'Bobby,Bunce,,"Moodle HQ","Rock on!",cy@example.com,75.00,,4.0,75.00\n';
    const m = suggestMapping(csvHeaders(ok), fixture(), directory);
    expect(m.user).toEqual({ column: 'Email address', key: 'email' });
    const p = planCsvImport(ok, fixture(), m, { directory });
    expect(p.problems).toEqual([]);
    expect(p.changes.map((c) => [c.user, c.item, c.field, c.new])).toEqual([
      ['u1', 'lab1', 'final', 56],
      ['u1', 'lab1', 'feedback', 'We welcome feedback'],
      ['u3', 'lab1', 'final', 75],
      ['u3', 'q1', 'final', 4],
    ]);
  });

  it('[IMP-12] blank lines are skipped but counted in row numbers; quoted line breaks stay in one row', () => {
    const p = plan('User ID,Quiz 1,FB\r\n\r\nu1,x,"two\r\nlines"\r\nu2,y,\r\n', {
      'Quiz 1': { kind: 'grade', item: 'q1' },
      FB: { kind: 'feedback', item: 'q1' },
    });
    expect(p.problems.map((x) => x.row)).toEqual([3, 4]);
    expect(p.records).toBe(2);
    expect(plan('', {}).problems[0]!.message).toMatch(/the file is empty/);
    expect(plan('User ID,Quiz 1\n', {}).problems[0]!.message).toMatch(/no data rows/);
  });

  it('[IMP-12] "Last downloaded from this course": in the future or over a year old is refused unless forced', () => {
    const csv = (t: string) => `User ID,Quiz 1,Last downloaded from this course\nu1,6,${t}\n`;
    const cols = { 'Quiz 1': { kind: 'grade', item: 'q1' } } as const;
    const now = 1_800_000_000;
    expect(plan(csv(String(now - 10)), cols, { now }).ok).toBe(true);
    expect(plan(csv(String(now + 10)), cols, { now }).problems[0]!.column).toBe(
      'Last downloaded from this course',
    );
    expect(plan(csv(String(now - 366 * 86400)), cols, { now }).ok).toBe(false);
    expect(plan(csv('yesterday'), cols, { now }).ok).toBe(false);
    expect(plan(csv(String(now + 10)), cols, { now, force: true }).ok).toBe(true);
  });

  it('[IMP-16] problems stop at 1000 listed with a count of the rest; progress and cancel per chunk of rows', () => {
    const rows = ['User ID,Quiz 1', ...Array.from({ length: 1500 }, (_, i) => `nobody${i},1`)];
    const p = plan(rows.join('\n'), { 'Quiz 1': { kind: 'grade', item: 'q1' } });
    expect(p.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(p.problems.at(-1)!.message).toBe('... and 500 more problems (fix the ones above first)');
    const seen: [number, number][] = [];
    plan(
      rows.join('\n'),
      { 'Quiz 1': { kind: 'grade', item: 'q1' } },
      { onProgress: (d, t) => seen.push([d, t]) },
    );
    expect(seen[0]).toEqual([0, 1500]);
    expect(seen.at(-1)).toEqual([1500, 1500]);
    const src = cancelSource();
    src.cancel();
    expect(() => plan(rows.join('\n'), {}, { cancel: src.token })).toThrow(CancelledError);
  });
});

describe('CSV import properties', () => {
  const users = ['u1', 'u2', 'u3'];
  const cell = fc.oneof(
    fc.constant(''),
    fc.constant('-'),
    fc.integer({ min: -2, max: 110 }).map(String),
    fc.double({ min: 0, max: 10, noNaN: true }).map((d) => d.toFixed(2)),
    fc.constantFrom('Poor', 'Fair', 'Good', 'x', '7,5', ' 3 '),
  );
  const fb = fc.oneof(fc.constant(''), fc.string({ maxLength: 8 }));
  const csvArb = fc
    .tuple(
      fc.subarray(users, { minLength: 1 }),
      fc.array(fc.tuple(cell, cell, cell, fb), { minLength: 3, maxLength: 3 }),
      fc.constantFrom<'skip' | 'clear'>('skip', 'clear'),
    )
    .map(([us, cells, empty]) => ({
      csv: writeRows([['User ID', 'Quiz 1', 'Essay', 'Lab 1', 'FB'], ...us.map((u, i) => [u, ...cells[i]!])]),
      empty,
    }));
  const columns: ImportMapping['columns'] = {
    'Quiz 1': { kind: 'grade', item: 'q1' },
    Essay: { kind: 'grade', item: 'essay' },
    'Lab 1': { kind: 'grade', item: 'lab1' },
    FB: { kind: 'feedback', item: 'q1' },
  };

  it('[IMP-11] any plan either has problems (and cannot apply) or applies, and re-planning the same file then changes nothing', () => {
    fc.assert(
      fc.property(csvArb, ({ csv, empty }) => {
        const course = fixture();
        const p = plan(csv, columns, { emptyCells: empty }, course);
        if (!p.ok) {
          expect(p.problems.length).toBeGreaterThan(0);
          expect(() => applyImportPlan(course, p)).toThrow(ValidationError);
          return;
        }
        const next = applyImportPlan(course, p);
        const again = plan(csv, columns, { emptyCells: empty }, next);
        expect(again.ok).toBe(true);
        expect(again.changes).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

function writeRows(rows: string[][]): string {
  return rows
    .map((r) => r.map((c) => (/[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(','))
    .join('\n');
}

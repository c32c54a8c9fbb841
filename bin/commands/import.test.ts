// `markbook import` and `markbook export` end to end: spawns the real command on test/fixtures/import
// (src/lib/domain/interchange/SPEC-import-export.md CLI-1, CLI-2).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strFromU8, unzipSync } from 'fflate';
import { parseCourseJson } from '../../src/lib/domain/interchange/course-json.ts';
import { Gradebook } from '../../src/lib/domain/gradebook/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fx = (f: string) => join(root, 'test/fixtures/import', f);
const NOW = '1800000000';

function markbook(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/markbook.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('markbook import', () => {
  it('[CLI-1] prints the plan; with --out writes the updated course, whose grades the engine then reports', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mb-import-')), 'next.json');
    const r = markbook(
      'import',
      fx('course.json'),
      fx('grades.csv'),
      '--map',
      fx('mapping.json'),
      '--directory',
      fx('directory.json'),
      '--now',
      NOW,
      '--out',
      out,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out);
    expect(plan).toMatchObject({ ok: true, format: 'csv', written: out, unchanged: 3, problems: [] });
    expect(plan.changes).toHaveLength(5);
    const gb = new Gradebook(parseCourseJson(readFileSync(out, 'utf8')));
    expect(gb.final('q1', 'u1')).toBe(7.5);
    expect(gb.final('lab1', 'u3')).toBe(88);
    expect(gb.getGrades('q1', ['u1']).grades.u1!.feedback).toBe('Better');
  });

  it('[CLI-1] a plan with problems exits 1, names row and column on stderr, and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mb-import-')), 'next.json');
    const r = markbook(
      'import',
      fx('course.json'),
      fx('bad-grades.csv'),
      '--map',
      fx('mapping.json'),
      '--directory',
      fx('directory.json'),
      '--now',
      NOW,
      '--out',
      out,
    );
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(r.err).toContain('bad-grades.csv: row 2, column "Quiz 1": "seven" is not a number');
    expect(r.err).toContain('row 5, column "Email address": user "u1" already appears in row 2');
    expect(r.err).toContain(`nothing written to ${out}`);
    expect(JSON.parse(r.out).problems).toHaveLength(5);
  });

  it('[CLI-1] without --map the mapping is suggested from the headers and printed; XML files plan by extension', () => {
    const csv = join(mkdtempSync(join(tmpdir(), 'mb-import-')), 'g.csv');
    writeFileSync(csv, 'User ID,Quiz 1 (Real),Course total (Real)\nu3,4,99\n');
    const r = markbook('import', fx('course.json'), csv, '--now', NOW);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out);
    expect(plan.mapping.columns['Course total (Real)']).toEqual({ kind: 'ignore' });
    expect(plan.changes).toEqual([
      { item: 'q1', user: 'u3', field: 'final', old: null, new: 4, at: 'row 2, column "Quiz 1 (Real)"' },
    ]);
    const x = markbook(
      'import',
      fx('course.json'),
      fx('results.xml'),
      '--directory',
      fx('directory.json'),
      '--now',
      NOW,
    );
    expect(x.code).toBe(0);
    expect(JSON.parse(x.out)).toMatchObject({ format: 'xml', mapping: null });
  });

  it('[CLI-1] bad arguments and bad files exit 2 or 1 with the argument or JSON path named', () => {
    expect(markbook('import', fx('course.json')).code).toBe(2);
    const bad = markbook('import', fx('course.json'), fx('grades.csv'), '--empty', 'maybe');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--empty: must be one of skip, clear/);
    const map = join(mkdtempSync(join(tmpdir(), 'mb-import-')), 'm.json');
    writeFileSync(map, JSON.stringify({ user: { column: 'Email address', key: 'phone' }, columns: {} }));
    const m = markbook('import', fx('course.json'), fx('grades.csv'), '--map', map);
    expect(m.code).toBe(1);
    expect(m.err).toContain('$.user.key: must be one of id, username, email, idnumber');
    expect(markbook('import', fx('nope.json'), fx('grades.csv')).err).toMatch(/cannot read course file/);
  });
});

describe('markbook export', () => {
  it('[CLI-2] CSV with filters and display prints the summary; the file re-imports with no changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-export-'));
    const out = join(dir, 'g.csv');
    const r = markbook(
      'export',
      fx('course.json'),
      '--format',
      'csv',
      '--group',
      'g1',
      '--feedback',
      '--now',
      NOW,
      '--out',
      out,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      format: 'csv',
      out,
      users: 2,
      feedback: true,
      exportedAt: 1800000000,
      display: ['real'],
    });
    const text = readFileSync(out, 'utf8');
    expect(text.split('\r\n')[1]).toBe(
      'u1,Ann Able,6.00,Solid,Fair,,12.00,,70.00,,55.00,,62.50,82.50,1800000000',
    );
    const back = markbook('import', fx('course.json'), out, '--now', NOW);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.out)).toMatchObject({ ok: true, changes: [] });
  });

  it('[CLI-2] identity columns from --directory; Moodle-style files map back by email', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mb-export-')), 'g.csv');
    const r = markbook(
      'export',
      fx('course.json'),
      '--out',
      out,
      '--items',
      'q1',
      '--directory',
      fx('directory.json'),
      '--identity',
      'email',
    );
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\r\n').slice(0, 2)).toEqual([
      'User ID,Name,Email address,Quiz 1 (Real),Last downloaded from this course',
      expect.stringMatching(/^u1,Ann Able,Ann@Example.com,6.00,\d+$/),
    ]);
    const bad = markbook('export', fx('course.json'), '--out', out, '--identity', 'phone');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--identity: must be idnumber, email or username, got "phone"');
  });

  it('[CLI-2] XLSX, ODS and JSON files; unknown options and filters are refused by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-export-'));
    for (const f of ['xlsx', 'ods'] as const) {
      const out = join(dir, `g.${f}`);
      const r = markbook(
        'export',
        fx('course.json'),
        '--format',
        f,
        '--display',
        'real,letter',
        '--items',
        'q1,course',
        '--now',
        NOW,
        '--out',
        out,
      );
      expect(r.code).toBe(0);
      const files = unzipSync(new Uint8Array(readFileSync(out)));
      const sheet = strFromU8(files[f === 'xlsx' ? 'xl/worksheets/sheet1.xml' : 'content.xml']!);
      expect(sheet).toContain('Quiz 1 (Letter)');
      expect(sheet).toContain('Course total (Real)');
    }
    const json = join(dir, 'c.json');
    expect(markbook('export', fx('course.json'), '--users', 'u2', '--out', json).code).toBe(0);
    expect(parseCourseJson(readFileSync(json, 'utf8')).grades.every((g) => g.user === 'u2')).toBe(true);
    const unknown = markbook(
      'export',
      fx('course.json'),
      '--format',
      'csv',
      '--category',
      'nope',
      '--out',
      join(dir, 'x.csv'),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('--category: unknown category "nope"');
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
    expect(markbook('export', fx('course.json'), '--format', 'pdf', '--out', join(dir, 'x.pdf')).code).toBe(
      2,
    );
    expect(markbook('export', fx('course.json'), '--format', 'csv').err).toMatch(/--out <file> is required/);
  });
});

// `markbook report` end to end: runs the real command on fixtures (shared/spec/course-json.md; gradebook SPEC.md REP-*).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'test/fixtures/courses/natural-exclude-empty.json');

function markbook(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/markbook.js'), 'report', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('markbook report', () => {
  it('[REP-1] teacher rows: one per user x item/total, full precision, with setup rows', () => {
    const r = markbook(fixture, '--now', '0');
    expect(r.code).toBe(0);
    const { rows, setup } = JSON.parse(r.out);
    expect(rows.map((x: { item: string }) => x.item)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'course']);
    const course = rows.at(-1);
    // grade_natural_exclude_empty.feature: 80 + 30 + extra credit 10 + 8 = 128 of 150.
    expect(course).toEqual({
      user: 's1',
      item: 'course',
      final: 128,
      range: [0, 150],
      percentage: (128 * 100) / 150,
      weightPct: null,
      contributionPct: null,
      letter: 'B',
    }); // 85.33 % -> B (83..87)
    expect(rows[2]).toMatchObject({ item: 'a3', final: null, weightPct: 0, contributionPct: 0 }); // "0.00 % (Empty)"
    expect(setup.at(-1)).toEqual({ item: 'course', setupWeightPct: null, grademax: 350 });
  });
  it('[REP-4] student rows: hidden item gone, total recomputed without it', () => {
    const r = markbook(fixture, '--viewer', 'student', '--now', '0');
    expect(r.code).toBe(0);
    const { rows } = JSON.parse(r.out);
    expect(rows.map((x: { item: string }) => x.item)).toEqual(['a1', 'a2', 'a3', 'a4', 'course']);
    expect(rows.at(-1).final).toBe(120);
  });
  it('[JSON-1] invalid input exits non-zero and names the JSON path on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'markbook-report-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        categories: [{ id: 'c', parent: null, name: 'C', aggregation: 'natural' }],
        items: [{ id: 'a', idnumber: 'a', category: 'c', name: 'a', grademin: 0, grademax: 'x' }],
        grades: [],
        settings: {},
      }),
    );
    const r = markbook(bad);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toContain('$.items[0].grademax: must be a finite number');
  });
  it('bad arguments name the argument', () => {
    expect(markbook(fixture, '--viewer', 'parent').err).toContain('--viewer: must be "teacher" or "student"');
    expect(markbook(fixture, '--now', 'soon').err).toContain('--now: "soon" is not a number');
    expect(markbook('/nonexistent/course.json').err).toContain(
      '/nonexistent/course.json: cannot read (ENOENT)',
    );
    expect(markbook().code).not.toBe(0);
  });
});

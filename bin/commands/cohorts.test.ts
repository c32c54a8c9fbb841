// `markbook cohorts match|process|explain` end to end on the fixture site (spec site-json.md; cohorts SPEC.md COH-CLI*).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fx = (f: string) => join(root, 'test/fixtures/site', f);
const NOW = '1767225600'; // 2026-01-01

function markbook(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/markbook.js'), 'cohorts', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmpJson(value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'mb-cohorts-'));
  const file = join(dir, 'x.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('markbook cohorts', () => {
  it('[COH-CLI1] match prints the sorted ids the rule selects (deleted, suspended and inactive enrolments excluded)', () => {
    // u2, u4, u5 are students in phys101; u4 is suspended and u5 deleted; u3's enrolment is inactive.
    const r = markbook('match', fx('site.json'), fx('rule-physics-students.json'), '--now', NOW);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(['u2']);
  });

  it('[COH-CLI1] match honours --now for "in the last" periods', () => {
    const rule = tmpJson({
      operator: 'AND',
      cohortId: null,
      conditions: [{ type: 'user_last_login', operator: 'in_last', period: { value: 2, unit: 'days' } }],
    });
    // lastaccess: u1 2026-01-01, u2 2025-12-31, u6 2025-12-30 02:13 (u5 is deleted).
    expect(JSON.parse(markbook('match', fx('site.json'), rule, '--now', NOW).out)).toEqual([
      'u1',
      'u2',
      'u6',
    ]);
    // A day later the window starts exactly at u2's last access: the start is inclusive.
    expect(
      JSON.parse(markbook('match', fx('site.json'), rule, '--now', String(Number(NOW) + 86400)).out),
    ).toEqual(['u1', 'u2']);
    expect(
      JSON.parse(markbook('match', fx('site.json'), rule, '--now', String(Number(NOW) + 86401)).out),
    ).toEqual(['u1']);
  });

  it('[COH-CLI1] a broken rule exits non-zero naming the field at fault', () => {
    const rule = tmpJson({
      operator: 'OR',
      cohortId: null,
      conditions: [{ type: 'course_completed', operator: 'any', courseId: 'hist201' }],
    });
    const r = markbook('match', fx('site.json'), rule, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /rule is broken: \$\.conditions\[0\]\.courseId: completion is disabled in course "hist201"/,
    );
  });

  it('[COH-CLI1] a malformed rule or site exits non-zero naming the JSON path', () => {
    const rule = tmpJson({
      operator: 'AND',
      cohortId: null,
      conditions: [{ type: 'user_profile', field: 'city', operator: 'near', value: 'x' }],
    });
    const r = markbook('match', fx('site.json'), rule);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\$\.conditions\[0\]\.operator: unknown value "near"/);
    const badSite = tmpJson({ users: [{ id: 'u1' }] });
    const r2 = markbook('match', badSite, fx('rule-physics-students.json'));
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/\$\.users\[0\]\.username: is required/);
    expect(markbook('match', fx('site.json')).code).toBe(2);
  });

  it('[COH-CLI2] process prints membership changes and writes the new site only with --out; a second run changes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-cohorts-'));
    const out = join(dir, 'site.json');
    const r = markbook('process', fx('site.json'), fx('rules.json'), '--now', NOW, '--out', out);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ cohortId: 'c-phys', added: ['u2'], removed: ['u3'] }]);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.cohorts.find((c: { id: string }) => c.id === 'c-phys').members).toEqual(['u2']);
    // The input file is left as it was.
    expect(JSON.parse(readFileSync(fx('site.json'), 'utf8')).cohorts[0].members).toEqual(['u3']);
    const again = markbook('process', out, fx('rules.json'), '--now', NOW);
    expect(JSON.parse(again.out)).toEqual([{ cohortId: 'c-phys', added: [], removed: [] }]);
  });

  it('[COH-CLI2] process skips disabled rules, reports broken ones on stderr and leaves their cohorts alone', () => {
    const rules = tmpJson([
      {
        id: 'off',
        operator: 'AND',
        cohortId: 'c-staff',
        conditions: [{ type: 'auth_method', operator: 'equals', value: 'oauth2' }],
      },
      {
        id: 'bad',
        enabled: true,
        operator: 'AND',
        cohortId: 'c-phys',
        conditions: [{ type: 'quiz_result', quizId: 'nope', minGrade: 0, maxGrade: 1 }],
      },
    ]);
    const r = markbook('process', fx('site.json'), rules, '--now', NOW);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
    expect(r.err).toMatch(/rule "off" skipped: disabled/);
    expect(r.err).toMatch(
      /rule "bad" is broken and was not processed: \$\.conditions\[0\]\.quizId: quiz "nope" does not exist/,
    );
  });

  it('[COH-CLI2] two rules for one cohort are rejected with the path of the second', () => {
    const rule = {
      enabled: true,
      operator: 'AND',
      cohortId: 'c-phys',
      conditions: [{ type: 'auth_method', operator: 'equals', value: 'manual' }],
    };
    const r = markbook('process', fx('site.json'), tmpJson([rule, rule]), '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\$\[1\]\.cohortId: cohort "c-phys" is already managed by rule "rule-1"/);
  });

  it('[COH-E5] explain says which condition fails for a user', () => {
    const r = markbook('explain', fx('site.json'), fx('rule-physics-students.json'), 'u4', '--now', NOW);
    expect(r.code).toBe(0);
    const ex = JSON.parse(r.out);
    expect(ex.matches).toBe(false);
    expect(ex.failing).toEqual([
      { at: '$.conditions[1]', description: 'Users with Suspended account is equal to "No"' },
    ]);
  });
});

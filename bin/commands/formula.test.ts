// End-to-end tests of `markbook formula` (SPEC FRM-30): spawns the real command and reads its output.
// Never writes files; each case is a separate node process, as a user would run it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../markbook.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

function markbook(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'formula', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('[FRM-30] markbook formula', { timeout: 90_000 }, () => {
  it('[FRM-30] prints the value as a JSON number and exits 0', () => {
    const r = markbook('=a*2 + max(b, 1)', '--vars', '{"a": 3, "b": 0.5}');
    expect(r).toEqual({ code: 0, stdout: '7\n', stderr: '' });
  });

  it('[FRM-30] follows Moodle precedence: comparisons bind tighter than arithmetic', () => {
    expect(JSON.parse(markbook('=2<3*10').stdout)).toBe(10);
    expect(JSON.parse(markbook('=-2^2').stdout)).toBe(-4);
    expect(JSON.parse(markbook('=round(-2.5)').stdout)).toBe(-3);
  });

  it('[FRM-30] accepts the formula without a leading = and --vars=... syntax', () => {
    expect(markbook('x/4', '--vars={"x": 10}').stdout).toBe('2.5\n');
  });

  it('[FRM-30] a syntax error exits 1 and names the column on stderr', () => {
    const r = markbook('=1 + * 2');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unexpected operator '*'");
    expect(r.stderr).toContain('column 6');
  });

  it('[FRM-30] division by zero, unknown function and unknown variable exit 1 naming the culprit', () => {
    const div = markbook('=a/b', '--vars', '{"a": 1, "b": 0}');
    expect(div.code).toBe(1);
    expect(div.stderr).toContain('division by zero');
    const fn = markbook('=median(1,2)');
    expect(fn.code).toBe(1);
    expect(fn.stderr).toContain("unknown function 'median()'");
    const v = markbook('=quiz + 1');
    expect(v.code).toBe(1);
    expect(v.stderr).toContain("undefined variable 'quiz'");
  });

  it('[FRM-30] bad --vars exit 2 naming the argument', () => {
    const notJson = markbook('=a', '--vars', '{a: 1}');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('--vars: not valid JSON');
    const notNumber = markbook('=a', '--vars', '{"a": "1"}');
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain('--vars.a: must be a finite number');
    const badName = markbook('=a', '--vars', '{"Quiz 1": 1}');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('--vars.Quiz 1');
  });

  it('[FRM-30] a missing formula is a usage error', () => {
    const r = markbook();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing the formula');
  });

  it('[FRM-30][FRM-21] [[idnumber]] formulas take --vars by idnumber; missing counts as 0, all missing is null', () => {
    expect(markbook('=[[Quiz 1]]*2 + [[q2]]', '--vars', '{"Quiz 1": 4}').stdout).toBe('8\n');
    expect(markbook('=[[q1]] + [[q2]]').stdout).toBe('null\n');
  });
});

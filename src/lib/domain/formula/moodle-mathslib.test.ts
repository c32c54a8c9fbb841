// Moodle's own calculator tests (lib/tests/mathslib_test.php, core_mathslib_testcase) re-encoded.
// Each test names the Moodle test it mirrors; expected values are Moodle's, not computed here.
import { describe, expect, it } from 'vitest';
import { seededRng } from '../shared/clock.ts';
import { compileFormula, FormulaError } from './index.ts';

const calc = (src: string, vars: Record<string, number> = {}): number => compileFormula(src).evaluate(vars);

function errorOf(src: string, vars: Record<string, number> = {}): FormulaError {
  try {
    compileFormula(src).evaluate(vars);
  } catch (e) {
    if (e instanceof FormulaError) return e;
    throw e;
  }
  throw new Error(`expected ${src} to fail`);
}

describe('Moodle mathslib_test.php', () => {
  it('[FRM-4] test__basic: =1+2 is 3', () => {
    expect(calc('=1+2')).toBe(3);
  });

  it('[FRM-1] test__params: =a+b+c with 10, 20, 30 is 60', () => {
    expect(calc('=a+b+c', { a: 10, b: 20, c: 30 })).toBe(60);
  });

  it('[FRM-1] test__changing_params: the same compiled formula takes new values', () => {
    const f = compileFormula('=a+b+c');
    expect(f.evaluate({ a: 10, b: 20, c: 30 })).toBe(60);
    expect(f.evaluate({ a: 1, b: 2, c: 3 })).toBe(6);
  });

  it('[FRM-9] test__calc_function: =sum(a, b, c) is 60', () => {
    expect(calc('=sum(a, b, c)', { a: 10, b: 20, c: 30 })).toBe(60);
  });

  it('[FRM-9] test_other_functions: average, mod, power', () => {
    expect(calc('=average(1,2,3)')).toBe(2);
    expect(calc('=mod(10,3)')).toBe(1);
    expect(calc('=power(2,3)')).toBe(8);
  });

  it('[FRM-9] test__minmax_function: min and max of 10, 20, 30', () => {
    expect(calc('=min(a, b, c)', { a: 10, b: 20, c: 30 })).toBe(10);
    expect(calc('=max(a, b, c)', { a: 10, b: 20, c: 30 })).toBe(30);
  });

  it('[FRM-1] test__specialchars: names with digits (gi1, gi2, gi11) are distinct variables', () => {
    expect(calc('=gi1 + gi2 + gi11', { gi1: 10, gi2: 20, gi11: 30 })).toBe(60);
  });

  it('[FRM-9] test__more_complex_expressions: pi() + a, pi()^a, -8*(5/2)^2*(1-sqrt(4))-8', () => {
    expect(calc('=pi() + a', { a: 10 })).toBe(Math.PI + 10);
    expect(calc('=pi()^a', { a: 10 })).toBe(Math.pow(Math.PI, 10));
    // -8 * 6.25 * (1 - 2) - 8 = 50 - 8
    expect(calc('=-8*(5/2)^2*(1-sqrt(4))-8')).toBe(42);
  });

  it('[FRM-17] test__error_handling: =pi( + a -> unexpected operator +', () => {
    const e = errorOf('=pi( + a', { a: 10 });
    expect(e.kind).toBe('syntax');
    expect(e.message).toContain("unexpected operator '+'");
    expect(e.position).toBe(5);
  });

  it('[FRM-17] test__error_handling: =pi( -> expecting a closing bracket', () => {
    const e = errorOf('=pi(');
    expect(e.kind).toBe('syntax');
    expect(e.message).toContain("expecting a closing bracket ')'");
  });

  it('[FRM-17] test__error_handling: =pi()^ -> operator ^ lacks operand', () => {
    const e = errorOf('=pi()^');
    expect(e.kind).toBe('syntax');
    expect(e.message).toContain("operator '^' lacks an operand");
    expect(e.position).toBe(5);
  });

  describe('[FRM-12] test_rounding_function', () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ['=round(2.5)', 3],
      ['=round(1.5)', 2],
      ['=round(-1.49)', -1],
      ['=round(-2.49)', -2],
      ['=round(-1.5)', -2],
      ['=round(-2.5)', -3],
      ['=ceil(2.5)', 3],
      ['=ceil(1.5)', 2],
      ['=ceil(-1.49)', -1],
      ['=ceil(-2.49)', -2],
      ['=ceil(-1.5)', -1],
      ['=ceil(-2.5)', -2],
      ['=floor(2.5)', 2],
      ['=floor(1.5)', 1],
      ['=floor(-1.49)', -2],
      ['=floor(-2.49)', -3],
      ['=floor(-1.5)', -2],
      ['=floor(-2.5)', -3],
      ['=round(2.5, 1)', 2.5],
      ['=round(2.5, 0)', 3],
      ['=round(1.2345, 2)', 1.23],
      ['=round(123.456, -1)', 120],
    ];
    for (const [src, want] of cases) {
      it(`[FRM-12] ${src} is ${want}`, () => {
        expect(calc(src)).toBe(want);
      });
    }
  });

  describe('[FRM-3] test_scientific_notation', () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ['=10e10', 1e11],
      ['=10e-10', 1e-9],
      ['=10e+10', 1e11],
      ['=10e10*5', 5e11],
      ['=10e10^2', 1e22],
    ];
    for (const [src, want] of cases) {
      it(`[FRM-3] ${src} is ${want} (within Moodle's tolerance of 1e-15 relative)`, () => {
        expect(Math.abs(calc(src) - want)).toBeLessThanOrEqual(want * 1e-15);
      });
    }
  });

  it('[FRM-9] test_rand_float: rand_float() is a float in [0, 1) (with an injected rng)', () => {
    const f = compileFormula('=rand_float()', { rng: seededRng(7) });
    for (let i = 0; i < 50; i++) {
      const v = f.evaluate({});
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      expect(Number.isInteger(v * 65536)).toBe(true);
    }
  });
});

// Unit tests of the calculator language rules FRM-1..18: lexing, precedence, functions, errors.
// Expected values are worked out by hand from Moodle's evalmath.class.php semantics.
import { describe, expect, it } from 'vitest';
import { seededRng } from '../shared/clock.ts';
import { compileFormula, FormulaError, MAX_DEPTH, type FormulaErrorKind } from './index.ts';

const calc = (src: string, vars: Record<string, number> = {}): number => compileFormula(src).evaluate(vars);

function fails(src: string, vars: Record<string, number> = {}): FormulaError {
  try {
    compileFormula(src).evaluate(vars);
  } catch (e) {
    if (e instanceof FormulaError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(src)} to fail`);
}

function expectError(src: string, kind: FormulaErrorKind, position: number | null, text?: string): void {
  const e = fails(src);
  expect({ kind: e.kind, position: e.position }).toEqual({ kind, position });
  if (text !== undefined) expect(e.message).toContain(text);
}

describe('[FRM-1] compile once, evaluate many', () => {
  it('[FRM-1] the leading = is optional and surrounding whitespace is trimmed', () => {
    expect(calc('1+2')).toBe(3);
    expect(calc('  =  1+2  ')).toBe(3);
    expect(calc('\t=1+2\n')).toBe(3);
  });

  it('[FRM-1] names are case-insensitive and listed lower-case, sorted, unique', () => {
    const f = compileFormula('=Zeta + alpha*ALPHA - b2');
    expect(f.variables).toEqual(['alpha', 'b2', 'zeta']);
    expect(f.evaluate({ zeta: 1, alpha: 3, b2: 4 })).toBe(1 + 9 - 4);
  });

  it('[FRM-1] source is kept as given', () => {
    expect(compileFormula(' =a ').source).toBe(' =a ');
  });

  it('[FRM-1] evaluation does not keep values from a previous call', () => {
    const f = compileFormula('=a+b');
    expect(f.evaluate({ a: 1, b: 2 })).toBe(3);
    expect(() => f.evaluate({ a: 1 })).toThrow(FormulaError);
  });
});

describe('[FRM-2] characters', () => {
  it('[FRM-2] an illegal character is reported with its column, before other syntax errors', () => {
    expectError('=1+(2$', 'syntax', 5, "illegal character '$'");
    expectError('=a!=b', 'syntax', 2, "illegal character '!'");
    expectError('=é+1', 'syntax', 1, 'illegal character');
  });

  it('[FRM-2] [[references]] are rejected outside gradebook calculations', () => {
    expectError('=[[quiz]]', 'syntax', 1, 'illegal character');
  });

  it('[FRM-2] a bare _ is rejected, _ inside names is fine', () => {
    expectError('=_a', 'syntax', 1, "illegal character '_'");
    expect(calc('=a_b1_', { a_b1_: 4 })).toBe(4);
  });

  it('[FRM-2] % is integer modulo', () => {
    expect(calc('=7%2.5')).toBe(1);
    expect(calc('=-7%3')).toBe(-1);
  });
});

describe('[FRM-3] numbers', () => {
  it('[FRM-3] decimals, leading and trailing dots, exponents in either case', () => {
    expect(calc('=.5+1.')).toBe(1.5);
    expect(calc('=1.5E2')).toBe(150);
    expect(calc('=2e-1')).toBe(0.2);
    expect(calc('=1.e1')).toBe(10);
  });

  it('[FRM-3] an exponent without digits is a malformed number', () => {
    expectError('=1e', 'syntax', 1, "malformed number '1e'");
    expectError('=2e+ 1', 'syntax', 1, 'malformed number');
  });

  it('[FRM-3][FRM-6] two numbers in a row are an implicit multiplication', () => {
    expectError('=1.2.3', 'syntax', 4, 'implicit multiplication');
  });
});

describe('[FRM-4] binary operators and precedence', () => {
  it('[FRM-4] usual arithmetic precedence and left associativity', () => {
    expect(calc('=2+3*4')).toBe(14);
    expect(calc('=10-4-3')).toBe(3);
    expect(calc('=64/4/2')).toBe(8);
    expect(calc('=(2+3)*4')).toBe(20);
    expect(calc('=17%5*2')).toBe(4);
  });

  it('[FRM-4] ^ is right-associative: 2^3^2 = 512', () => {
    expect(calc('=2^3^2')).toBe(512);
  });

  it('[FRM-4] comparisons bind tighter than arithmetic: 2<3*10 = 10, 1+2>1 = 2', () => {
    expect(calc('=2<3*10')).toBe(10);
    expect(calc('=1+2>1')).toBe(2);
    expect(calc('=1+2>3')).toBe(1);
  });

  it('[FRM-4] comparisons bind tighter than ^ on either side', () => {
    expect(calc('=2^3>1')).toBe(2); // 2^(3>1)
    expect(calc('=3>1^2')).toBe(1); // (3>1)^2
    expect(calc('=2^2>1^3')).toBe(2); // 2^((2>1)^3)
  });

  it('[FRM-4] comparisons give 1 or 0 and chain left to right', () => {
    expect(calc('=3>2')).toBe(1);
    expect(calc('=3<2')).toBe(0);
    expect(calc('=2<=2')).toBe(1);
    expect(calc('=2>=3')).toBe(0);
    expect(calc('=0.5==(1/2)')).toBe(1);
    expect(calc('=0.5==1/2')).toBe(0); // (0.5==1)/2
    expect(calc('=3>2>1')).toBe(0); // (3>2)>1 = 1>1
    expect(calc('=1<2<3')).toBe(1);
  });

  it('[FRM-4] there is no single = and no unary plus', () => {
    expectError('=a=b', 'syntax', 2, "'=='");
    expectError('=+1', 'syntax', 1, "unexpected operator '+'");
  });
});

describe('[FRM-5] unary minus', () => {
  it('[FRM-5] -2^2 = -4 and 2^-1 = 0.5', () => {
    expect(calc('=-2^2')).toBe(-4);
    expect(calc('=2^-1')).toBe(0.5);
    expect(calc('=(-2)^2')).toBe(4);
  });

  it('[FRM-5] minus wraps comparisons: -2>1 = -1', () => {
    expect(calc('=-2>1')).toBe(-1);
    expect(calc('=1>-2')).toBe(1);
  });

  it('[FRM-5] minus binds like * and /: -2*3 = -6, 2*-3^2 = -18', () => {
    expect(calc('=-2*3')).toBe(-6);
    expect(calc('=2*-3^2')).toBe(-18);
    expect(calc('=-6/-2')).toBe(3);
  });

  it('[FRM-5] a--b is a-(-b), and minus signs stack', () => {
    expect(calc('=a--b', { a: 5, b: 3 })).toBe(8);
    expect(calc('=2---3')).toBe(-1);
    expect(calc('=--4')).toBe(4);
  });

  it('[FRM-5] a trailing minus lacks an operand', () => {
    expectError('=1+-', 'syntax', 3, "operator '-' lacks an operand");
  });
});

describe('[FRM-6] no implicit multiplication', () => {
  for (const [src, pos] of [
    ['=2a', 2],
    ['=2 a', 3],
    ['=2(3)', 2],
    ['=(1)(2)', 4],
    ['=a b', 3],
  ] as const) {
    it(`[FRM-6] ${src} is an error at column ${pos + 1}`, () => {
      expectError(src, 'syntax', pos, 'implicit multiplication');
    });
  }

  it('[FRM-6] a tab or line break inside a formula is an error; spaces are fine', () => {
    expectError('=1 +\t2', 'syntax', 4, 'only spaces');
    expectError('=1\n+2', 'syntax', 2, 'only spaces');
    expect(calc('=  1   +   2  ')).toBe(3);
  });
});

describe('[FRM-7] calls', () => {
  it('[FRM-7] a space between a function name and ( is an error', () => {
    expectError('=sum (1,2)', 'syntax', 5, "no space may come between the function name 'sum' and '('");
  });

  it('[FRM-7] an unknown function names itself', () => {
    const e = fails('=1+foo(2)');
    expect(e.kind).toBe('unknown_function');
    expect(e.position).toBe(3);
    expect(e.detail.name).toBe('foo');
    expect(e.message).toContain("unknown function 'foo()'");
  });

  it('[FRM-26] an unknown function suggests the closest real one', () => {
    expect(fails('=averge(1,2)').message).toContain('did you mean average()?');
    expect(fails('=avg(1,2)').message).toContain('did you mean average()?');
    expect(fails('=constructor(1)').message).not.toContain('did you mean');
    expect(fails('=zzzz(1)').message).not.toContain('did you mean');
  });

  it('[FRM-7] function names are case-insensitive and not reserved as variables', () => {
    expect(calc('=SUM(1,2)+Max(3,4)')).toBe(7);
    expect(calc('=sum+1', { sum: 4 })).toBe(5);
  });

  it('[FRM-7] argument counts are checked', () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['=sqrt()', '0 given, 1 expected'],
      ['=sqrt(1,2)', '2 given, 1 expected'],
      ['=mod(1)', '1 given, 2 expected'],
      ['=pi(1)', '1 given, 0 expected'],
      ['=round(1,2,3)', '3 given, 1 or 2 expected'],
      ['=if(1,2)', '2 given, 3 expected'],
      ['=max()', '0 given, at least 1 expected'],
      ['=and()', '0 given, at least 1 expected'],
      ['=rand_int(1)', '1 given, 2 expected'],
      ['=rand_float(1)', '1 given, 0 expected'],
    ];
    for (const [src, text] of cases) {
      const e = fails(src);
      expect({ src, kind: e.kind, position: e.position }).toEqual({ src, kind: 'arity', position: 1 });
      expect(e.message).toContain(text);
    }
  });

  it('[FRM-7][FRM-17] commas and brackets out of place', () => {
    expectError('=1,2', 'syntax', 2, 'unexpected comma');
    expectError('=(1,2)', 'syntax', 3, 'unexpected comma');
    expectError('=sum(1,)', 'syntax', 7, "unexpected closing bracket ')'");
    expectError('=sum(,1)', 'syntax', 5, 'unexpected comma');
    expectError('=()', 'syntax', 2, "unexpected closing bracket ')'");
    expectError('=1)', 'syntax', 2, "unexpected closing bracket ')'");
    expectError('=(1', 'syntax', 3, "expecting a closing bracket ')' for the '(' at column 2");
    expectError('=sum(1,2', 'syntax', 8, "expecting a closing bracket ')'");
  });
});

describe('[FRM-8] one-argument math functions', () => {
  it('[FRM-8] ln and log are both the natural logarithm', () => {
    expect(calc('=ln(exp(1))')).toBe(1);
    expect(calc('=log(exp(2))')).toBe(2);
    expect(calc('=log(100)')).toBe(Math.log(100));
  });

  it('[FRM-8] arc* names are synonyms of a*', () => {
    expect(calc('=arcsin(1)')).toBe(calc('=asin(1)'));
    expect(calc('=arccos(0)')).toBe(Math.PI / 2);
    expect(calc('=arctan(1)*4')).toBe(Math.PI);
    expect(calc('=arcsinh(0)+arccosh(1)+arctanh(0)')).toBe(0);
  });

  it('[FRM-8] trigonometry in radians, abs, sqrt, floor, ceil', () => {
    expect(calc('=sin(0)+cos(0)+tan(0)')).toBe(1);
    expect(calc('=sinh(0)+cosh(0)+tanh(0)')).toBe(1);
    expect(calc('=abs(-3.5)+sqrt(16)')).toBe(7.5);
    expect(calc('=floor(-0.5)+ceil(-0.5)')).toBe(-1);
  });
});

describe('[FRM-9] spreadsheet functions', () => {
  it('[FRM-9] sum and average of one or many', () => {
    expect(calc('=sum(4)')).toBe(4);
    expect(calc('=average(4)')).toBe(4);
    expect(calc('=average(1,2,3,4)')).toBe(2.5);
  });

  it('[FRM-9] max and min', () => {
    expect(calc('=max(-1,-5,-3)')).toBe(-1);
    expect(calc('=min(3,1,2)')).toBe(1);
    expect(calc('=max(7)')).toBe(7);
  });

  it('[FRM-9] if/ifthenelse: any non-zero condition takes the second argument', () => {
    expect(calc('=if(a>=50, 1, 0)', { a: 50 })).toBe(1);
    expect(calc('=ifthenelse(0, 10, 20)')).toBe(20);
    expect(calc('=if(-0.1, 10, 20)')).toBe(10);
  });

  it('[FRM-9] and/or and their cond_ names give 1 or 0', () => {
    expect(calc('=and(1, 2, 3)')).toBe(1);
    expect(calc('=cond_and(1, 0, 3)')).toBe(0);
    expect(calc('=or(0, 0)')).toBe(0);
    expect(calc('=cond_or(0, -2)')).toBe(1);
    expect(calc('=if(and(a>=40, b>=40), a+b, 0)', { a: 45, b: 39 })).toBe(0);
  });

  it('[FRM-9] rand_int gives whole steps from min up to max, with an injected rng', () => {
    const f = compileFormula('=rand_int(1, 6)', { rng: seededRng(42) });
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(f.evaluate({}));
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const g = compileFormula('=rand_int(1.5, 3)', { rng: seededRng(1) });
    for (let i = 0; i < 50; i++) expect([1.5, 2.5]).toContain(g.evaluate({}));
  });

  it('[FRM-9] rand_int needs min < max, and rand_* need an rng', () => {
    expect(() => compileFormula('=rand_int(3, 3)', { rng: seededRng(1) }).evaluate({})).toThrow(
      /needs min < max/,
    );
    const e = fails('=1+rand_float()');
    expect(e.kind).toBe('domain');
    expect(e.message).toContain('random source');
  });
});

describe('[FRM-10][FRM-11] powers and modulo', () => {
  it('[FRM-10] power() is ^, and 1 to any power is 1', () => {
    expect(calc('=power(3,2)')).toBe(9);
    expect(calc('=power(4,0.5)')).toBe(2);
    expect(calc('=1^a', { a: Number.NaN })).toBe(1);
  });

  it('[FRM-11] operands are truncated and the sign follows the dividend', () => {
    expect(calc('=mod(7.9, 2)')).toBe(1);
    expect(calc('=mod(-7, 3)')).toBe(-1);
    expect(calc('=mod(7, -3)')).toBe(1);
    expect(calc('=mod(-6, 3)')).toBe(0);
    expect(Object.is(calc('=mod(-6, 3)'), -0)).toBe(false);
  });

  it('[FRM-11] a divisor that truncates to 0 is a division by zero at the call', () => {
    expectError('=mod(5, 0.5)', 'division_by_zero', 1, 'modulo by zero');
    expectError('=5 % 0', 'division_by_zero', 3, 'modulo by zero');
  });

  it('[FRM-11] operands beyond the 64-bit integer range are a domain error', () => {
    expectError('=mod(1e19, 3)', 'domain', 1, "outside PHP's integer range");
  });
});

describe('[FRM-13][FRM-14][FRM-15][FRM-16] evaluation errors', () => {
  it('[FRM-13] division by zero names the / operator', () => {
    expectError('=4/(2-2)', 'division_by_zero', 2, 'division by zero');
  });

  it('[FRM-14] arguments are evaluated eagerly, so the untaken branch of if() can fail', () => {
    expect(() => calc('=if(b==0, 0, a/b)', { a: 1, b: 0 })).toThrow(/division by zero/);
    expect(calc('=if(b==0, 0, a/b)', { a: 1, b: 4 })).toBe(0.25);
  });

  it('[FRM-14] the first error in reading order wins', () => {
    expect(fails('=1/0 + x').kind).toBe('division_by_zero');
    expect(fails('=x + 1/0').kind).toBe('unknown_variable');
  });

  it('[FRM-15] non-finite results are domain errors; non-finite intermediates are fine', () => {
    expect(fails('=sqrt(-1)').kind).toBe('domain');
    expect(fails('=ln(0)').kind).toBe('domain');
    expect(fails('=10^400').kind).toBe('domain');
    expect(calc('=if(0, sqrt(-1), 2)')).toBe(2);
    expect(Object.is(calc('=-1*0'), 0)).toBe(true);
  });

  it('[FRM-16] undefined variables name themselves; pi and e are not constants', () => {
    const e = fails('=a + pi');
    expect(e.kind).toBe('unknown_variable');
    expect(e.position).toBe(1);
    expect(e.detail.name).toBe('a');
    expect(fails('=e', {}).message).toContain("undefined variable 'e'");
    expect(calc('=pi', { pi: 3 })).toBe(3);
  });
});

describe('[FRM-17][FRM-18] syntax errors', () => {
  it('[FRM-17] empty formulas', () => {
    expectError('', 'syntax', 0, 'empty formula');
    expectError('=', 'syntax', 1, 'empty formula');
    expectError('=   ', 'syntax', 1, 'empty formula');
  });

  it('[FRM-17] operators out of place', () => {
    expectError('=1+*2', 'syntax', 3, "unexpected operator '*'");
    expectError('=*2', 'syntax', 1, "unexpected operator '*'");
    expectError('=2*', 'syntax', 2, "operator '*' lacks an operand");
    expectError('=2<=', 'syntax', 2, "operator '<=' lacks an operand");
  });

  it('[FRM-17] messages count columns from 1', () => {
    expect(fails('=1+').message).toMatch(/at column 3\)$/);
  });

  it('[FRM-18] nesting deeper than MAX_DEPTH is a syntax error, not a crash', () => {
    const deep = '='.concat('('.repeat(MAX_DEPTH + 5), '1', ')'.repeat(MAX_DEPTH + 5));
    expect(fails(deep).message).toContain('nested too deeply');
    const chain = '=' + Array.from({ length: MAX_DEPTH + 5 }, () => '1').join('+');
    expect(fails(chain).message).toContain('nested too deeply');
    expect(fails('=' + '-'.repeat(100_000) + '1').message).toContain('nested too deeply');
    expect(fails('=' + '2^'.repeat(100_000) + '1').message).toContain('nested too deeply');
    expect(calc('=' + '-'.repeat(200) + '1')).toBe(1);
    const ok = '=' + '('.repeat(100) + '1' + ')'.repeat(100);
    expect(calc(ok)).toBe(1);
  });
});

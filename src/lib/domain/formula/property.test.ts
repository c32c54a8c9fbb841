// Property tests (fast-check): the parser against an independent transcription of EvalMath's
// shunting-yard algorithm, print/parse round trips, precedence laws and PHP round() invariants.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileFormula,
  compileGradebookFormula,
  FormulaError,
  parseFormula,
  phpMod,
  phpRound,
  printFormula,
  type FormulaNode,
} from './index.ts';

// ---------------------------------------------------------------------------------------------
// Oracle: EvalMath::nfx (infix -> postfix) and ::pfx (postfix evaluation), re-stated from the
// description in lib/evalmath/evalmath.class.php for operators, brackets and unary minus.
// ---------------------------------------------------------------------------------------------
const OPS = ['+', '-', '*', '/', '%', '^', '<', '>', '<=', '>=', '=='] as const;
const PREC: Record<string, number> = {
  '+': 0,
  '-': 0,
  '*': 1,
  '/': 1,
  '%': 1,
  _: 1,
  '^': 2,
  '<': 3,
  '>': 3,
  '<=': 3,
  '>=': 3,
  '==': 3,
};
const RIGHT: Record<string, boolean> = { '^': true };

function toPostfix(tokens: readonly string[]): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  let expectingOp = false;
  for (const tok of tokens) {
    if (tok === '-' && !expectingOp) {
      stack.push('_');
    } else if (tok in PREC && expectingOp) {
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined || !(top in PREC)) break;
        const pops = RIGHT[tok] ? PREC[tok]! < PREC[top]! : PREC[tok]! <= PREC[top]!;
        if (!pops) break;
        out.push(stack.pop()!);
      }
      stack.push(tok);
      expectingOp = false;
    } else if (tok === ')' && expectingOp) {
      for (;;) {
        const top = stack.pop();
        if (top === undefined) throw new Error('unbalanced');
        if (top === '(') break;
        out.push(top);
      }
    } else if (tok === '(' && !expectingOp) {
      stack.push('(');
    } else if (/^[0-9.]/.test(tok) && !expectingOp) {
      out.push(tok);
      expectingOp = true;
    } else throw new Error(`syntax at ${tok}`);
  }
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top === '(') throw new Error('unbalanced');
    out.push(top);
  }
  return out;
}

function oracleMod(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a) >= 2 ** 63 || Math.abs(b) >= 2 ** 63)
    throw new Error('range');
  const x = Math.trunc(a);
  const y = Math.trunc(b);
  if (y === 0) throw new Error('modulo by zero');
  return (x % y) + 0;
}

function runPostfix(post: readonly string[]): number {
  const st: number[] = [];
  for (const t of post) {
    if (t === '_') {
      st.push(-1 * st.pop()!);
    } else if (t in PREC) {
      const b = st.pop()!;
      const a = st.pop()!;
      switch (t) {
        case '+':
          st.push(a + b);
          break;
        case '-':
          st.push(a - b);
          break;
        case '*':
          st.push(a * b);
          break;
        case '/':
          if (b === 0) throw new Error('division by zero');
          st.push(a / b);
          break;
        case '%':
          st.push(oracleMod(a, b));
          break;
        case '^':
          st.push(a === 1 ? 1 : Math.pow(a, b));
          break;
        case '<':
          st.push(a < b ? 1 : 0);
          break;
        case '>':
          st.push(a > b ? 1 : 0);
          break;
        case '<=':
          st.push(a <= b ? 1 : 0);
          break;
        case '>=':
          st.push(a >= b ? 1 : 0);
          break;
        case '==':
          st.push(a === b ? 1 : 0);
          break;
      }
    } else st.push(Number(t));
  }
  if (st.length !== 1) throw new Error('internal');
  const v = st[0]!;
  if (!Number.isFinite(v)) throw new Error('not finite');
  return v + 0;
}

type Outcome = { ok: true; value: number } | { ok: false };
const attempt = (f: () => number): Outcome => {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof FormulaError || e instanceof Error) return { ok: false };
    throw e;
  }
};

/** Random well-formed token sequences: numbers, all binary operators, brackets, stacked unary minus. */
const tokenExpr = fc.letrec<{ expr: string[] }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('0', '1', '2', '3', '0.5', '2.5', '7', '10').map((n) => [n]),
    tie('expr').map((e) => ['-', ...e]),
    fc.tuple(tie('expr'), fc.constantFrom(...OPS), tie('expr')).map(([a, op, b]) => [...a, op, ...b]),
    tie('expr').map((e) => ['(', ...e, ')']),
  ),
})).expr;

describe('[FRM-4][FRM-5] parser agrees with EvalMath shunting-yard', () => {
  it('[FRM-4][FRM-5] every random operator/bracket/minus sequence evaluates as Moodle would', () => {
    fc.assert(
      fc.property(tokenExpr, (tokens) => {
        const src = '=' + tokens.join(' ');
        const mine = attempt(() => compileFormula(src).evaluate({}));
        const moodle = attempt(() => runPostfix(toPostfix(tokens)));
        expect(mine).toEqual(moodle);
      }),
      { numRuns: 3000, seed: 20261122 },
    );
  });

  it('[FRM-4] the same holds when tokens are written with no spaces', () => {
    fc.assert(
      fc.property(tokenExpr, (tokens) => {
        const src = '=' + tokens.join('');
        // "<" followed by "=" from "==" cannot occur: operands never start with "=".
        const mine = attempt(() => compileFormula(src).evaluate({}));
        const moodle = attempt(() => runPostfix(toPostfix(tokens)));
        expect(mine).toEqual(moodle);
      }),
      { numRuns: 1000, seed: 7 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Print / parse round trip on random trees.
// ---------------------------------------------------------------------------------------------
type Shape = number | string | { [k: string]: Shape | Shape[] };
function shape(n: FormulaNode): Shape {
  switch (n.k) {
    case 'num':
      return { num: n.value };
    case 'var':
      return { var: n.name };
    case 'ref':
      return { ref: n.idnumber };
    case 'neg':
      return { neg: shape(n.arg) };
    case 'bin':
      return { op: n.op, l: shape(n.left), r: shape(n.right) };
    case 'call':
      return { fn: n.name, args: n.args.map(shape) };
  }
}

const pos = 0;
const treeArb = fc.letrec<{ node: FormulaNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .oneof(
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0, max: 1e30, noNaN: true, noDefaultInfinity: true }),
      )
      .map((value): FormulaNode => ({ k: 'num', value: value + 0, pos })),
    fc.constantFrom('a', 'b', 'gi12').map((name): FormulaNode => ({ k: 'var', name, pos })),
    tie('node').map((arg): FormulaNode => ({ k: 'neg', arg, pos })),
    fc
      .tuple(fc.constantFrom(...OPS), tie('node'), tie('node'))
      .map(([op, left, right]): FormulaNode => ({ k: 'bin', op, left, right, pos })),
    fc
      .tuple(fc.constantFrom('sum', 'max', 'and'), fc.array(tie('node'), { minLength: 1, maxLength: 3 }))
      .map(([name, args]): FormulaNode => ({
        k: 'call',
        fn: name === 'and' ? 'cond_and' : name,
        name,
        args,
        pos,
      })),
    fc
      .tuple(tie('node'), tie('node'), tie('node'))
      .map((args): FormulaNode => ({ k: 'call', fn: 'ifthenelse', name: 'if', args, pos })),
  ),
})).node;

describe('[FRM-19] printFormula', () => {
  it('[FRM-19] printing then parsing gives back the same tree', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const text = printFormula(tree);
        expect(shape(parseFormula('=' + text))).toEqual(shape(tree));
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it('[FRM-19] brackets appear only where precedence needs them', () => {
    expect(printFormula(parseFormula('=((1+2))*3'))).toBe('(1 + 2) * 3');
    expect(printFormula(parseFormula('=(1*2)+3'))).toBe('1 * 2 + 3');
    expect(printFormula(parseFormula('=1+(2>3)'))).toBe('1 + 2 > 3');
    expect(printFormula(parseFormula('=(2^3)^2'))).toBe('(2 ^ 3) ^ 2');
    expect(printFormula(parseFormula('=2^(3^2)'))).toBe('2 ^ 3 ^ 2');
    expect(printFormula(parseFormula('=a-(b-c)'))).toBe('a - (b - c)');
    expect(printFormula(parseFormula('=-(2^2)'))).toBe('-2 ^ 2');
    expect(printFormula(parseFormula('=(-2)^2'))).toBe('(-2) ^ 2');
    expect(printFormula(parseFormula('=SUM(a,-b)'))).toBe('sum(a, -b)');
  });
});

// ---------------------------------------------------------------------------------------------
// Precedence laws on random values.
// ---------------------------------------------------------------------------------------------
describe('[FRM-4][FRM-5] precedence laws', () => {
  const small = fc.integer({ min: -20, max: 20 });
  const calc = (src: string, vars: Record<string, number>): number => compileFormula(src).evaluate(vars);

  it('[FRM-4] a+b>c is a+(b>c), a*b<c is a*(b<c), a^b>c is a^(b>c)', () => {
    fc.assert(
      fc.property(small, small, fc.integer({ min: 0, max: 5 }), (a, b, c) => {
        const v = { a, b, c };
        expect(calc('=a+b>c', v)).toBe(calc('=a+(b>c)', v));
        expect(calc('=a*b<c', v)).toBe(calc('=a*(b<c)', v));
        if (a !== 0) expect(calc('=a^b>c', v)).toBe(calc('=a^(b>c)', v));
      }),
      { seed: 3 },
    );
  });

  it('[FRM-5] -a^b is -(a^b) and -a*b is (-a)*b', () => {
    fc.assert(
      fc.property(small, fc.integer({ min: 0, max: 6 }), (a, b) => {
        const v = { a, b };
        expect(calc('=-a^b', v)).toBe(calc('=-(a^b)', v));
        expect(calc('=-a*b', v)).toBe(calc('=(-a)*b', v));
      }),
      { seed: 4 },
    );
  });

  it('[FRM-4] - and / associate to the left, ^ to the right', () => {
    fc.assert(
      fc.property(small, small, fc.integer({ min: 1, max: 9 }), (a, b, c) => {
        const v = { a, b, c };
        expect(calc('=a-b-c', v)).toBe(calc('=(a-b)-c', v));
        expect(calc('=a/c/c', v)).toBe(calc('=(a/c)/c', v));
        expect(calc('=c^2^2', v)).toBe(calc('=c^(2^2)', v));
      }),
      { seed: 5 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// PHP round() and % invariants.
// ---------------------------------------------------------------------------------------------
describe('[FRM-12] phpRound', () => {
  const finite = fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true });
  const places = fc.integer({ min: -6, max: 10 });

  it('[FRM-12] rounding is symmetric: round(-x) = -round(x) (halves away from zero)', () => {
    fc.assert(
      fc.property(finite, places, (x, p) => {
        expect(phpRound(-x, p) + 0).toBe(-phpRound(x, p) + 0);
      }),
      { seed: 1 },
    );
  });

  it('[FRM-12] rounding is idempotent and stays within half a unit of the last kept place', () => {
    fc.assert(
      fc.property(finite, places, (x, p) => {
        const r = phpRound(x, p);
        expect(phpRound(r, p)).toBe(r);
        expect(Math.abs(r - x)).toBeLessThanOrEqual(0.5 * 10 ** -p * (1 + 1e-9) + Math.abs(x) * 1e-15);
      }),
      { seed: 2 },
    );
  });

  it('[FRM-12] matches exact decimal rounding (half away from zero) of the number as written', () => {
    // x = n / 10^d written in decimal; the expected value is computed on the integer n with BigInt.
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n - 1n), max: 10n ** 15n - 1n }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: -3, max: 6 }),
        (n, d, p) => {
          const x = Number(`${n}e-${d}`);
          const shift = d - p; // digits to drop
          let expected: number;
          if (shift <= 0) expected = x;
          else {
            const unit = 10n ** BigInt(shift);
            const mag = n < 0n ? -n : n;
            let q = mag / unit;
            if ((mag % unit) * 2n >= unit) q += 1n;
            expected = Number(`${n < 0n ? -q : q}e${-p}`) + 0;
          }
          expect(phpRound(x, p) + 0).toBe(expected);
        },
      ),
      { numRuns: 5000, seed: 9 },
    );
  });

  it('[FRM-12] examples from the PHP manual', () => {
    expect(phpRound(3.4)).toBe(3);
    expect(phpRound(3.5)).toBe(4);
    expect(phpRound(3.6, 0)).toBe(4);
    expect(phpRound(1.95583, 2)).toBe(1.96);
    expect(phpRound(1241757, -3)).toBe(1242000);
    expect(phpRound(5.045, 2)).toBe(5.05);
    expect(phpRound(5.055, 2)).toBe(5.06);
    expect(phpRound(345, -2)).toBe(300);
    expect(phpRound(345, -3)).toBe(0);
    expect(phpRound(678, -2)).toBe(700);
    expect(phpRound(678, -3)).toBe(1000);
    expect(phpRound(1.955, 2)).toBe(1.96);
    expect(phpRound(0.285, 2)).toBe(0.29);
  });

  it('[FRM-12] regression: a half at the 5th decimal of a 9-digit number (scaled value near 2^48)', () => {
    // Found by the decimal-rounding property: scaling by 10^5 loses the half to binary error.
    expect(phpRound(-275339352.255555, 5)).toBe(-275339352.25556);
    expect(phpRound(123456789012345.67, 1)).toBe(123456789012345.7);
  });

  it('[FRM-12] a fractional number of places is truncated like PHP int conversion', () => {
    expect(phpRound(1.2345, 2.9)).toBe(1.23);
    expect(phpRound(1.2345, -0.5)).toBe(1);
  });
});

describe('[FRM-11] phpMod', () => {
  it('[FRM-11] a = trunc(a/b)*b + mod(a,b) on truncated integers, with the sign of the dividend', () => {
    const int = fc.integer({ min: -1_000_000, max: 1_000_000 });
    fc.assert(
      fc.property(
        int,
        int.filter((b) => b !== 0),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (a, b, frac) => {
          const m = phpMod(a + Math.sign(a) * frac, b);
          expect(Math.trunc(a / b) * b + m).toBe(a);
          expect(m === 0 || Math.sign(m) === Math.sign(a)).toBe(true);
          expect(Math.abs(m)).toBeLessThan(Math.abs(b));
        },
      ),
      { seed: 12 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: any text either compiles or fails with a FormulaError pointing inside the text.
// ---------------------------------------------------------------------------------------------
describe('[FRM-17] any input fails cleanly', () => {
  const pieces = [
    '=',
    '1',
    '2.5',
    'e',
    'a',
    'sum(',
    'if(',
    'pi()',
    '(',
    ')',
    ',',
    '+',
    '-',
    '*',
    '/',
    '^',
    '%',
    '<',
    '<=',
    '==',
    '>',
    ' ',
    '\t',
    '_',
    '[[',
    ']]',
    'x1',
    '.',
    '$',
  ];
  const text = fc.array(fc.constantFrom(...pieces), { maxLength: 25 }).map((p) => p.join(''));

  it('[FRM-17] calculator: a number, or a FormulaError whose position is inside the text', () => {
    fc.assert(
      fc.property(text, (src) => {
        try {
          const v = compileFormula(src).evaluate({ a: 2, e: 3, x1: 0 });
          expect(Number.isFinite(v)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(FormulaError);
          const p = (e as FormulaError).position;
          if (p !== null) expect(p >= 0 && p <= src.length).toBe(true);
        }
      }),
      { numRuns: 3000, seed: 31 },
    );
  });

  it('[FRM-20] gradebook: a number or null, or a FormulaError whose position is inside the text', () => {
    fc.assert(
      fc.property(text, (src) => {
        try {
          const f = compileGradebookFormula(src);
          const v = f.evaluateRefs(new Map(f.references.map((r, i) => [r, i % 2 === 0 ? i + 1 : null])));
          expect(v === null || Number.isFinite(v)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(FormulaError);
          const p = (e as FormulaError).position;
          if (p !== null) expect(p >= 0 && p <= src.length).toBe(true);
        }
      }),
      { numRuns: 3000, seed: 32 },
    );
  });
});

// Turns a syntax tree into a tree of closures over one preallocated slot array: compile once,
// evaluate many times with no allocation. Pure: randomness only through an injected Rng (FRM-9).
import type { Rng } from '../shared/clock.ts';
import { FormulaError } from './errors.ts';
import type { FormulaNode } from './parser.ts';
import { phpMod, phpPow, phpRound } from './php-math.ts';

export type Thunk = () => number;

export interface EvaluatorOptions {
  /** Source for rand_int()/rand_float(); without one, calling them is a `domain` error. */
  readonly rng?: Rng;
}

/** Slots the closures read: `values[i]` holds slot i's number when `present[i]` is 1. */
export interface SlotFrame {
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

/** How a leaf that names something (a variable or a [[reference]]) becomes a slot read. */
export type LeafResolver = (node: Extract<FormulaNode, { k: 'var' } | { k: 'ref' }>) => Thunk;

/** The one-argument PHP math functions (EvalMath $fb), by canonical name. */
const MATH1: Readonly<Record<string, (x: number) => number>> = {
  sin: Math.sin,
  sinh: Math.sinh,
  asin: Math.asin,
  asinh: Math.asinh,
  cos: Math.cos,
  cosh: Math.cosh,
  acos: Math.acos,
  acosh: Math.acosh,
  tan: Math.tan,
  tanh: Math.tanh,
  atan: Math.atan,
  atanh: Math.atanh,
  sqrt: Math.sqrt,
  abs: Math.abs,
  log: Math.log,
  exp: Math.exp,
  floor: Math.floor,
  ceil: Math.ceil,
};

/** rand_float() in Moodle reads 16 random bits: results are multiples of 1/65536 in [0, 1). */
const RAND_FLOAT_STEPS = 65536;

/**
 * Builds the closure tree. Arguments are evaluated left to right and all of them are evaluated,
 * even the branch `if()` does not take (FRM-14): EvalMath evaluates postfix code, so an error in
 * either branch is an error of the formula, and the first error in reading order wins.
 */
export function buildEvaluator(tree: FormulaNode, leaf: LeafResolver, opts: EvaluatorOptions = {}): Thunk {
  const rng = opts.rng;
  const build = (n: FormulaNode): Thunk => {
    switch (n.k) {
      case 'num': {
        const v = n.value;
        return () => v;
      }
      case 'var':
      case 'ref':
        return leaf(n);
      case 'neg': {
        const a = build(n.arg);
        return () => -1 * a();
      }
      case 'bin':
        return binary(n.op, build(n.left), build(n.right), n.pos);
      case 'call':
        return call(n.fn, n.name, n.args.map(build), n.pos, rng);
    }
  };
  return build(tree);
}

function binary(op: string, a: Thunk, b: Thunk, pos: number): Thunk {
  switch (op) {
    case '+':
      return () => a() + b();
    case '-':
      return () => a() - b();
    case '*':
      return () => a() * b();
    case '/':
      return () => {
        const x = a();
        const y = b();
        // [FRM-13] EvalMath: `if ($op2 == 0)` -> "division by zero".
        if (y === 0) throw new FormulaError('division_by_zero', 'division by zero', pos);
        return x / y;
      };
    case '%':
      return () => {
        const x = a();
        return phpMod(x, b(), pos);
      };
    case '^':
      return () => {
        const x = a();
        return phpPow(x, b());
      };
    // [FRM-4] comparisons give PHP's (int) of a boolean: 1 or 0.
    case '<':
      return () => (a() < b() ? 1 : 0);
    case '>':
      return () => (a() > b() ? 1 : 0);
    case '<=':
      return () => (a() <= b() ? 1 : 0);
    case '>=':
      return () => (a() >= b() ? 1 : 0);
    case '==':
      return () => (a() === b() ? 1 : 0);
  }
  throw new Error(`internal: unknown operator ${op}`);
}

function call(fn: string, name: string, args: readonly Thunk[], pos: number, rng: Rng | undefined): Thunk {
  const n = args.length;
  const math = MATH1[fn];
  if (math) {
    const a = args[0]!;
    return () => math(a());
  }
  // One scratch buffer per call site, filled in order on each evaluation (no allocation).
  const buf = new Float64Array(n);
  const fill = (): void => {
    for (let i = 0; i < n; i++) buf[i] = args[i]!();
  };
  switch (fn) {
    case 'sum':
      return () => {
        let r = 0;
        for (let i = 0; i < n; i++) r += args[i]!();
        return r;
      };
    case 'average':
      return () => {
        let r = 0;
        for (let i = 0; i < n; i++) r += args[i]!();
        return r / n;
      };
    // [FRM-9] EvalMathFuncs::max/min start from the LAST argument and scan the others in order.
    case 'max':
      return () => {
        fill();
        let r = buf[n - 1]!;
        for (let i = 0; i < n - 1; i++) if (r < buf[i]!) r = buf[i]!;
        return r;
      };
    case 'min':
      return () => {
        fill();
        let r = buf[n - 1]!;
        for (let i = 0; i < n - 1; i++) if (r > buf[i]!) r = buf[i]!;
        return r;
      };
    case 'mod': {
      const [a, b] = args as [Thunk, Thunk];
      return () => {
        const x = a();
        return phpMod(x, b(), pos);
      };
    }
    case 'pi':
      return () => Math.PI;
    case 'power': {
      const [a, b] = args as [Thunk, Thunk];
      return () => {
        const x = a();
        return phpPow(x, b());
      };
    }
    case 'round': {
      const a = args[0]!;
      const p = args[1];
      if (!p) return () => phpRound(a());
      return () => {
        const x = a();
        return phpRound(x, p());
      };
    }
    case 'ifthenelse': {
      const [c, t, e] = args as [Thunk, Thunk, Thunk];
      return () => {
        const cv = c();
        const tv = t();
        const ev = e();
        // PHP `$condition == true`: any non-zero number (NAN included) is true.
        return cv !== 0 ? tv : ev;
      };
    }
    case 'cond_and':
      return () => {
        fill();
        for (let i = 0; i < n; i++) if (buf[i] === 0) return 0;
        return 1;
      };
    case 'cond_or':
      return () => {
        fill();
        for (let i = 0; i < n; i++) if (buf[i] !== 0) return 1;
        return 0;
      };
    case 'rand_int': {
      const [a, b] = args as [Thunk, Thunk];
      return () => {
        const lo = a();
        const hi = b();
        if (!rng)
          throw new FormulaError('domain', `${name}() needs a random source, and none was given`, pos, {
            name,
          });
        // EvalMathFuncs::rand_int returns false (an error) unless min < max; the result is min + k
        // for a whole k with min + k <= max.
        if (!(lo < hi))
          throw new FormulaError('domain', `${name}(min, max) needs min < max (got ${lo}, ${hi})`, pos, {
            name,
          });
        const steps = Math.floor(hi - lo) + 1;
        return lo + Math.min(steps - 1, Math.floor(rng.next() * steps));
      };
    }
    case 'rand_float':
      return () => {
        if (!rng)
          throw new FormulaError('domain', `${name}() needs a random source, and none was given`, pos, {
            name,
          });
        return Math.floor(rng.next() * RAND_FLOAT_STEPS) / RAND_FLOAT_STEPS;
      };
  }
  throw new Error(`internal: unknown function ${fn}`);
}

/**
 * [FRM-15] The value a formula gives: PHP would carry NAN or INF on (sqrt(-1), 1e308*10) and the
 * gradebook would store garbage; we reject such a result as a `domain` error instead. -0 becomes 0.
 */
export function finish(v: number): number {
  if (!Number.isFinite(v)) {
    throw new FormulaError(
      'domain',
      `the result is not a finite number (${v}); check for square roots or logarithms of negative numbers and overflow`,
    );
  }
  return v + 0;
}

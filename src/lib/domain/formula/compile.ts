// compileFormula: Moodle's calculator (lib/mathslib.php calc_formula) as compile-once, evaluate-many.
// Pure: no clock, no I/O, no Math.random; variables come in as a plain record on each evaluation.
import { FormulaError } from './errors.ts';
import { buildEvaluator, finish, type EvaluatorOptions, type Thunk } from './evaluator.ts';
import { parse, type FormulaNode } from './parser.ts';

export interface CompiledFormula {
  readonly source: string;
  /** plain variable names the formula uses, sorted, unique */
  readonly variables: readonly string[];
  /** throws FormulaError (e.g. division by zero, unknown variable) */
  evaluate(vars: Readonly<Record<string, number>>): number;
}

export type CompileOptions = EvaluatorOptions;

/** PHP trim()'s default set: space, tab, newline, carriage return, NUL, vertical tab. */
const isTrimmed = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\0' || c === '\v';

/** The [start, end) span of `s` without PHP-trim whitespace at either end. */
export function trimSpan(s: string, from = 0, to = s.length): [number, number] {
  let a = from;
  let b = to;
  while (a < b && isTrimmed(s[a])) a++;
  while (b > a && isTrimmed(s[b - 1])) b--;
  return [a, b];
}

/** Every distinct leaf name of one kind, in first-appearance order (a tree walk, done once at compile time). */
export function collectLeaves(tree: FormulaNode, kind: 'var' | 'ref'): { name: string; pos: number }[] {
  const seen = new Set<string>();
  const out: { name: string; pos: number }[] = [];
  const walk = (n: FormulaNode): void => {
    switch (n.k) {
      case 'var':
      case 'ref': {
        if (n.k !== kind) return;
        const name = n.k === 'var' ? n.name : n.idnumber;
        if (!seen.has(name)) {
          seen.add(name);
          out.push({ name, pos: n.pos });
        }
        return;
      }
      case 'neg':
        walk(n.arg);
        return;
      case 'bin':
        walk(n.left);
        walk(n.right);
        return;
      case 'call':
        for (const a of n.args) walk(a);
        return;
      case 'num':
        return;
    }
  };
  walk(tree);
  return out;
}

/** Parses a calculator expression: an optional leading `=` (Moodle's calc_formula requires it; EvalMath does not). */
export function parseFormula(source: string): FormulaNode {
  let [a, b] = trimSpan(source);
  if (source[a] === '=') [a, b] = trimSpan(source, a + 1, b);
  return parse(source, a, b);
}

/**
 * [FRM-1] Compiles a calculator expression once; `evaluate` then runs allocation-free.
 * Names are case-insensitive (EvalMath lower-cases the expression), so `A+b` uses `a` and `b`.
 * Syntax errors throw FormulaError with the column at fault.
 */
export function compileFormula(source: string, options: CompileOptions = {}): CompiledFormula {
  const tree = parseFormula(source);
  const leaves = collectLeaves(tree, 'var');
  const names = leaves.map((l) => l.name);
  const slot = new Map(names.map((n, i) => [n, i] as const));
  const values = new Float64Array(names.length);
  const present = new Uint8Array(names.length);
  const root: Thunk = buildEvaluator(
    tree,
    (leaf) => {
      if (leaf.k === 'ref') throw new Error('internal: reference in a plain formula');
      const i = slot.get(leaf.name)!;
      const { name, pos } = leaf;
      return () => {
        if (present[i] !== 1) {
          // [FRM-16] EvalMath::pfx: "undefined variable", raised where the variable is read.
          throw new FormulaError('unknown_variable', `undefined variable '${name}'`, pos, { name });
        }
        return values[i]!;
      };
    },
    options,
  );
  return {
    source,
    variables: [...names].sort(),
    evaluate(vars: Readonly<Record<string, number>>): number {
      for (let i = 0; i < names.length; i++) {
        const v = Object.prototype.hasOwnProperty.call(vars, names[i]!) ? vars[names[i]!] : undefined;
        if (typeof v === 'number') {
          values[i] = v;
          present[i] = 1;
        } else present[i] = 0;
      }
      return finish(root());
    },
  };
}

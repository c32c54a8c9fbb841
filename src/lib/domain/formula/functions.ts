// The functions Moodle's calculator knows (EvalMath $fb built-ins and $fc spreadsheet emulation).
// Pure table: names, synonyms and argument counts; the compiler turns each into a closure.

/** How many arguments a function takes: an exact list, or "one or more". */
export type Arity = { readonly exactly: readonly number[] } | { readonly atLeast: 1 };

export interface FunctionSpec {
  /** The name Moodle dispatches on after resolving synonyms (`if` -> `ifthenelse`, `arcsin` -> `asin`, `ln` -> `log`). */
  readonly canonical: string;
  readonly arity: Arity;
}

// [FRM-8] EvalMath::$fb: one-argument PHP math functions. `arc*` names are synonyms of `a*`,
// and `ln` is PHP's log(), the natural logarithm, exactly like `log`.
const BUILTINS: ReadonlyArray<readonly [string, string]> = [
  ['sin', 'sin'],
  ['sinh', 'sinh'],
  ['arcsin', 'asin'],
  ['asin', 'asin'],
  ['arcsinh', 'asinh'],
  ['asinh', 'asinh'],
  ['cos', 'cos'],
  ['cosh', 'cosh'],
  ['arccos', 'acos'],
  ['acos', 'acos'],
  ['arccosh', 'acosh'],
  ['acosh', 'acosh'],
  ['tan', 'tan'],
  ['tanh', 'tanh'],
  ['arctan', 'atan'],
  ['atan', 'atan'],
  ['arctanh', 'atanh'],
  ['atanh', 'atanh'],
  ['sqrt', 'sqrt'],
  ['abs', 'abs'],
  ['ln', 'log'],
  ['log', 'log'],
  ['exp', 'exp'],
  ['floor', 'floor'],
  ['ceil', 'ceil'],
];

const ONE: Arity = { exactly: [1] };
const VARIADIC: Arity = { atLeast: 1 };

// [FRM-9] EvalMath::$fc (spreadsheet emulation) and $fcsynonyms (MDL-14274: if/and/or).
const CALC: ReadonlyArray<readonly [string, string, Arity]> = [
  ['average', 'average', VARIADIC],
  ['max', 'max', VARIADIC],
  ['min', 'min', VARIADIC],
  ['sum', 'sum', VARIADIC],
  ['mod', 'mod', { exactly: [2] }],
  ['pi', 'pi', { exactly: [0] }],
  ['power', 'power', { exactly: [2] }],
  ['round', 'round', { exactly: [1, 2] }],
  ['rand_int', 'rand_int', { exactly: [2] }],
  ['rand_float', 'rand_float', { exactly: [0] }],
  ['ifthenelse', 'ifthenelse', { exactly: [3] }],
  ['if', 'ifthenelse', { exactly: [3] }],
  ['cond_and', 'cond_and', VARIADIC],
  ['and', 'cond_and', VARIADIC],
  ['cond_or', 'cond_or', VARIADIC],
  ['or', 'cond_or', VARIADIC],
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ...BUILTINS.map(([name, canonical]) => [name, { canonical, arity: ONE }] as const),
  ...CALC.map(([name, canonical, arity]) => [name, { canonical, arity }] as const),
]);

/** Every function name a formula may call, sorted (for help texts and editors). */
export const FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.keys()].sort();

export function arityAccepts(arity: Arity, n: number): boolean {
  return 'atLeast' in arity ? n >= arity.atLeast : arity.exactly.includes(n);
}

export function describeArity(arity: Arity): string {
  return 'atLeast' in arity ? 'at least 1' : arity.exactly.join(' or ');
}

// Parser for Moodle's calculator: tokens -> syntax tree with Moodle's operator precedence quirks.
// Pure: never evaluates; every syntax error names its column. Follows lib/evalmath/evalmath.class.php (FRM-4..7).
import { FormulaError } from './errors.ts';
import { arityAccepts, describeArity, FUNCTIONS } from './functions.ts';
import { lex, type BinaryOp, type LexOptions, type Token } from './lexer.ts';
import { closest } from './suggest.ts';

/** Spreadsheet names teachers try that Moodle spells differently (FRM-26). */
const FUNCTION_HINTS: ReadonlyMap<string, string> = new Map([
  ['avg', 'average'],
  ['mean', 'average'],
  ['pow', 'power'],
  ['ifs', 'if'],
]);

export type FormulaNode =
  | { readonly k: 'num'; readonly value: number; readonly pos: number }
  | { readonly k: 'var'; readonly name: string; readonly pos: number }
  | { readonly k: 'ref'; readonly idnumber: string; readonly pos: number }
  | { readonly k: 'neg'; readonly arg: FormulaNode; readonly pos: number }
  | {
      readonly k: 'bin';
      readonly op: BinaryOp;
      readonly left: FormulaNode;
      readonly right: FormulaNode;
      readonly pos: number;
    }
  /** `fn` is the canonical function (synonyms resolved), `name` the name as written (lower-cased). */
  | {
      readonly k: 'call';
      readonly fn: string;
      readonly name: string;
      readonly args: readonly FormulaNode[];
      readonly pos: number;
    };

/**
 * [FRM-4] Binary precedence, from EvalMath::nfx `$ops_p` (higher binds tighter):
 * comparisons 3 (MDL-14274 gave them the highest rank, so `1+2>3` is `1+(2>3)`), `^` 2
 * (right-associative), `* / %` 1, `+ -` 0. All but `^` are left-associative.
 */
export const PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  '+': 0,
  '-': 0,
  '*': 1,
  '/': 1,
  '%': 1,
  '^': 2,
  '<': 3,
  '>': 3,
  '<=': 3,
  '>=': 3,
  '==': 3,
};

/**
 * [FRM-5] Unary minus sits on EvalMath's operator stack with precedence 1: only `^` and the
 * comparisons (which rank higher) bind inside it, so `-2^2 = -4` and `-2>1` is `-(2>1)`.
 */
const UNARY_OPERAND_MIN_PRECEDENCE = 2;

/**
 * Deepest syntax tree accepted. Evaluation recurses once per level, so this keeps any accepted
 * formula far inside the JavaScript stack; real gradebook formulas are a few levels deep.
 */
export const MAX_DEPTH = 500;

export type ParseOptions = LexOptions;

/** Parses `src[start, end)` (positions stay relative to `src`). */
export function parse(src: string, start: number, end: number, opts: ParseOptions = {}): FormulaNode {
  const tokens = lex(src, start, end, opts);
  return new Parser(tokens, start).parseAll();
}

const depthOf = new WeakMap<FormulaNode, number>();
function depth(n: FormulaNode): number {
  return depthOf.get(n) ?? 1;
}

/** Parser frames allowed at once: each bracket or operator level takes one or two. */
const MAX_RECURSION = 2 * MAX_DEPTH;

class Parser {
  private i = 0;
  private level = 0;
  constructor(
    private readonly tokens: readonly Token[],
    private readonly start: number,
  ) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private previous(): Token | undefined {
    return this.i >= 2 ? this.tokens[this.i - 2] : undefined;
  }

  private node<N extends FormulaNode>(n: N, ...children: FormulaNode[]): N {
    let d = 0;
    for (const c of children) d = Math.max(d, depth(c));
    if (d + 1 > MAX_DEPTH)
      throw new FormulaError('syntax', `formula is nested too deeply (more than ${MAX_DEPTH} levels)`, n.pos);
    if (d > 0) depthOf.set(n, d + 1);
    return n;
  }

  parseAll(): FormulaNode {
    const first = this.peek();
    if (first.t === 'end') throw new FormulaError('syntax', 'empty formula', this.start);
    const tree = this.parseBinary(0, 0);
    const t = this.peek();
    if (t.t === ')') throw new FormulaError('syntax', "unexpected closing bracket ')'", t.pos);
    if (t.t === ',')
      throw new FormulaError('syntax', 'unexpected comma (commas only separate function arguments)', t.pos);
    return tree;
  }

  /** Precedence climbing; reproduces the shunting-yard output of EvalMath::nfx exactly (FRM-4, FRM-5). */
  private parseBinary(minPrec: number, nesting: number): FormulaNode {
    // Unary minus and `^` chains recurse without adding brackets; bound the recursion itself too.
    if (++this.level > MAX_RECURSION) {
      throw new FormulaError(
        'syntax',
        `formula is nested too deeply (more than ${MAX_DEPTH} levels)`,
        this.peek().pos,
      );
    }
    const tree = this.parseBinaryLoop(minPrec, nesting);
    this.level--;
    return tree;
  }

  private parseBinaryLoop(minPrec: number, nesting: number): FormulaNode {
    let left = this.parseOperand(nesting);
    for (;;) {
      const t = this.peek();
      if (t.t === 'op') {
        const p = PRECEDENCE[t.op];
        if (p < minPrec) return left;
        this.next();
        const right = this.parseBinary(t.op === '^' ? p : p + 1, nesting);
        left = this.node({ k: 'bin', op: t.op, left, right, pos: t.pos }, left, right);
        continue;
      }
      if (t.t === 'num' || t.t === 'name' || t.t === 'ref' || t.t === '(') {
        // [FRM-6] Moodle's calculator runs with implicit multiplication switched off.
        const prev = this.tokens[this.i - 1];
        if (t.t === '(' && prev?.t === 'name' && FUNCTIONS.has(prev.name)) {
          throw new FormulaError(
            'syntax',
            `no space may come between the function name '${prev.name}' and '('`,
            t.pos,
          );
        }
        throw new FormulaError(
          'syntax',
          'implicit multiplication is not allowed: put an operator such as * between the two terms',
          t.pos,
        );
      }
      return left;
    }
  }

  private parseOperand(nesting: number): FormulaNode {
    const t = this.next();
    switch (t.t) {
      case 'num':
        return { k: 'num', value: t.value, pos: t.pos };
      case 'ref':
        return { k: 'ref', idnumber: t.idnumber, pos: t.pos };
      case 'name':
        return t.call ? this.parseCall(t.name, t.pos, nesting) : { k: 'var', name: t.name, pos: t.pos };
      case 'op': {
        if (t.op === '-') {
          if (this.peek().t === 'end')
            throw new FormulaError('syntax', "operator '-' lacks an operand", t.pos);
          const arg = this.parseBinary(UNARY_OPERAND_MIN_PRECEDENCE, nesting);
          return this.node({ k: 'neg', arg, pos: t.pos }, arg);
        }
        // Moodle has no unary plus: any other operator where an operand belongs is an error.
        throw new FormulaError('syntax', `unexpected operator '${t.op}'`, t.pos);
      }
      case '(': {
        this.guardNesting(nesting, t.pos);
        const inner = this.parseBinary(0, nesting + 1);
        this.expectClose(t.pos);
        return inner;
      }
      case ')':
        throw new FormulaError('syntax', "unexpected closing bracket ')'", t.pos);
      case ',':
        throw new FormulaError('syntax', 'unexpected comma', t.pos);
      case 'end': {
        const prev = this.previous();
        if (prev?.t === 'op')
          throw new FormulaError('syntax', `operator '${prev.op}' lacks an operand`, prev.pos);
        throw new FormulaError('syntax', "expecting a closing bracket ')'", t.pos);
      }
    }
  }

  private guardNesting(nesting: number, pos: number): void {
    if (nesting + 1 > MAX_DEPTH)
      throw new FormulaError('syntax', `formula is nested too deeply (more than ${MAX_DEPTH} levels)`, pos);
  }

  private expectClose(openPos: number): void {
    const t = this.peek();
    if (t.t === ')') {
      this.next();
      return;
    }
    if (t.t === ',')
      throw new FormulaError('syntax', 'unexpected comma (commas only separate function arguments)', t.pos);
    throw new FormulaError(
      'syntax',
      `expecting a closing bracket ')' for the '(' at column ${openPos + 1}`,
      t.pos,
    );
  }

  /** [FRM-7] `name(` calls a known function; argument counts are checked as EvalMath does. */
  private parseCall(name: string, pos: number, nesting: number): FormulaNode {
    const spec = FUNCTIONS.get(name);
    if (!spec) {
      const hint = FUNCTION_HINTS.get(name) ?? closest(name, FUNCTIONS.keys());
      const more = hint === undefined ? '' : ` (did you mean ${hint}()?)`;
      throw new FormulaError('unknown_function', `unknown function '${name}()'${more}`, pos, { name });
    }
    const open = this.next(); // the '(' that made this a call
    this.guardNesting(nesting, open.pos);
    const args: FormulaNode[] = [];
    if (this.peek().t === ')') {
      this.next();
    } else {
      for (;;) {
        args.push(this.parseBinary(0, nesting + 1));
        const t = this.peek();
        if (t.t === ',') {
          this.next();
          continue;
        }
        this.expectClose(open.pos);
        break;
      }
    }
    if (!arityAccepts(spec.arity, args.length)) {
      throw new FormulaError(
        'arity',
        `wrong number of arguments for ${name}(): ${args.length} given, ${describeArity(spec.arity)} expected`,
        pos,
        { name },
      );
    }
    return this.node({ k: 'call', fn: spec.canonical, name, args, pos }, ...args);
  }
}

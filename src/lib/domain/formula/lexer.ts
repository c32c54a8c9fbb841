// Lexer for Moodle's calculator language (lib/evalmath/evalmath.class.php, EvalMath::nfx scanning rules).
// Pure: turns text into positioned tokens; never evaluates, never reads anything but its argument.
import { FormulaError } from './errors.ts';

export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '%' | '<' | '>' | '<=' | '>=' | '==';

export type Token =
  | { readonly t: 'num'; readonly value: number; readonly text: string; readonly pos: number }
  /** `call` is true when `(` follows the name immediately (Moodle's `name(` pattern; a space breaks it). */
  | { readonly t: 'name'; readonly name: string; readonly call: boolean; readonly pos: number }
  | { readonly t: 'ref'; readonly idnumber: string; readonly pos: number }
  | { readonly t: 'op'; readonly op: BinaryOp; readonly pos: number }
  | { readonly t: '(' | ')' | ','; readonly pos: number }
  | { readonly t: 'end'; readonly pos: number };

export interface LexOptions {
  /** Accept `[[idnumber]]` references (gradebook calculations). */
  readonly references?: boolean;
}

const TWO_CHAR_OPS: ReadonlySet<string> = new Set(['<=', '>=', '==']);
const ONE_CHAR_OPS: ReadonlySet<string> = new Set(['+', '-', '*', '/', '^', '%', '<', '>']);

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isNameChar = (c: string): boolean => isLetter(c) || isDigit(c) || c === '_';
/** PHP's `\s` (without /u): space, tab, newline, vertical tab, form feed, carriage return. */
const isSpace = (c: string): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/**
 * [FRM-2] Characters Moodle's `nfx` accepts before scanning: letters, digits, `_`, whitespace and
 * `+ - * / ^ ( ) . , < > =`, plus `%` (see SPEC.md FRM-2). Everything else is an illegal character,
 * reported for the first one found, before any other syntax error (as Moodle does).
 */
function isAllowed(c: string): boolean {
  return isNameChar(c) || isSpace(c) || '+-*/^().,<>=%'.includes(c);
}

/** Finds the end of `[[...]]` starting at `i` (which holds `[[`); returns the index after `]]`. */
function refEnd(src: string, i: number): number {
  const close = src.indexOf(']]', i + 2);
  if (close < 0) throw new FormulaError('syntax', "unclosed reference: '[[' has no matching ']]'", i);
  return close + 2;
}

/**
 * Tokenises `src[start, end)`. Positions are offsets into `src` itself, so callers can strip a
 * leading `=` or surrounding whitespace and still report columns in the text the user typed.
 */
export function lex(src: string, start: number, end: number, opts: LexOptions = {}): Token[] {
  const refs = opts.references === true;
  // Illegal characters first, over the whole expression (EvalMath checks them before scanning).
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (refs && c === '[' && src[i + 1] === '[') {
      i = refEnd(src, i) - 1;
      continue;
    }
    if (!isAllowed(c)) {
      const shown =
        c === '[' || c === ']'
          ? `${c} (references [[idnumber]] are only allowed in gradebook calculations)`
          : c;
      throw new FormulaError('syntax', `illegal character '${shown}'`, i);
    }
  }

  const out: Token[] = [];
  let i = start;
  while (i < end) {
    const c = src[i]!;
    if (c === ' ') {
      i++;
      continue;
    }
    if (isSpace(c)) {
      // EvalMath only steps over spaces between tokens; any other whitespace inside is an error.
      throw new FormulaError(
        'syntax',
        'only spaces may separate the parts of a formula (found a tab or line break)',
        i,
      );
    }
    if (refs && c === '[' && src[i + 1] === '[') {
      const after = refEnd(src, i);
      const idnumber = src.slice(i + 2, after - 2);
      if (idnumber.length === 0) throw new FormulaError('syntax', "empty reference '[[]]'", i);
      out.push({ t: 'ref', idnumber, pos: i });
      i = after;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (i + 1 < end && TWO_CHAR_OPS.has(two)) {
      out.push({ t: 'op', op: two as BinaryOp, pos: i });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(c)) {
      out.push({ t: 'op', op: c as BinaryOp, pos: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c, pos: i });
      i++;
      continue;
    }
    if (c === '=') throw new FormulaError('syntax', "unexpected '=' (compare with '==')", i);
    if (c === '_')
      throw new FormulaError('syntax', "illegal character '_' (a name must start with a letter)", i);
    if (isLetter(c)) {
      let j = i + 1;
      while (j < end && isNameChar(src[j]!)) j++;
      const name = src.slice(i, j).toLowerCase();
      out.push({ t: 'name', name, call: j < end && src[j] === '(', pos: i });
      i = j;
      continue;
    }
    if (isDigit(c) || (c === '.' && i + 1 < end && isDigit(src[i + 1]!))) {
      i = lexNumber(src, i, end, out);
      continue;
    }
    throw new FormulaError('syntax', `unexpected '${c}'`, i);
  }
  out.push({ t: 'end', pos: end });
  return out;
}

/**
 * [FRM-3] Numbers as EvalMath scans them: `\d+(\.\d*)?(e[+-]?\d*)?` or `\.\d+`, case-insensitive.
 * Moodle then needs PHP's is_numeric to accept the text; `1e` or `2e+` fail there (as an
 * "undefined variable"), which we report as a malformed number instead.
 */
function lexNumber(src: string, i: number, end: number, out: Token[]): number {
  const start = i;
  if (src[i] === '.') {
    i++;
    while (i < end && isDigit(src[i]!)) i++;
  } else {
    while (i < end && isDigit(src[i]!)) i++;
    if (i < end && src[i] === '.') {
      i++;
      while (i < end && isDigit(src[i]!)) i++;
    }
  }
  if (i < end && (src[i] === 'e' || src[i] === 'E')) {
    let j = i + 1;
    if (j < end && (src[j] === '+' || src[j] === '-')) j++;
    const digitsFrom = j;
    while (j < end && isDigit(src[j]!)) j++;
    if (j === digitsFrom) {
      throw new FormulaError(
        'syntax',
        `malformed number '${src.slice(start, j)}' (an exponent needs digits)`,
        start,
      );
    }
    i = j;
  }
  const text = src.slice(start, i);
  out.push({ t: 'num', value: Number(text), text, pos: start });
  return i;
}

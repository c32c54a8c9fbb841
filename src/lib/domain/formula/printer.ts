// Prints a formula tree back to text with only the brackets Moodle's precedence needs (FRM-19).
// Pure: the output parses back to the same tree; it never evaluates anything.
import type { FormulaNode } from './parser.ts';
import { PRECEDENCE } from './parser.ts';

/** Precedence of a node as an operand; atoms and calls never need brackets. */
function rank(n: FormulaNode): number {
  return n.k === 'bin' ? PRECEDENCE[n.op] : Number.POSITIVE_INFINITY;
}

/**
 * [FRM-19] Canonical text of a tree: `=` is not included; binary operators get one space each
 * side, arguments are separated by ", ". A unary minus is bracketed when it is the right operand
 * of an operator (it would otherwise swallow a following `^` or comparison) or the left operand of
 * `^` or a comparison (which would otherwise bind inside it).
 */
export function printFormula(n: FormulaNode): string {
  switch (n.k) {
    case 'num':
      return String(n.value);
    case 'var':
      return n.name;
    case 'ref':
      return `[[${n.idnumber}]]`;
    case 'call':
      return `${n.name}(${n.args.map(printFormula).join(', ')})`;
    case 'neg': {
      const inner = printFormula(n.arg);
      return rank(n.arg) < 2 ? `-(${inner})` : `-${inner}`;
    }
    case 'bin': {
      const p = PRECEDENCE[n.op];
      const rightAssoc = n.op === '^';
      const leftNeedsBrackets =
        n.left.k === 'neg' ? p >= 2 : rank(n.left) < p || (rightAssoc && rank(n.left) === p);
      const rightNeedsBrackets =
        n.right.k === 'neg' || rank(n.right) < p || (!rightAssoc && rank(n.right) === p);
      const l = printFormula(n.left);
      const r = printFormula(n.right);
      return `${leftNeedsBrackets ? `(${l})` : l} ${n.op} ${rightNeedsBrackets ? `(${r})` : r}`;
    }
  }
}

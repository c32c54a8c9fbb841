// FormulaError: every way a formula can fail, with the character position at fault.
// Pure: no I/O; messages name the position, variable, function, idnumber or cycle (FRM-17).

export type FormulaErrorKind =
  | 'syntax'
  | 'unknown_function'
  | 'unknown_variable'
  | 'division_by_zero'
  | 'arity'
  | 'domain'
  | 'reference'
  | 'cycle';

export interface FormulaErrorDetail {
  /** The variable, function or idnumber at fault, when there is one. */
  readonly name?: string;
  /** For `cycle`: the item ids on the cycle, in dependency order, first repeated at the end. */
  readonly items?: readonly string[];
}

/**
 * A formula that cannot be compiled or evaluated.
 * `position` is the 0-based offset into the formula text exactly as given (leading `=` included);
 * messages count columns from 1 ("at column 5" is position 4). Null when no single place is at fault.
 */
export class FormulaError extends Error {
  readonly kind: FormulaErrorKind;
  readonly position: number | null;
  readonly detail: FormulaErrorDetail;
  constructor(
    kind: FormulaErrorKind,
    message: string,
    position: number | null = null,
    detail: FormulaErrorDetail = {},
  ) {
    super(position === null ? message : `${message} (at column ${position + 1})`);
    this.name = 'FormulaError';
    this.kind = kind;
    this.position = position;
    this.detail = detail;
  }
}

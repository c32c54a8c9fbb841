// The engine's view of the formula language: what a compiled calculation must offer ([CALC-1]).
// Types only; the implementation is src/lib/domain/formula (another module), injected or wired in index.ts.

/** A calculation compiled once; evaluated per user with the referenced items' final grades. */
export interface CompiledFormula {
  /** idnumbers referenced as [[idnumber]], in order of first use. */
  readonly references: readonly string[];
  /** Evaluates with each reference bound to a final grade (null = no grade); null or a throw = no result. */
  evaluateRefs(values: ReadonlyMap<string, number | null>): number | null;
}

/** Compiles a `=` formula; throws (with a message naming the position) on a syntax error. */
export type FormulaCompiler = (calculation: string) => CompiledFormula;

// Public API of the formula language: Moodle's calculator and gradebook calculations.
// Pure domain: import from here, not from the files behind it. Rules are numbered in SPEC.md (FRM-n).
export { FormulaError, type FormulaErrorKind, type FormulaErrorDetail } from './errors.ts';
export { compileFormula, parseFormula, type CompiledFormula, type CompileOptions } from './compile.ts';
export {
  compileGradebookFormula,
  validateGradebookFormula,
  rewriteReferences,
  type GradebookFormula,
  type ValidateOptions,
} from './gradebook.ts';
export {
  orderByDependencies,
  planDependencies,
  type DependencyInput,
  type DependencyPlan,
  type BrokenReference,
} from './dependencies.ts';
export { FUNCTION_NAMES } from './functions.ts';
export { PRECEDENCE, MAX_DEPTH, type FormulaNode } from './parser.ts';
export { printFormula } from './printer.ts';
export { phpRound, phpMod, phpPow } from './php-math.ts';

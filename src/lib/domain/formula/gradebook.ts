// Gradebook calculations: "=[[quiz1]]*2 + sum([[a]],[[b]])" over other items' final grades.
// Pure: follows lib/grade/grade_item.php (compute, use_formula, validate_formula); never clamps or rounds (the engine does).
import { collectLeaves, trimSpan, type CompiledFormula, type CompileOptions } from './compile.ts';
import { FormulaError } from './errors.ts';
import { buildEvaluator, finish } from './evaluator.ts';
import { parse } from './parser.ts';
import { closest } from './suggest.ts';

function didYouMean(id: string, known: Iterable<string>): string {
  const c = closest(id, known);
  return c === undefined ? '' : ` (did you mean [[${c}]]?)`;
}

export interface GradebookFormula extends CompiledFormula {
  /** idnumbers referenced via [[...]], in first-appearance order, unique */
  readonly references: readonly string[];
  /** Parallel to `references`: the 0-based offset of each one's first `[[` in the calculation text. */
  readonly referenceAt: readonly number[];
  /**
   * [FRM-21] Moodle's grade_item::use_formula: a referenced idnumber that is missing from the map
   * or null ("no grade") counts as 0, the spreadsheet way; but when EVERY referenced value is
   * missing or null (or the formula references nothing), the result is null: no grade.
   * Returns the raw result, neither clamped to the item's grademin/grademax nor rounded: the
   * engine applies bounded_grade. Throws FormulaError when the formula fails for these values
   * (Moodle then stores a null grade and reports the error).
   */
  evaluateRefs(values: ReadonlyMap<string, number | null>): number | null;
}

/**
 * [FRM-20] Compiles a gradebook calculation. It must start with `=` (after surrounding whitespace),
 * may refer to items only as `[[idnumber]]` (idnumbers are matched exactly, case and all), and
 * may not use plain variable names (Moodle binds none, so validate_formula rejects them).
 * `variables` is therefore always empty; `evaluate(vars)` takes values keyed by idnumber and
 * requires every reference (a missing one is a `reference` error).
 */
export function compileGradebookFormula(calculation: string, options: CompileOptions = {}): GradebookFormula {
  const [a, b] = trimSpan(calculation);
  if (calculation[a] !== '=') {
    throw new FormulaError('syntax', "a calculation must start with '='", a < b ? a : 0);
  }
  const tree = parse(calculation, a + 1, b, { references: true });
  const plain = collectLeaves(tree, 'var');
  if (plain.length > 0) {
    const { name, pos } = plain[0]!;
    throw new FormulaError(
      'unknown_variable',
      `undefined variable '${name}' (a calculation refers to grade items as [[idnumber]])`,
      pos,
      { name },
    );
  }
  const refs = collectLeaves(tree, 'ref');
  const references = refs.map((r) => r.name);
  const slot = new Map(references.map((r, i) => [r, i] as const));
  const values = new Float64Array(references.length);
  const present = new Uint8Array(references.length);
  const root = buildEvaluator(
    tree,
    (leaf) => {
      if (leaf.k !== 'ref') throw new Error('internal: plain variable in a gradebook formula');
      const i = slot.get(leaf.idnumber)!;
      const { idnumber, pos } = leaf;
      return () => {
        if (present[i] !== 1)
          throw new FormulaError('reference', `no value for [[${idnumber}]]`, pos, { name: idnumber });
        return values[i]!;
      };
    },
    options,
  );
  const n = references.length;
  return {
    source: calculation,
    variables: [],
    references,
    referenceAt: refs.map((r) => r.pos),
    evaluate(vars: Readonly<Record<string, number>>): number {
      for (let i = 0; i < n; i++) {
        const id = references[i]!;
        const v = Object.prototype.hasOwnProperty.call(vars, id) ? vars[id] : undefined;
        if (typeof v === 'number') {
          values[i] = v;
          present[i] = 1;
        } else present[i] = 0;
      }
      return finish(root());
    },
    evaluateRefs(map: ReadonlyMap<string, number | null>): number | null {
      let anyGraded = false;
      for (let i = 0; i < n; i++) {
        const v = map.get(references[i]!);
        if (v === undefined || v === null) values[i] = 0;
        else {
          values[i] = v;
          anyGraded = true;
        }
        present[i] = 1;
      }
      if (!anyGraded) return null;
      return finish(root());
    },
  };
}

export interface ValidateOptions extends CompileOptions {
  /** The idnumber of the item that owns the calculation: referring to it is an error. */
  readonly self?: string;
  /**
   * grademax by idnumber. When every reference has one, the formula is also evaluated with each
   * reference at its maximum, as Moodle's validate_formula does, so that e.g. a division by zero
   * at the maxima is caught when the formula is saved.
   */
  readonly grademax?: ReadonlyMap<string, number>;
}

/**
 * [FRM-22] Validates a calculation before it is saved: syntax, every [[idnumber]] known
 * (unknown -> `reference` naming it), no reference to the item itself (`cycle`), and, given the
 * maxima, a trial evaluation. Returns the compiled formula so callers need not compile twice.
 */
export function validateGradebookFormula(
  calculation: string,
  knownIdnumbers: ReadonlySet<string>,
  options: ValidateOptions = {},
): GradebookFormula {
  const f = compileGradebookFormula(calculation, options);
  for (let k = 0; k < f.references.length; k++) {
    const id = f.references[k]!;
    const at = f.referenceAt[k]!;
    if (!knownIdnumbers.has(id)) {
      throw new FormulaError(
        'reference',
        `unknown grade item [[${id}]]: no item has that idnumber${didYouMean(id, knownIdnumbers)}`,
        at,
        { name: id },
      );
    }
    if (options.self !== undefined && id === options.self) {
      throw new FormulaError('cycle', `a calculation may not refer to its own item [[${id}]]`, at, {
        name: id,
        items: [id, id],
      });
    }
  }
  const max = options.grademax;
  if (max && f.references.every((id) => max.has(id))) {
    const vars: Record<string, number> = {};
    for (const id of f.references) vars[id] = max.get(id)!;
    f.evaluate(vars);
  }
  return f;
}

function forEachReference(text: string, visit: (idnumber: string, start: number, end: number) => void): void {
  let i = text.indexOf('[[');
  while (i >= 0) {
    const close = text.indexOf(']]', i + 2);
    if (close < 0) return;
    visit(text.slice(i + 2, close), i, close + 2);
    i = text.indexOf('[[', close + 2);
  }
}

/**
 * Rewrites the [[idnumber]] references of a calculation (e.g. after an item's idnumber changes;
 * Moodle stores ##gi<id>## to survive renames, we store idnumbers and rewrite instead).
 * `rename` returns the new idnumber, or undefined to keep a reference as it is.
 */
export function rewriteReferences(
  calculation: string,
  rename: (idnumber: string) => string | undefined,
): string {
  let out = '';
  let last = 0;
  forEachReference(calculation, (id, start, end) => {
    const next = rename(id);
    if (next === undefined) return;
    if (next.length === 0 || next.includes(']]')) {
      throw new FormulaError(
        'reference',
        `cannot rename [[${id}]] to '${next}': an idnumber must be non-empty and not contain ']]'`,
        start,
        { name: id },
      );
    }
    out += calculation.slice(last, start) + `[[${next}]]`;
    last = end;
  });
  return out + calculation.slice(last);
}

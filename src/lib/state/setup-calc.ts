// The calculation editor's logic: live validation with the position at fault, [[idnumber]] completion, and the
// "depends on / used by" lists. Pure over a course snapshot; never writes and never reads the DOM.
import { FormulaError, planDependencies, validateGradebookFormula } from '../domain/formula/index';
import type { CourseJson } from '../domain/interchange/course-types';

/** The idnumbers a calculation text references, in order of first appearance (no parse needed). */
export function referencesOf(calculation: string): string[] {
  const out: string[] = [];
  let i = calculation.indexOf('[[');
  while (i >= 0) {
    const close = calculation.indexOf(']]', i + 2);
    if (close < 0) break;
    const id = calculation.slice(i + 2, close);
    if (!out.includes(id)) out.push(id);
    i = calculation.indexOf('[[', close + 2);
  }
  return out;
}

export type CalcCheck =
  | { ok: true; references: string[] }
  | {
      ok: false;
      message: string;
      /** 0-based offset into the text, or null when no single place is at fault. */ position: number | null;
    };

interface Named {
  id: string;
  name: string;
  idnumber: string;
  calculation: string | null;
}

function nodes(json: CourseJson): Named[] {
  return [
    ...json.items.map((i) => ({
      id: i.id,
      name: i.name,
      idnumber: i.idnumber,
      calculation: i.calculation ?? null,
    })),
    ...json.categories.map((c) => ({
      id: c.id,
      name: c.name,
      idnumber: c.idnumber ?? '',
      calculation: c.calculation ?? null,
    })),
  ];
}

/** Every idnumber a calculation may reference (items and categories that have one), sorted. */
export function knownIdnumbers(json: CourseJson): string[] {
  return nodes(json)
    .map((n) => n.idnumber)
    .filter((s) => s !== '')
    .sort((a, b) => a.localeCompare(b));
}

/**
 * Validates the calculation of node `ownerId` as it would be saved: syntax, known references, no reference to
 * itself, a trial evaluation at the maxima (validate_formula, Moodle lib/grade/grade_item.php), and no cycle
 * through other calculations ([FRM-22], [FRM-23]). An empty text means "no calculation" and is fine.
 */
export function checkCalculation(json: CourseJson, ownerId: string, text: string): CalcCheck {
  if (text.trim() === '') return { ok: true, references: [] };
  const all = nodes(json);
  const owner = all.find((n) => n.id === ownerId);
  const known = new Set(knownIdnumbers(json));
  const grademax = new Map<string, number>();
  for (const it of json.items) if (it.idnumber) grademax.set(it.idnumber, it.grademax);
  let refs: readonly string[];
  try {
    const opts = owner?.idnumber ? { self: owner.idnumber, grademax } : { grademax };
    const f = validateGradebookFormula(text, known, opts);
    refs = f.references;
  } catch (e) {
    if (e instanceof FormulaError) return { ok: false, message: e.message, position: e.position };
    throw e;
  }
  // A cycle through other calculations: plan the dependencies as they would be after saving.
  const references = new Map<string, readonly string[]>();
  for (const n of all) {
    const calc = n.id === ownerId ? text : n.calculation;
    if (calc && calc.trim() !== '') references.set(n.id, n.id === ownerId ? refs : referencesOf(calc));
  }
  const itemByIdnumber = new Map(
    all.filter((n) => n.idnumber !== '').map((n) => [n.idnumber, n.id] as const),
  );
  const plan = planDependencies({ references, itemByIdnumber });
  const cycle = plan.cycles.find((c) => c.includes(ownerId));
  if (cycle) {
    const names = cycle.map((id) => all.find((n) => n.id === id)?.name ?? id);
    return {
      ok: false,
      message: `this calculation would go round in a circle: ${names.join(' → ')}`,
      position: null,
    };
  }
  return { ok: true, references: [...refs] };
}

/** The `[[` being typed at the caret: where it starts and what follows it so far; null when not in a reference. */
export function completionContext(text: string, caret: number): { start: number; query: string } | null {
  if (caret < 2) return null;
  const open = text.lastIndexOf('[[', caret - 2);
  if (open < 0) return null;
  const between = text.slice(open + 2, caret);
  if (between.includes(']') || between.includes('[') || /\s/.test(between)) return null;
  return { start: open, query: between };
}

/** Idnumbers that match what was typed after `[[` (prefix matches first, then substring matches), case-insensitive. */
export function completionOptions(known: readonly string[], query: string): string[] {
  const q = query.toLowerCase();
  const starts = known.filter((k) => k.toLowerCase().startsWith(q));
  const contains = known.filter((k) => !k.toLowerCase().startsWith(q) && k.toLowerCase().includes(q));
  return [...starts, ...contains];
}

/** Replaces the reference being typed with `[[idnumber]]` (absorbing a `]]` already after the caret). */
export function applyCompletion(
  text: string,
  ctx: { start: number },
  caret: number,
  idnumber: string,
): { text: string; caret: number } {
  let end = caret;
  // the rest of a partly typed idnumber and its closing brackets belong to the reference being replaced
  const rest = /^[^\s[\]]*\]\]/.exec(text.slice(caret));
  if (rest) end = caret + rest[0].length;
  const ref = `[[${idnumber}]]`;
  return { text: text.slice(0, ctx.start) + ref + text.slice(end), caret: ctx.start + ref.length };
}

/** Which nodes a calculation reads (by idnumber; unknown ones named as such) and which calculations read this node. */
export function dependencyView(
  json: CourseJson,
  ownerId: string,
  text: string,
): { dependsOn: { idnumber: string; name: string | null }[]; usedBy: { id: string; name: string }[] } {
  const all = nodes(json);
  const byIdnumber = new Map(all.filter((n) => n.idnumber !== '').map((n) => [n.idnumber, n] as const));
  const dependsOn = referencesOf(text).map((idnumber) => ({
    idnumber,
    name: byIdnumber.get(idnumber)?.name ?? null,
  }));
  const owner = all.find((n) => n.id === ownerId);
  const usedBy: { id: string; name: string }[] = [];
  if (owner?.idnumber)
    for (const n of all)
      if (n.id !== ownerId && n.calculation && referencesOf(n.calculation).includes(owner.idnumber))
        usedBy.push({ id: n.id, name: n.name });
  return { dependsOn, usedBy };
}

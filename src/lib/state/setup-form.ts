// Form values of the setup dialogs <-> course fields: numbers and dates parsed with the field named on error,
// only changed fields sent, and "rescale existing grades" as commands. Pure apart from local-time formatting;
// never applies a command itself.
import type { Command } from '../crdt/commands';
import { isLockedAt } from '../domain/gradebook/flags';
import { rescaleKeepPercentage } from '../domain/gradebook/range';
import type { CourseCategory, CourseItem, CourseJson, FlagOrTime } from '../domain/interchange/course-types';
import { checkCalculation } from './setup-calc';
import type { weightMode } from './setup-tree';

export type FlagMode = 'no' | 'yes' | 'time';

export interface FlagForm {
  mode: FlagMode;
  /** `YYYY-MM-DDTHH:mm` in local time (the value of an <input type="datetime-local">). */
  time: string;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Unix seconds -> the local `datetime-local` text. */
export function toLocalInput(unix: number): string {
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The local `datetime-local` text -> unix seconds, or null when it is not a date. */
export function fromLocalInput(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(s);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  const t = d.getTime();
  return Number.isFinite(t) ? Math.floor(t / 1000) : null;
}

export function flagToForm(v: FlagOrTime | undefined): FlagForm {
  if (v === true) return { mode: 'yes', time: '' };
  if (typeof v === 'number' && v > 0) return { mode: 'time', time: toLocalInput(v) };
  return { mode: 'no', time: '' };
}

export function formToFlag(f: FlagForm): { ok: true; value: FlagOrTime } | { ok: false; message: string } {
  if (f.mode === 'no') return { ok: true, value: false };
  if (f.mode === 'yes') return { ok: true, value: true };
  const t = fromLocalInput(f.time);
  return t === null ? { ok: false, message: 'choose a date and time' } : { ok: true, value: t };
}

/** A number typed into a form (comma decimals accepted); empty gives `empty`. */
export function parseNumber(
  text: string,
  empty: number | null = null,
): { ok: true; value: number | null } | { ok: false; message: string } {
  const t = text.trim().replace(',', '.');
  if (t === '') return { ok: true, value: empty };
  const n = Number(t);
  return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `"${text}" is not a number` };
}

/** Reads a number field of a form: its value, or null with the problem recorded under the field's name. */
export function numberReader(
  p: Map<string, string>,
): (field: string, text: string, empty: number | null) => number | null {
  return (field, text, empty) => {
    const r = parseNumber(text, empty);
    if (!r.ok) p.set(field, r.message);
    return r.ok ? r.value : null;
  };
}

/** What the item and category forms both ask: the weight in the parent, extra credit, hidden, locked, calculation. */
export interface SharedFields {
  /** How the parent's method weighs this row (weightMode); null when no weight is asked (e.g. the method changes). */
  mode: ReturnType<typeof weightMode> | null;
  weightText: string;
  weightOverride: boolean;
  extraCredit: boolean;
  extraCreditWeight: string;
  hidden: FlagForm;
  locked: FlagForm;
  calculation: string;
}

/** Reads the shared fields of row `id` into `next`, recording problems by field name in `p` (both forms call it). */
export function readSharedFields(
  json: CourseJson,
  id: string,
  f: SharedFields,
  next: Partial<
    Pick<
      CourseItem,
      'weight' | 'weightOverride' | 'extraCredit' | 'extraCreditWeight' | 'hidden' | 'locked' | 'calculation'
    >
  >,
  p: Map<string, string>,
): void {
  const num = numberReader(p);
  if (f.mode?.weight === 'natural') {
    const w = num('weight', f.weightText, null);
    next.weightOverride = f.weightOverride;
    if (f.weightOverride && w === null) p.set('weight', 'give the weight in percent');
    next.weight = f.weightOverride && w !== null ? w / 100 : null;
  } else if (f.mode?.weight === 'weighted') next.weight = num('weight', f.weightText, null);
  if (f.mode?.extra === 'flag') next.extraCredit = f.extraCredit;
  else if (f.mode?.extra === 'weight')
    next.extraCreditWeight = num('extraCreditWeight', f.extraCreditWeight, 0) ?? 0;
  const h = formToFlag(f.hidden);
  if (h.ok) next.hidden = h.value;
  else p.set('hidden', h.message);
  const l = formToFlag(f.locked);
  if (l.ok) next.locked = l.value;
  else p.set('locked', l.message);
  const calc = f.calculation.trim();
  if (calc !== '') {
    const c = checkCalculation(json, id, calc);
    if (!c.ok) p.set('calculation', c.message);
  }
  next.calculation = calc === '' ? null : calc;
}

/**
 * Only the fields whose value differs from the current row (a new row sends everything). A field the row does not
 * have counts as its default, so saving an untouched form writes nothing (no empty history entries).
 */
export function changedFields<T extends object>(
  current: Partial<T> | null,
  next: Partial<T>,
  defaults: Partial<T> = {},
): Partial<T> {
  if (!current) return next;
  const out: Partial<T> = {};
  for (const k of Object.keys(next) as (keyof T)[]) {
    const a = current[k] ?? defaults[k] ?? null;
    const b = next[k] ?? defaults[k] ?? null;
    if (JSON.stringify(a) !== JSON.stringify(b)) out[k] = next[k];
  }
  return out;
}

/** What an item field means when it is absent (course-json.md defaults). */
export const ITEM_DEFAULTS: Partial<CourseItem> = {
  gradetype: 'value',
  scale: null,
  multfactor: 1,
  plusfactor: 0,
  weight: null,
  weightOverride: false,
  extraCredit: false,
  extraCreditWeight: 0,
  hidden: false,
  locked: false,
  calculation: null,
};

/** What a category field means when it is absent (course-json.md defaults; a total's range is 0..100). */
export const CATEGORY_DEFAULTS: Partial<CourseCategory> = {
  idnumber: '',
  aggregateOnlyGraded: true,
  dropLowest: 0,
  keepHighest: 0,
  aggregateOutcomes: false,
  grademin: 0,
  grademax: 100,
  weight: null,
  weightOverride: false,
  extraCredit: false,
  extraCreditWeight: 0,
  hidden: false,
  locked: false,
  calculation: null,
};

/** True when the item has grades a range change would affect. */
export function hasGrades(json: CourseJson, itemId: string): boolean {
  return json.grades.some(
    (g) =>
      g.item === itemId &&
      (typeof g.raw === 'number' || typeof g.final === 'number' || typeof g.overridden === 'number'),
  );
}

/**
 * The grade writes that keep every grade's percentage when an item's range changes, after the engine's
 * Gradebook.updateItem rescale ([API-7]; Moodle grade_item::rescale_grades_keep_percentage): raw grades given in the
 * item's own range, stored finals and overrides move to the same place in the new range. Goes in the same bulk as
 * the setItem that changes the range (after it), so it is one undo step; a locked grade refuses the whole bulk.
 */
export function rescaleCommands(
  json: CourseJson,
  itemId: string,
  oldMin: number,
  oldMax: number,
  newMin: number,
  newMax: number,
): Command[] {
  if (oldMin === newMin && oldMax === newMax) return [];
  const r = (v: number): number => rescaleKeepPercentage(v, oldMin, oldMax, newMin, newMax);
  const out: Command[] = [];
  for (const g of json.grades) {
    if (g.item !== itemId) continue;
    if (typeof g.final === 'number')
      out.push({ type: 'setGrade', item: itemId, user: g.user, final: r(g.final) });
    else if (typeof g.raw === 'number' && g.rawgrademin === undefined)
      out.push({ type: 'setGrade', item: itemId, user: g.user, raw: r(g.raw) });
    if (typeof g.overridden === 'number')
      out.push({ type: 'overrideGrade', item: itemId, user: g.user, value: r(g.overridden) });
  }
  return out;
}

/**
 * The second name of a category's total rows: `course` for the course category (course-json.md lets grades name the
 * course total either way), or null.
 */
function totalAlias(json: CourseJson, categoryId: string): string | null {
  return json.categories.some((c) => c.id === categoryId && c.parent === null) ? 'course' : null;
}

/**
 * True when a category's total has an overridden grade: only then does Moodle ask whether to rescale when the
 * total's range changes (grade_item::has_overridden_grades in lib/grade/grade_item.php; the question is removed
 * otherwise in grade/edit/tree/category_form.php definition_after_data) [SET-7].
 */
export function hasOverriddenTotals(json: CourseJson, categoryId: string): boolean {
  return overriddenTotalCount(json, categoryId) > 0;
}

/** How many of a category's totals are overridden (for the rescale question). */
export function overriddenTotalCount(json: CourseJson, categoryId: string): number {
  const alias = totalAlias(json, categoryId);
  let n = 0;
  for (const g of json.grades)
    if ((g.item === categoryId || g.item === alias) && typeof g.overridden === 'number') n++;
  return n;
}

export interface TotalRescale {
  /** One overrideGrade per overridden total that moves, to go in the bulk after the setCategory. */
  commands: Command[];
  /** Overridden totals left as they are because the grade or the category is locked. */
  lockedKept: number;
}

/**
 * The writes that keep each overridden total's percentage when a category total's range changes, after
 * grade_item::rescale_grades_keep_percentage (Moodle lib/grade/grade_item.php, called from grade/edit/tree/
 * lib.php update_gradecategory when the form's rescalegrades is "yes"): for a category item only the overridden
 * grades move (aggregated totals are recomputed in the new range anyway), each through update_final_grade, which
 * leaves locked grades, and every grade of a locked category, as they were. Moodle's course item is not a
 * "category item" there, so Moodle also rewrites (and thereby overrides) every computed course total; Markbook
 * treats the course total like any category total and moves only the overridden ones, since computed totals are
 * derived and never stored. Throws RangeError when the ranges cannot be rescaled ([RNG-4]).
 */
export function categoryRescaleCommands(
  json: CourseJson,
  categoryId: string,
  oldMin: number,
  oldMax: number,
  newMin: number,
  newMax: number,
  now: number,
): TotalRescale {
  const out: TotalRescale = { commands: [], lockedKept: 0 };
  if (oldMin === newMin && oldMax === newMax) return out;
  const cat = json.categories.find((c) => c.id === categoryId);
  const catLocked = isLockedAt(cat?.locked, now);
  const alias = totalAlias(json, categoryId);
  for (const g of json.grades) {
    if ((g.item !== categoryId && g.item !== alias) || typeof g.overridden !== 'number') continue;
    if (catLocked || isLockedAt(g.locked, now)) {
      out.lockedKept++;
      continue;
    }
    const value = rescaleKeepPercentage(g.overridden, oldMin, oldMax, newMin, newMax);
    out.commands.push({ type: 'overrideGrade', item: g.item, user: g.user, value });
  }
  return out;
}

/**
 * Why an item's grade type cannot change, or null when it can. Moodle refuses a new grade type (and a new scale)
 * once the item has grades (grade/edit/tree/item_form.php validation: modgradecantchangegradetype), and an outcome
 * item is always rated on its outcome's scale (outcomeitem_form.php has no grade type).
 */
export function gradeTypeLock(json: CourseJson, item: CourseItem | null): string | null {
  if (!item) return null;
  if (item.outcome) return 'An outcome is always rated on its scale.';
  if (hasGrades(json, item.id)) return 'The grade type cannot change while the item has grades.';
  return null;
}

/**
 * Checks new scale labels for an item. With grades, the number of labels must stay (each stored grade is a position
 * on the scale; Moodle refuses another scale, modgradecantchangescale); renaming labels is allowed, since a Markbook
 * scale belongs to its item and the grades keep their positions.
 */
export function scaleLabelsProblem(
  json: CourseJson,
  item: CourseItem | null,
  labels: readonly string[],
): string | null {
  if (labels.length < 2) return 'give at least two scale labels, separated by commas';
  if (new Set(labels).size !== labels.length) return 'each scale label must be different';
  const before = item?.gradetype === 'scale' ? (item.scale?.length ?? 0) : 0;
  if (item && before > 0 && labels.length !== before && hasGrades(json, item.id))
    return `the item has grades: keep ${before} labels (you can rename them)`;
  return null;
}

// Builds the CRDT commands of the setup page (aggregation changes, moves, deletes, clean-up) from a course
// snapshot. Pure: returns commands for CourseWorkspace.run and never applies them itself.
import type { Command, CommandError } from '../crdt/commands';
import type { Aggregation, CourseCategory, CourseItem, CourseJson } from '../domain/interchange/course-types';
import { rewriteReferences } from '../domain/formula/index';
import { referencesOf } from './setup-calc';

type Coefs = Pick<CourseItem, 'weight' | 'weightOverride' | 'extraCredit' | 'extraCreditWeight'>;

const EXTRA_FAMILY: ReadonlySet<Aggregation> = new Set([
  'natural',
  'simple_weighted_mean',
  'extra_credit_mean',
]);

/**
 * The coefficient fields a child gets when its parent's method changes, after grade_item::
 * set_aggregation_fields_for_aggregation (Moodle lib/grade/grade_item.php; gradebook-semantics.md §1):
 * same method keeps everything; within {Natural, Simple weighted mean, Mean with extra credits} weights and
 * overrides reset but the extra-credit coefficient stays (capped at 1 unless the target is Mean with extra credits);
 * any other change resets to the new method's defaults. Returns only the fields that change.
 */
export function coefficientsAfterChange(from: Aggregation, to: Aggregation, c: Coefs): Partial<Coefs> {
  if (from === to) return {};
  const cur = {
    weight: c.weight ?? null,
    weightOverride: c.weightOverride === true,
    extraCredit: c.extraCredit === true,
    extraCreditWeight: c.extraCreditWeight ?? 0,
  };
  let next: typeof cur;
  if (EXTRA_FAMILY.has(from) && EXTRA_FAMILY.has(to)) {
    const extra = from === 'extra_credit_mean' ? cur.extraCreditWeight : cur.extraCredit ? 1 : 0;
    next = {
      weight: null,
      weightOverride: false,
      extraCredit: to !== 'extra_credit_mean' && extra > 0,
      extraCreditWeight: to === 'extra_credit_mean' ? extra : 0,
    };
  } else {
    next = { weight: null, weightOverride: false, extraCredit: false, extraCreditWeight: 0 };
  }
  const out: Partial<Coefs> = {};
  if (next.weight !== cur.weight) out.weight = next.weight;
  if (next.weightOverride !== cur.weightOverride) out.weightOverride = next.weightOverride;
  if (next.extraCredit !== cur.extraCredit) out.extraCredit = next.extraCredit;
  if (next.extraCreditWeight !== cur.extraCreditWeight) out.extraCreditWeight = next.extraCreditWeight;
  return out;
}

/**
 * One command that saves a category's settings; when its aggregation changes, its children's coefficients are
 * reset in the same bulk (one undo step) as Moodle does.
 */
export function saveCategoryCommand(
  json: CourseJson,
  patch: Partial<CourseCategory> & { id: string },
): Command {
  const cur = json.categories.find((c) => c.id === patch.id);
  const main: Command = { type: 'setCategory', category: patch };
  if (!cur || !patch.aggregation || patch.aggregation === cur.aggregation) return main;
  const to = patch.aggregation;
  const subs: Command[] = [main];
  for (const it of json.items) {
    if (it.category !== cur.id) continue;
    const f = coefficientsAfterChange(cur.aggregation, to, it);
    if (Object.keys(f).length) subs.push({ type: 'setItem', item: { id: it.id, ...f } });
  }
  for (const c of json.categories) {
    if (c.parent !== cur.id) continue;
    const f = coefficientsAfterChange(cur.aggregation, to, c);
    if (Object.keys(f).length) subs.push({ type: 'setCategory', category: { id: c.id, ...f } });
  }
  return subs.length === 1 ? main : { type: 'bulk', commands: subs };
}

/** Where something can be moved: into a category (at its end), or before an item. */
export interface MoveTarget {
  key: string;
  label: string;
  command: Command;
}

/** Every place the item or category `id` can move to, in tree order; the current place is left out. */
export function moveTargets(json: CourseJson, id: string): MoveTarget[] {
  const item = json.items.find((i) => i.id === id);
  const cat = json.categories.find((c) => c.id === id);
  const out: MoveTarget[] = [];
  if (item) {
    for (const c of json.categories) {
      const inCat = json.items.filter((i) => i.category === c.id);
      for (let k = 0; k < inCat.length; k++) {
        const b = inCat[k]!;
        if (b.id === id || inCat[k - 1]?.id === id) continue; // before itself or its next sibling: no change
        out.push({
          key: `before:${b.id}`,
          label: `Before "${b.name}" in ${c.name}`,
          command: { type: 'moveItem', id, category: c.id, before: b.id },
        });
      }
      if (inCat[inCat.length - 1]?.id !== id)
        out.push({
          key: `into:${c.id}`,
          label: `At the end of ${c.name}`,
          command: { type: 'moveItem', id, category: c.id, before: null },
        });
    }
  } else if (cat && cat.parent !== null) {
    const below = new Set<string>([id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const c of json.categories)
        if (c.parent !== null && below.has(c.parent) && !below.has(c.id)) {
          below.add(c.id);
          grew = true;
        }
    }
    const nameOf = new Map(json.categories.map((c) => [c.id, c.name]));
    // the category right after this one among its siblings: moving before it changes nothing
    const siblings = json.categories.filter((c) => c.parent === cat.parent);
    const next = siblings[siblings.findIndex((c) => c.id === id) + 1]?.id;
    for (const c of json.categories) {
      if (below.has(c.id) || c.parent === null || c.id === next) continue;
      out.push({
        key: `before:${c.id}`,
        label: `Before "${c.name}" in ${nameOf.get(c.parent) ?? c.parent}`,
        command: { type: 'moveCategory', id, parent: c.parent, before: c.id },
      });
    }
    for (const c of json.categories) {
      if (below.has(c.id) || c.id === cat.parent) continue;
      out.push({
        key: `into:${c.id}`,
        label: `Into ${c.name}`,
        command: { type: 'setCategory', category: { id, parent: c.id } },
      });
    }
  }
  return out;
}

/** What deleting a node takes with it, for the confirmation. */
export interface DeletePlan {
  command: Command;
  /** Plain sentences for the confirmation dialog. */
  consequences: string[];
  /** Calculations (by item/category name) that read this node and would break. */
  usedBy: string[];
}

function graded(json: CourseJson, id: string): number {
  let n = 0;
  for (const g of json.grades)
    if (
      g.item === id &&
      (typeof g.raw === 'number' || typeof g.final === 'number' || typeof g.overridden === 'number')
    )
      n++;
  return n;
}

/** Names of the calculations that reference one of these idnumbers. */
export function calculationsReading(json: CourseJson, idnumbers: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const n of [...json.items, ...json.categories]) {
    const calc = n.calculation;
    if (typeof calc !== 'string' || calc === '') continue;
    if (referencesOf(calc).some((r) => idnumbers.has(r))) out.push(n.name);
  }
  return out;
}

/**
 * Deleting an item drops its grades. Deleting a category moves its children up to its parent first, as
 * grade_category::delete does (Moodle lib/grade/grade_category.php), all in one bulk.
 */
export function deletePlan(json: CourseJson, id: string): DeletePlan | null {
  const item = json.items.find((i) => i.id === id);
  if (item) {
    const usedBy = item.idnumber ? calculationsReading(json, new Set([item.idnumber])) : [];
    const n = graded(json, id);
    const consequences = [`${n} grade${n === 1 ? '' : 's'} in "${item.name}" will be deleted.`];
    if (usedBy.length)
      consequences.push(
        `These calculations read [[${item.idnumber}]] and will stop working: ${usedBy.join(', ')}.`,
      );
    return { command: { type: 'deleteItem', id }, consequences, usedBy };
  }
  const cat = json.categories.find((c) => c.id === id);
  if (!cat || cat.parent === null) return null;
  const parent = json.categories.find((c) => c.id === cat.parent);
  const childItems = json.items.filter((i) => i.category === id);
  const childCats = json.categories.filter((c) => c.parent === id);
  const commands: Command[] = [
    ...childItems.map((i): Command => ({ type: 'moveItem', id: i.id, category: cat.parent!, before: null })),
    ...childCats.map((c): Command => ({ type: 'setCategory', category: { id: c.id, parent: cat.parent } })),
    { type: 'deleteCategory', id },
  ];
  const consequences: string[] = [];
  const moved = childItems.length + childCats.length;
  if (moved)
    consequences.push(
      `Its ${moved} item${moved === 1 ? '' : 's'} and sub-categor${moved === 1 ? 'y' : 'ies'} move up into "${parent?.name ?? cat.parent}".`,
    );
  const overrides = graded(json, id);
  if (overrides)
    consequences.push(
      `${overrides} overridden total${overrides === 1 ? '' : 's'} of "${cat.name}" will be deleted.`,
    );
  const usedBy = cat.idnumber ? calculationsReading(json, new Set([cat.idnumber])) : [];
  if (usedBy.length)
    consequences.push(
      `These calculations read [[${cat.idnumber}]] and will stop working: ${usedBy.join(', ')}.`,
    );
  if (!consequences.length) consequences.push(`The empty category "${cat.name}" will be deleted.`);
  return { command: commands.length === 1 ? commands[0]! : { type: 'bulk', commands }, consequences, usedBy };
}

/**
 * Columns whose activity is gone: items with no grade at all and nothing reading them. Markbook items carry no
 * activity link, so "no link" holds for every manual item; calculated and outcome items are never offered.
 */
export function cleanupCandidates(json: CourseJson): CourseItem[] {
  const withGrades = new Set<string>();
  for (const g of json.grades)
    if (
      typeof g.raw === 'number' ||
      typeof g.final === 'number' ||
      typeof g.overridden === 'number' ||
      (g.feedback ?? '') !== ''
    )
      withGrades.add(g.item);
  const read = new Set<string>();
  for (const n of [...json.items, ...json.categories])
    if (typeof n.calculation === 'string' && n.calculation !== '')
      for (const r of referencesOf(n.calculation)) read.add(r);
  return json.items.filter(
    (i) =>
      !withGrades.has(i.id) &&
      !i.outcome &&
      !(typeof i.calculation === 'string' && i.calculation !== '') &&
      !(i.idnumber && read.has(i.idnumber)),
  );
}

/** The one undoable command that deletes the chosen clean-up candidates. */
export function cleanupCommand(ids: readonly string[]): Command | null {
  if (!ids.length) return null;
  return { type: 'bulk', commands: ids.map((id): Command => ({ type: 'deleteItem', id })) };
}

/**
 * Maps a command error's problems to form fields: `setItem.item.grademax` -> `grademax`,
 * `bulk[0].category.aggregation` -> `aggregation`. Problems with no field go under `''`.
 */
export function problemsByField(err: CommandError): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of err.problems) {
    const m = /\.(item|category|settings)\.([A-Za-z]+)$/.exec(p.at);
    const field = m ? m[2]! : '';
    if (!out.has(field)) out.set(field, p.message);
  }
  if (!out.size) out.set('', err.message);
  return out;
}

/** A fresh id for a new item or category, unique in this course (the caller supplies the random part). */
export function freshId(json: CourseJson, prefix: 'i' | 'c', random: () => string): string {
  const taken = new Set<string>([
    ...json.items.map((i) => i.id),
    ...json.categories.map((c) => c.id),
    'course',
  ]);
  for (;;) {
    const id = `${prefix}-${random()}`;
    if (!taken.has(id)) return id;
  }
}

/** True when no other item or category uses this idnumber (grade_verify_idnumber, Moodle lib/gradelib.php). */
export function idnumberFree(json: CourseJson, idnumber: string, exceptId: string | null): boolean {
  if (idnumber === '') return true;
  return ![...json.items, ...json.categories].some(
    (n) => n.id !== exceptId && (n.idnumber ?? '') === idnumber,
  );
}

/**
 * When an idnumber changes, the calculations that read it are rewritten to the new one in the same bulk, so they
 * keep working. Moodle stores references as ##gi<id>## and renames survive (lib/grade/grade_item.php
 * set_calculation / get_calculation); Markbook stores idnumbers, so it rewrites them ([FRM] rewriteReferences).
 * `ownerId` is the renamed node: its own calculation (if any) is saved by the form itself.
 */
export function renameReferenceCommands(
  json: CourseJson,
  ownerId: string,
  from: string,
  to: string,
): Command[] {
  if (from === '' || from === to || to === '') return [];
  const out: Command[] = [];
  const rename = (id: string): string | undefined => (id === from ? to : undefined);
  for (const it of json.items) {
    if (it.id === ownerId || !it.calculation || !referencesOf(it.calculation).includes(from)) continue;
    out.push({
      type: 'setItem',
      item: { id: it.id, calculation: rewriteReferences(it.calculation, rename) },
    });
  }
  for (const c of json.categories) {
    if (c.id === ownerId || !c.calculation || !referencesOf(c.calculation).includes(from)) continue;
    out.push({
      type: 'setCategory',
      category: { id: c.id, calculation: rewriteReferences(c.calculation, rename) },
    });
  }
  return out;
}

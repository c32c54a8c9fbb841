// Importing a CourseJson into a course document that already holds one: the difference as ONE bulk command.
// Never writes by itself (the caller applies the command, so it is validated, logged and undoable as one step).
import type * as Y from 'yjs';
import type { CourseCategory, CourseJson } from '../domain/interchange/course-types.ts';
import { ValidationError } from '../domain/shared/errors.ts';
import type { Command } from './commands.ts';
import {
  courseProblems,
  docToCourseJson,
  gradeToRecord,
  readCell,
  readSetup,
  requireEpoch,
} from './course-doc.ts';
import { canonical } from './grade-register.ts';

export interface ImportOptions {
  /** Also delete items, categories and settings the input lacks (a restore); default false (a merge). */
  replace?: boolean;
}

function parentsFirst(cats: readonly CourseCategory[]): CourseCategory[] {
  const byId = new Map(cats.map((c) => [c.id, c]));
  const out: CourseCategory[] = [];
  const done = new Set<string>();
  const visit = (c: CourseCategory, depth: number) => {
    if (done.has(c.id) || depth > cats.length) return;
    const p = c.parent === null ? undefined : byId.get(c.parent);
    if (p) visit(p, depth + 1);
    done.add(c.id);
    out.push(c);
  };
  cats.forEach((c) => visit(c, 0));
  return out;
}

/**
 * The bulk command that makes the document hold `json`: setup rows that differ are set, grades whose fields
 * differ are written field by field (unlock first, lock last, so a grade locked in the input ends locked). Throws a
 * ValidationError naming the JSON path when the course is malformed. Applying it may still be refused by the
 * command rules (a locked grade, a cell in conflict), naming the step at fault.
 */
export function importCommand(doc: Y.Doc, json: CourseJson, opts: ImportOptions = {}): Command {
  const problems = courseProblems(json);
  if (problems.length) throw new ValidationError(problems);
  const e = requireEpoch(doc);
  const cur = readSetup(e);
  const cmds: Command[] = [];
  const curCats = new Map(cur.categories.map((c) => [c.id, c]));
  for (const c of parentsFirst(json.categories)) {
    const have = curCats.get(c.id);
    if (!have || canonical(have) !== canonical(c)) cmds.push({ type: 'setCategory', category: c });
  }
  const curItems = new Map(cur.items.map((i) => [i.id, i]));
  for (const it of json.items) {
    const have = curItems.get(it.id);
    if (!have || canonical(have) !== canonical(it)) cmds.push({ type: 'setItem', item: it });
  }
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json.settings))
    if (canonical((cur.settings as Record<string, unknown>)[k]) !== canonical(v)) settings[k] = v;
  if (opts.replace) for (const k of Object.keys(cur.settings)) if (!(k in json.settings)) settings[k] = null;
  if (Object.keys(settings).length) cmds.push({ type: 'setSettings', settings });
  const curUsers = new Map(cur.users.map((u) => [u.id, u]));
  for (const u of json.users ?? [])
    if (canonical(curUsers.get(u.id)) !== canonical(u)) cmds.push({ type: 'setUser', user: u });

  for (const g of json.grades) {
    const want = gradeToRecord(g);
    const have = readCell(doc, g.item, g.user).record;
    const same = (f: keyof typeof want) => canonical(have[f] ?? null) === canonical(want[f] ?? null);
    const cell = { item: g.item, user: g.user };
    const wantLocked = want.locked ?? false;
    const haveLocked = have.locked ?? false;
    if (haveLocked && !wantLocked) cmds.push({ type: 'unlockGrade', ...cell });
    if (!same('grade')) {
      const v = want.grade ?? null;
      cmds.push({
        type: 'setGrade',
        ...cell,
        raw: v?.raw ?? null,
        ...(v?.final !== undefined ? { final: v.final } : {}),
        ...(v?.rawgrademin !== undefined ? { rawgrademin: v.rawgrademin } : {}),
        ...(v?.rawgrademax !== undefined ? { rawgrademax: v.rawgrademax } : {}),
      });
    }
    if (!same('overridden')) cmds.push({ type: 'overrideGrade', ...cell, value: want.overridden ?? null });
    if (!same('feedback')) cmds.push({ type: 'setFeedback', ...cell, feedback: want.feedback ?? null });
    if (!same('excluded')) cmds.push({ type: 'excludeGrade', ...cell, excluded: want.excluded ?? false });
    if (!same('hidden')) cmds.push({ type: 'hideGrade', ...cell, hidden: want.hidden ?? false });
    if (wantLocked && canonical(wantLocked) !== canonical(haveLocked))
      cmds.push({ type: 'lockGrade', ...cell, locked: wantLocked });
  }
  if (opts.replace) {
    // Grades the input lacks are cleared (unless their item goes away anyway).
    const given = new Set(json.grades.map((g) => `${g.item}\u0000${g.user}`));
    const targets = new Set([...json.items.map((i) => i.id), ...json.categories.map((c) => c.id), 'course']);
    for (const g of docToCourseJson(doc).grades) {
      if (given.has(`${g.item}\u0000${g.user}`) || !targets.has(g.item)) continue;
      const cell = { item: g.item, user: g.user };
      if (g.locked) cmds.push({ type: 'unlockGrade', ...cell });
      if (g.raw !== undefined || g.final !== undefined) cmds.push({ type: 'setGrade', ...cell, raw: null });
      if (g.overridden !== undefined) cmds.push({ type: 'overrideGrade', ...cell, value: null });
      if (g.feedback !== undefined) cmds.push({ type: 'setFeedback', ...cell, feedback: null });
      if (g.excluded) cmds.push({ type: 'excludeGrade', ...cell, excluded: false });
      if (g.hidden) cmds.push({ type: 'hideGrade', ...cell, hidden: false });
    }
    const keepItems = new Set(json.items.map((i) => i.id));
    for (const it of cur.items) if (!keepItems.has(it.id)) cmds.push({ type: 'deleteItem', id: it.id });
    const keepCats = new Set(json.categories.map((c) => c.id));
    // Children before parents, so each is empty when deleted.
    for (const c of parentsFirst(cur.categories).reverse())
      if (!keepCats.has(c.id)) cmds.push({ type: 'deleteCategory', id: c.id });
  }
  return { type: 'bulk', commands: cmds };
}

// Setup page logic against real course documents: the commands it builds are applied with the real CRDT
// command layer and the engine regrades the result; nothing here is mocked.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand, type Command } from '../crdt/commands';
import { courseJsonToDoc, docToCourseJson, type Actor } from '../crdt/course-doc';
import { compileGradebookFormula } from '../domain/formula/index';
import { GradeEngine } from '../domain/gradebook/engine';
import type { CourseJson } from '../domain/interchange/course-types';
import { fixedClock } from '../domain/shared/clock';
import {
  applyCompletion,
  checkCalculation,
  completionContext,
  completionOptions,
  dependencyView,
  knownIdnumbers,
} from './setup-calc';
import {
  cleanupCandidates,
  cleanupCommand,
  coefficientsAfterChange,
  deletePlan,
  idnumberFree,
  moveTargets,
  problemsByField,
  renameReferenceCommands,
  saveCategoryCommand,
} from './setup-commands';
import {
  CATEGORY_DEFAULTS,
  ITEM_DEFAULTS,
  categoryRescaleCommands,
  changedFields,
  flagToForm,
  formToFlag,
  gradeTypeLock,
  hasGrades,
  hasOverriddenTotals,
  overriddenTotalCount,
  parseNumber,
  rescaleCommands,
  scaleLabelsProblem,
} from './setup-form';
import {
  buildSetupTree,
  countedInTotal,
  flagTags,
  limitRulesApply,
  subtreeIds,
  visibleRows,
  weightMode,
} from './setup-tree';

const actor: Actor = { userId: 't1', deviceId: 'd1' };

function course(): CourseJson {
  return {
    categories: [
      { id: 'c-root', parent: null, name: 'Course', aggregation: 'natural' },
      {
        id: 'c-hw',
        parent: 'c-root',
        name: 'Homework',
        aggregation: 'weighted_mean',
        grademin: 0,
        grademax: 100,
      },
      { id: 'c-sub', parent: 'c-hw', name: 'Bonus', aggregation: 'mean', weight: 2 },
    ],
    items: [
      { id: 'i-a', idnumber: 'a', category: 'c-root', name: 'Essay', grademin: 0, grademax: 60 },
      {
        id: 'i-b',
        idnumber: 'b',
        category: 'c-root',
        name: 'Exam',
        grademin: 0,
        grademax: 40,
        extraCredit: false,
      },
      { id: 'i-h1', idnumber: 'h1', category: 'c-hw', name: 'HW 1', grademin: 0, grademax: 10, weight: 3 },
      { id: 'i-h2', idnumber: 'h2', category: 'c-hw', name: 'HW 2', grademin: 0, grademax: 10, weight: 1 },
      {
        id: 'i-calc',
        idnumber: 'calc',
        category: 'c-root',
        name: 'Best',
        grademin: 0,
        grademax: 100,
        calculation: '=max([[a]], [[b]])',
        weightOverride: true,
        weight: 0,
      },
      { id: 'i-empty', idnumber: 'old', category: 'c-sub', name: 'Old quiz', grademin: 0, grademax: 10 },
      { id: 'i-empty2', idnumber: '', category: 'c-root', name: 'Unused', grademin: 0, grademax: 5 },
    ],
    grades: [
      { user: 'u1', item: 'i-a', raw: 30 },
      { user: 'u1', item: 'i-b', raw: 40 },
      { user: 'u1', item: 'i-h1', raw: 10 },
      { user: 'u1', item: 'i-h2', raw: 0 },
      { user: 'u2', item: 'i-a', raw: 60 },
    ],
    settings: {},
  };
}

function open(json = course()): Y.Doc {
  const doc = new Y.Doc();
  courseJsonToDoc(json, doc, actor);
  return doc;
}

function run(doc: Y.Doc, cmd: Command) {
  return applyCommand(doc, cmd, { actor, clock: fixedClock(1000), src: 'setup' });
}

function engineOf(json: CourseJson): GradeEngine {
  return new GradeEngine(json, { now: 1000, compileFormula: compileGradebookFormula });
}

function total(json: CourseJson, user: string): number {
  const e = engineOf(json);
  return e.derived.final[e.course.root]![e.userIndex.get(user)!]!;
}

describe('setup tree', () => {
  it('[SET-1] rows come in tree order: each category, its items, then its sub-categories, with levels', () => {
    const rows = buildSetupTree(course());
    expect(rows.map((r) => `${r.level}:${r.id}`)).toEqual([
      '1:c-root',
      '2:i-a',
      '2:i-b',
      '2:i-calc',
      '2:i-empty2',
      '2:c-hw',
      '3:i-h1',
      '3:i-h2',
      '3:c-sub',
      '4:i-empty',
    ]);
    expect(rows.find((r) => r.id === 'i-calc')!.type).toBe('calculated');
    expect(rows.find((r) => r.id === 'c-hw')!.children).toEqual(['i-h1', 'i-h2', 'c-sub']);
  });

  it('[SET-1] a collapsed category hides everything below it, not its siblings', () => {
    const rows = buildSetupTree(course());
    const shown = visibleRows(rows, new Set(['c-hw'])).map((r) => r.id);
    expect(shown).toContain('c-hw');
    expect(shown).not.toContain('i-h1');
    expect(shown).not.toContain('i-empty');
    expect(visibleRows(rows, new Set(['c-sub'])).map((r) => r.id)).toContain('i-h2');
    expect([...subtreeIds(rows, 'c-hw')].sort()).toEqual(['c-hw', 'c-sub', 'i-empty', 'i-h1', 'i-h2']);
  });

  it("[SET-2] effective Natural weights are the engine's and renormalise when one is overridden", () => {
    const json = course();
    const rows = buildSetupTree(json, engineOf(json));
    const w = (rs: typeof rows, id: string) => rs.find((r) => r.id === id)!.effectiveWeightPct;
    // Natural parent: essay 60, exam 40, unused 5, homework 100 points -> shares of 205
    expect(w(rows, 'i-a')! + w(rows, 'i-b')! + w(rows, 'i-empty2')! + w(rows, 'c-hw')!).toBeCloseTo(100, 2);
    expect(w(rows, 'i-a')! / w(rows, 'i-b')!).toBeCloseTo(60 / 40, 3);
    expect(w(rows, 'i-h1')).toBeNull(); // weighted mean parent: no Natural weight
    // override the essay to 50%: the others share the remaining 50% in proportion to their maxima
    const doc = open(json);
    expect(run(doc, { type: 'setItem', item: { id: 'i-a', weight: 0.5, weightOverride: true } }).ok).toBe(
      true,
    );
    const after = docToCourseJson(doc);
    const rows2 = buildSetupTree(after, engineOf(after));
    expect(w(rows2, 'i-a')).toBeCloseTo(50, 3);
    expect(w(rows2, 'i-b')! / w(rows2, 'c-hw')!).toBeCloseTo(40 / 100, 3);
    expect(w(rows2, 'i-b')! + w(rows2, 'c-hw')! + w(rows2, 'i-empty2')!).toBeCloseTo(50, 2);
  });

  it('[SET-1] flag tags: extra credit as the parent reads it, hidden/locked with their times', () => {
    const json = course();
    json.items[1]!.extraCredit = true; // under Natural: a flag
    json.items[2]!.extraCredit = true; // under Weighted mean: not used, so not shown
    json.items[0]!.hidden = 2000;
    json.items[0]!.locked = true;
    const rows = buildSetupTree(json);
    const tags = (id: string) =>
      flagTags(
        rows.find((r) => r.id === id)!,
        (t) => `t${t}`,
      );
    expect(tags('i-a')).toEqual(['Hidden until t2000', 'Locked']);
    expect(tags('i-b')).toEqual(['Extra credit']);
    expect(tags('i-h1')).toEqual([]);
  });

  it('[SET-2] an outcome its category does not aggregate, or a scale left out of totals, has no weight', () => {
    const json = course();
    json.items.push(
      {
        id: 'i-out',
        idnumber: 'out',
        category: 'c-root',
        name: 'Outcome',
        gradetype: 'scale',
        scale: ['No', 'Yes'],
        grademin: 1,
        grademax: 2,
        outcome: true,
      },
      {
        id: 'i-sc',
        idnumber: 'sc',
        category: 'c-root',
        name: 'Effort',
        gradetype: 'scale',
        scale: ['Low', 'High'],
        grademin: 1,
        grademax: 2,
      },
    );
    const rows = buildSetupTree(json, engineOf(json));
    const row = (id: string) => rows.find((r) => r.id === id)!;
    expect(row('i-out').counted).toBe(false);
    expect(row('i-out').effectiveWeightPct).toBeNull(); // the engine leaves it out as well
    expect(flagTags(row('i-out'), String)).toContain('Not in total');
    expect(row('i-sc').counted).toBe(true);
    expect(row('i-sc').effectiveWeightPct).toBeGreaterThan(0);
    json.settings.includeScalesInAggregation = false;
    const noScales = buildSetupTree(json, engineOf(json));
    expect(noScales.find((r) => r.id === 'i-sc')!.counted).toBe(false);
    expect(noScales.find((r) => r.id === 'i-sc')!.effectiveWeightPct).toBeNull();
    json.categories[0]!.aggregateOutcomes = true;
    expect(
      countedInTotal(
        json,
        json.items.find((i) => i.id === 'i-out')!,
      ),
    ).toBe(false); // still a scale
    json.settings.includeScalesInAggregation = true;
    expect(
      countedInTotal(
        json,
        json.items.find((i) => i.id === 'i-out')!,
      ),
    ).toBe(true);
  });

  it('[SET-2] which weight fields each parent method shows', () => {
    expect(weightMode('natural')).toEqual({ weight: 'natural', extra: 'flag' });
    expect(weightMode('weighted_mean')).toEqual({ weight: 'weighted', extra: null });
    expect(weightMode('simple_weighted_mean')).toEqual({ weight: null, extra: 'flag' });
    expect(weightMode('extra_credit_mean')).toEqual({ weight: null, extra: 'weight' });
    expect(weightMode('median')).toEqual({ weight: null, extra: null });
    expect(weightMode(null)).toEqual({ weight: null, extra: null });
  });
});

describe('drop lowest / keep highest', () => {
  const equal = (): CourseJson => ({
    categories: [{ id: 'c', parent: null, name: 'Course', aggregation: 'natural' }],
    items: ['x', 'y', 'z'].map((k) => ({
      id: `i-${k}`,
      idnumber: k,
      category: 'c',
      name: k,
      grademin: 0,
      grademax: 10,
    })),
    grades: [
      { user: 'u1', item: 'i-x', raw: 2 },
      { user: 'u1', item: 'i-y', raw: 8 },
      { user: 'u1', item: 'i-z', raw: 9 },
    ],
    settings: {},
  });
  const rowsOf = (json: CourseJson) => buildSetupTree(json, engineOf(json));

  it('[SET-12] Natural applies them only to equal children, and the form offers them only then', () => {
    const json = equal();
    expect(limitRulesApply(rowsOf(json), 'c')).toBe(true);
    json.categories[0]!.dropLowest = 1;
    expect(total(json, 'u1')).toBe(17); // 2 dropped: 8 + 9
    // a different maximum: Moodle ignores the rule, so the form must not offer it
    const unequal = equal();
    unequal.items[2]!.grademax = 20;
    expect(limitRulesApply(rowsOf(unequal), 'c')).toBe(false);
    unequal.categories[0]!.dropLowest = 1;
    expect(total(unequal, 'u1')).toBe(19); // nothing dropped
    const extra = equal();
    extra.items[0]!.extraCredit = true;
    expect(limitRulesApply(rowsOf(extra), 'c')).toBe(false);
    const weighted = equal();
    Object.assign(weighted.items[0]!, { weight: 0.5, weightOverride: true });
    expect(limitRulesApply(rowsOf(weighted), 'c')).toBe(false);
    // a sub-category, or another method: sub-categories are fine outside Natural
    expect(limitRulesApply(rowsOf(course()), 'c-root')).toBe(false);
    expect(limitRulesApply(rowsOf(course()), 'c-hw')).toBe(true);
  });
});

describe('aggregation changes', () => {
  it("[SET-3] leaving Weighted mean resets the children's weights, in one undoable command, and the total changes", () => {
    const json = course();
    const doc = open(json);
    const before = total(docToCourseJson(doc), 'u1');
    const cmd = saveCategoryCommand(json, { id: 'c-hw', aggregation: 'mean' });
    const r = run(doc, cmd);
    expect(r.ok).toBe(true);
    const after = docToCourseJson(doc);
    expect(after.categories.find((c) => c.id === 'c-hw')!.aggregation).toBe('mean');
    expect(after.items.find((i) => i.id === 'i-h1')!.weight).toBeUndefined();
    expect(after.categories.find((c) => c.id === 'c-sub')!.weight).toBeUndefined();
    expect(total(after, 'u1')).not.toBe(before);
    // one undo step brings both the method and the weights back
    if (!r.ok || !r.inverse) throw new Error('expected an inverse');
    expect(run(doc, r.inverse).ok).toBe(true);
    const undone = docToCourseJson(doc);
    expect(undone.items.find((i) => i.id === 'i-h1')!.weight).toBe(3);
    expect(undone.categories.find((c) => c.id === 'c-hw')!.aggregation).toBe('weighted_mean');
    expect(total(undone, 'u1')).toBe(before);
  });

  it('[SET-3] within the extra-credit family the extra-credit coefficient survives (capped at 1 outside ECM)', () => {
    expect(coefficientsAfterChange('natural', 'natural', { weight: 0.3, weightOverride: true })).toEqual({});
    expect(
      coefficientsAfterChange('natural', 'simple_weighted_mean', {
        weight: 0.3,
        weightOverride: true,
        extraCredit: true,
      }),
    ).toEqual({
      weight: null,
      weightOverride: false,
    });
    expect(coefficientsAfterChange('natural', 'extra_credit_mean', { extraCredit: true })).toEqual({
      extraCredit: false,
      extraCreditWeight: 1,
    });
    expect(coefficientsAfterChange('extra_credit_mean', 'natural', { extraCreditWeight: 2.5 })).toEqual({
      extraCredit: true,
      extraCreditWeight: 0,
    });
    expect(
      coefficientsAfterChange('natural', 'mean', { extraCredit: true, weight: 0.2, weightOverride: true }),
    ).toEqual({
      weight: null,
      weightOverride: false,
      extraCredit: false,
    });
    expect(coefficientsAfterChange('mean', 'weighted_mean', {})).toEqual({});
  });
});

describe('moves', () => {
  it('[SET-4] an item can move before any other item or to the end of any category; the result is where it said', () => {
    const json = course();
    const targets = moveTargets(json, 'i-b');
    expect(targets.some((t) => t.key === 'before:i-b')).toBe(false);
    expect(targets.some((t) => t.key === 'before:i-calc')).toBe(false); // already right before it
    const t = targets.find((x) => x.key === 'before:i-h2')!;
    const doc = open(json);
    expect(run(doc, t.command).ok).toBe(true);
    const rows = buildSetupTree(docToCourseJson(doc));
    expect(rows.find((r) => r.id === 'c-hw')!.children).toEqual(['i-h1', 'i-b', 'i-h2', 'c-sub']);
    const first = moveTargets(docToCourseJson(doc), 'i-h2').find((x) => x.key === 'before:i-a')!;
    expect(run(doc, first.command).ok).toBe(true);
    expect(
      buildSetupTree(docToCourseJson(doc))
        .find((r) => r.id === 'c-root')!
        .children.slice(0, 2),
    ).toEqual(['i-h2', 'i-a']);
  });

  it('[SET-4] a category never moves into itself or below itself, and moves into another category', () => {
    const json = course();
    const keys = moveTargets(json, 'c-hw').map((t) => t.key);
    expect(keys).not.toContain('into:c-hw');
    expect(keys).not.toContain('into:c-sub');
    expect(keys).not.toContain('into:c-root'); // already there
    const sub = moveTargets(json, 'c-sub').find((t) => t.key === 'into:c-root')!;
    const doc = open(json);
    expect(run(doc, sub.command).ok).toBe(true);
    const rows = buildSetupTree(docToCourseJson(doc));
    expect(rows.find((r) => r.id === 'c-sub')!.level).toBe(2);
    expect(moveTargets(json, 'c-root')).toEqual([]);
  });

  it('[SET-4] a category moves before a sibling category (order among categories), also in another parent', () => {
    const doc = open(course());
    // c-sub up into the course category, at the end: after c-hw
    expect(
      run(doc, moveTargets(docToCourseJson(doc), 'c-sub').find((t) => t.key === 'into:c-root')!.command).ok,
    ).toBe(true);
    const kids = () =>
      buildSetupTree(docToCourseJson(doc))
        .find((r) => r.id === 'c-root')!
        .children.filter((c) => c.startsWith('c-'));
    expect(kids()).toEqual(['c-hw', 'c-sub']);
    const targets = moveTargets(docToCourseJson(doc), 'c-sub');
    expect(targets.some((t) => t.key === 'before:c-sub')).toBe(false);
    const before = targets.find((t) => t.key === 'before:c-hw')!;
    expect(before.label).toMatch(/^Before ".+" in /);
    expect(run(doc, before.command).ok).toBe(true);
    expect(kids()).toEqual(['c-sub', 'c-hw']);
    // right before its next sibling already: no such target
    expect(moveTargets(docToCourseJson(doc), 'c-sub').some((t) => t.key === 'before:c-hw')).toBe(false);
  });
});

describe('delete and clean-up', () => {
  it('[SET-5] deleting an item names its grades and the calculations that read it', () => {
    const plan = deletePlan(course(), 'i-a')!;
    expect(plan.usedBy).toEqual(['Best']);
    expect(plan.consequences.join(' ')).toMatch(/2 grades/);
    expect(plan.consequences.join(' ')).toMatch(/\[\[a\]\]/);
  });

  it('[SET-5] deleting a category moves its children up to its parent in one bulk', () => {
    const json = course();
    const plan = deletePlan(json, 'c-hw')!;
    expect(plan.consequences.join(' ')).toMatch(/move up into "Course"/);
    const doc = open(json);
    const r = run(doc, plan.command);
    expect(r.ok).toBe(true);
    const after = docToCourseJson(doc);
    expect(after.categories.map((c) => c.id).sort()).toEqual(['c-root', 'c-sub']);
    expect(after.items.find((i) => i.id === 'i-h1')!.category).toBe('c-root');
    expect(after.categories.find((c) => c.id === 'c-sub')!.parent).toBe('c-root');
    expect(after.grades.filter((g) => g.item === 'i-h1')).toHaveLength(1);
    expect(deletePlan(json, 'c-root')).toBeNull();
  });

  it('[SET-8] clean-up offers only ungraded, unreferenced, manual items and deletes them in one undoable step', () => {
    const json = course();
    const ids = cleanupCandidates(json).map((i) => i.id);
    expect(ids.sort()).toEqual(['i-empty', 'i-empty2']);
    const doc = open(json);
    const r = run(doc, cleanupCommand(ids)!);
    expect(r.ok).toBe(true);
    expect(docToCourseJson(doc).items.map((i) => i.id)).not.toContain('i-empty');
    if (!r.ok || !r.inverse) throw new Error('expected an inverse');
    run(doc, r.inverse);
    expect(docToCourseJson(doc).items.map((i) => i.id)).toEqual(
      expect.arrayContaining(['i-empty', 'i-empty2']),
    );
    expect(cleanupCommand([])).toBeNull();
  });
});

describe('calculations', () => {
  it('[SET-6] a typo in a reference is reported at its position, with a suggestion', () => {
    const json = course();
    const text = '=[[a]] + [[hw1]]';
    const r = checkCalculation(json, 'i-calc', text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.position).toBe(text.indexOf('[[hw1]]'));
    expect(r.message).toMatch(/hw1/);
  });

  it('[SET-6] syntax errors, self references and cycles are refused; a good formula lists its references', () => {
    const json = course();
    const bad = checkCalculation(json, 'i-calc', '=[[a]] +* 2');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.position).not.toBeNull();
    expect(checkCalculation(json, 'i-calc', '=[[calc]] * 2').ok).toBe(false);
    // i-a reading calc, which reads a: a circle
    const cyc = checkCalculation(json, 'i-a', '=[[calc]] / 2');
    expect(cyc.ok).toBe(false);
    if (!cyc.ok) expect(cyc.message).toMatch(/circle/);
    expect(checkCalculation(json, 'i-calc', '=sum([[a]], [[h1]])')).toEqual({
      ok: true,
      references: ['a', 'h1'],
    });
    expect(checkCalculation(json, 'i-calc', '')).toEqual({ ok: true, references: [] });
  });

  it('[SET-6] completion opens after [[, filters by what was typed and inserts the closed reference', () => {
    const known = knownIdnumbers(course());
    const text = '=[[a]] + [[h';
    const ctx = completionContext(text, text.length)!;
    expect(ctx).toEqual({ start: 9, query: 'h' });
    expect(completionOptions(known, ctx.query)).toEqual(['h1', 'h2']);
    const done = applyCompletion(text, ctx, text.length, 'h2');
    expect(done.text).toBe('=[[a]] + [[h2]]');
    expect(done.caret).toBe(done.text.length);
    expect(completionContext(done.text, done.caret)).toBeNull();
    // replacing inside an existing reference swallows its tail
    const mid = '=[[hx]] + 1';
    const c2 = completionContext(mid, 4)!;
    expect(applyCompletion(mid, c2, 4, 'h1').text).toBe('=[[h1]] + 1');
    expect(completionContext('[[a b', 5)).toBeNull();
    expect(completionContext('x', 1)).toBeNull();
  });

  it('[SET-7] renaming an idnumber rewrites the calculations that read it, in one bulk, and totals stay the same', () => {
    const json = course();
    const doc = open(json);
    const before = engineOf(docToCourseJson(doc));
    const q = before.course.byId.get('i-calc')!;
    const u = before.userIndex.get('u1')!;
    const cmd: Command = {
      type: 'bulk',
      commands: [
        { type: 'setItem', item: { id: 'i-a', idnumber: 'essay' } },
        ...renameReferenceCommands(json, 'i-a', 'a', 'essay'),
      ],
    };
    expect(run(doc, cmd).ok).toBe(true);
    const after = docToCourseJson(doc);
    expect(after.items.find((i) => i.id === 'i-calc')!.calculation).toBe('=max([[essay]], [[b]])');
    expect(
      checkCalculation(after, 'i-calc', after.items.find((i) => i.id === 'i-calc')!.calculation!).ok,
    ).toBe(true);
    expect(engineOf(after).derived.final[q]![u]).toBe(before.derived.final[q]![u]);
    expect(renameReferenceCommands(json, 'i-a', 'a', 'a')).toEqual([]);
    expect(renameReferenceCommands(json, 'i-b', 'zz', 'yy')).toEqual([]);
  });

  it('[SET-6] depends on / used by', () => {
    const json = course();
    const v = dependencyView(json, 'i-calc', '=max([[a]], [[zz]])');
    expect(v.dependsOn).toEqual([
      { idnumber: 'a', name: 'Essay' },
      { idnumber: 'zz', name: null },
    ]);
    expect(dependencyView(json, 'i-a', '').usedBy).toEqual([{ id: 'i-calc', name: 'Best' }]);
  });
});

describe('forms', () => {
  it('[SET-7] idnumber uniqueness covers items and categories and ignores the node itself', () => {
    const json = course();
    json.categories[1]!.idnumber = 'hwcat';
    expect(idnumberFree(json, 'a', 'i-a')).toBe(true);
    expect(idnumberFree(json, 'a', 'i-b')).toBe(false);
    expect(idnumberFree(json, 'hwcat', 'i-b')).toBe(false);
    expect(idnumberFree(json, '', 'i-b')).toBe(true);
  });

  it('[SET-7] command errors map to the form field at fault', () => {
    const doc = open();
    const r = run(doc, { type: 'setItem', item: { id: 'i-a', grademin: 10, grademax: 5 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(problemsByField(r.error).get('grademax')).toMatch(/greater/);
    const r2 = run(doc, saveCategoryCommand(course(), { id: 'c-hw', aggregation: 'bogus' as never }));
    if (r2.ok) throw new Error('expected a refusal');
    expect([...problemsByField(r2.error).keys()]).toContain('aggregation');
  });
});

describe('form values', () => {
  it("[SET-7] rescaling keeps each grade's percentage, in the same undoable bulk as the range change", () => {
    const json = course();
    const doc = open(json);
    const cmd: Command = {
      type: 'bulk',
      commands: [
        { type: 'setItem', item: { id: 'i-a', grademax: 120 } },
        ...rescaleCommands(json, 'i-a', 0, 60, 0, 120),
      ],
    };
    const r = run(doc, cmd);
    expect(r.ok).toBe(true);
    const after = docToCourseJson(doc);
    const e = engineOf(after);
    const q = e.course.byId.get('i-a')!;
    expect(e.derived.final[q]![e.userIndex.get('u1')!]).toBe(60); // 30 of 60 -> 60 of 120: still 50%
    expect(e.derived.final[q]![e.userIndex.get('u2')!]).toBe(120);
    if (!r.ok || !r.inverse) throw new Error('expected an inverse');
    run(doc, r.inverse);
    const undone = engineOf(docToCourseJson(doc));
    expect(undone.derived.final[q]![undone.userIndex.get('u1')!]).toBe(30);
    // without rescaling the points stay put (and become a smaller share)
    const doc2 = open(json);
    run(doc2, { type: 'setItem', item: { id: 'i-a', grademax: 120 } });
    const kept = engineOf(docToCourseJson(doc2));
    expect(kept.derived.final[q]![kept.userIndex.get('u1')!]).toBe(30);
    expect(rescaleCommands(json, 'i-a', 0, 60, 0, 60)).toEqual([]);
    expect(() => rescaleCommands(json, 'i-a', 0, 60, 0, 0.5)).toThrow(RangeError);
  });

  it("[SET-7] a category total's range change with rescale keeps each overridden total's percentage", () => {
    const json = course();
    json.grades.push(
      { user: 'u1', item: 'c-hw', overridden: 80 },
      { user: 'u2', item: 'c-hw', overridden: 30, locked: true },
    );
    expect(hasOverriddenTotals(json, 'c-hw')).toBe(true);
    expect(hasOverriddenTotals(json, 'c-sub')).toBe(false);
    expect(overriddenTotalCount(json, 'c-hw')).toBe(2);
    const plan = categoryRescaleCommands(json, 'c-hw', 0, 100, 0, 50, 1000);
    expect(plan.lockedKept).toBe(1); // a locked grade is not rewritten (update_final_grade)
    const doc = open(json);
    const r = run(doc, {
      type: 'bulk',
      commands: [{ type: 'setCategory', category: { id: 'c-hw', grademax: 50 } }, ...plan.commands],
    });
    expect(r.ok).toBe(true);
    const e = engineOf(docToCourseJson(doc));
    const q = e.course.byId.get('c-hw')!;
    expect(e.derived.final[q]![e.userIndex.get('u1')!]).toBe(40); // 80 of 100 -> 40 of 50: still 80 %
    expect(e.derived.final[q]![e.userIndex.get('u2')!]).toBe(30); // locked: its points stay
    if (!r.ok || !r.inverse) throw new Error('expected an inverse');
    run(doc, r.inverse); // one undo step puts the range and the override back
    const undone = engineOf(docToCourseJson(doc));
    expect(undone.derived.final[q]![undone.userIndex.get('u1')!]).toBe(80);
    // nothing to do for an unchanged range; a range Moodle cannot rescale into is refused
    expect(categoryRescaleCommands(json, 'c-hw', 0, 100, 0, 100, 1000).commands).toEqual([]);
    expect(() => categoryRescaleCommands(json, 'c-hw', 0, 100, 0, 0.5, 1000)).toThrow(RangeError);
  });

  it('[SET-7] the course total is rescaled like a category total, whether its grades say `course` or its id', () => {
    const json = course();
    json.categories[0]!.aggregation = 'mean';
    json.grades.push({ user: 'u1', item: 'course', overridden: 60 });
    expect(hasOverriddenTotals(json, 'c-root')).toBe(true);
    const plan = categoryRescaleCommands(json, 'c-root', 0, 100, 0, 20, 1000);
    expect(plan.commands).toEqual([{ type: 'overrideGrade', item: 'course', user: 'u1', value: 12 }]);
    const doc = open(json);
    expect(
      run(doc, {
        type: 'bulk',
        commands: [{ type: 'setCategory', category: { id: 'c-root', grademax: 20 } }, ...plan.commands],
      }).ok,
    ).toBe(true);
    expect(total(docToCourseJson(doc), 'u1')).toBe(12);
    // u2's course total is computed, not overridden: it is not written, and follows the new range by itself
    expect(plan.commands.some((c) => 'user' in c && c.user === 'u2')).toBe(false);
    // a locked category keeps every override as it is
    json.categories[0]!.locked = true;
    expect(categoryRescaleCommands(json, 'c-root', 0, 100, 0, 20, 1000)).toEqual({
      commands: [],
      lockedKept: 1,
    });
  });

  it('[SET-7] a graded item keeps its grade type and its number of scale labels; an outcome stays a scale', () => {
    const json = course();
    const essay = json.items.find((i) => i.id === 'i-a')!;
    const unused = json.items.find((i) => i.id === 'i-empty2')!;
    expect(gradeTypeLock(json, essay)).toMatch(/has grades/);
    expect(gradeTypeLock(json, unused)).toBeNull();
    expect(gradeTypeLock(json, null)).toBeNull();
    expect(gradeTypeLock(json, { ...unused, outcome: true })).toMatch(/outcome/);
    const rated = {
      ...essay,
      gradetype: 'scale' as const,
      scale: ['Low', 'Mid', 'High'],
      grademin: 1,
      grademax: 3,
    };
    json.items[0] = rated;
    expect(scaleLabelsProblem(json, rated, ['Weak', 'Fair', 'Strong'])).toBeNull(); // renaming is fine
    expect(scaleLabelsProblem(json, rated, ['Low', 'High'])).toMatch(/keep 3 labels/);
    expect(scaleLabelsProblem(json, { ...unused }, ['A', 'B', 'C', 'D'])).toBeNull();
    expect(scaleLabelsProblem(json, null, ['Only'])).toMatch(/at least two/);
    expect(scaleLabelsProblem(json, null, ['Yes', 'Yes'])).toMatch(/different/);
  });

  it('[SET-7] flags, times and numbers from form fields', () => {
    expect(formToFlag({ mode: 'no', time: '' })).toEqual({ ok: true, value: false });
    expect(formToFlag({ mode: 'yes', time: '' })).toEqual({ ok: true, value: true });
    expect(formToFlag({ mode: 'time', time: '' }).ok).toBe(false);
    const t = formToFlag({ mode: 'time', time: '2026-10-01T09:30' });
    if (!t.ok) throw new Error(t.message);
    expect(flagToForm(t.value)).toEqual({ mode: 'time', time: '2026-10-01T09:30' });
    expect(flagToForm(true).mode).toBe('yes');
    expect(flagToForm(undefined).mode).toBe('no');
    expect(parseNumber('12,5')).toEqual({ ok: true, value: 12.5 });
    expect(parseNumber('', 1)).toEqual({ ok: true, value: 1 });
    expect(parseNumber('abc').ok).toBe(false);
    expect(changedFields({ name: 'A', grademax: 10 }, { name: 'A', grademax: 20 })).toEqual({ grademax: 20 });
    expect(hasGrades(course(), 'i-a')).toBe(true);
    expect(hasGrades(course(), 'i-empty')).toBe(false);
  });

  it('[SET-7] saving an untouched form writes nothing: absent fields count as their defaults', () => {
    const item = course().items[0]!; // no multfactor, hidden, weightOverride... stored
    const asForm = {
      name: item.name,
      idnumber: item.idnumber,
      gradetype: 'value' as const,
      scale: null,
      grademin: 0,
      grademax: 60,
      multfactor: 1,
      plusfactor: 0,
      weight: null,
      weightOverride: false,
      extraCredit: false,
      hidden: false,
      locked: false,
      calculation: null,
    };
    expect(changedFields(item, asForm, ITEM_DEFAULTS)).toEqual({});
    expect(changedFields(item, { ...asForm, hidden: true }, ITEM_DEFAULTS)).toEqual({ hidden: true });
    const cat = course().categories[1]!;
    expect(
      changedFields(
        cat,
        {
          name: cat.name,
          aggregation: cat.aggregation,
          aggregateOnlyGraded: true,
          dropLowest: 0,
          keepHighest: 0,
          grademin: 0,
          grademax: 100,
          hidden: false,
          locked: false,
          calculation: null,
        },
        CATEGORY_DEFAULTS,
      ),
    ).toEqual({});
    // and a no-op save really writes no history entry
    const doc = open();
    const r = run(doc, {
      type: 'setItem',
      item: { id: item.id, ...changedFields(item, asForm, ITEM_DEFAULTS) },
    });
    expect(r.ok && r.entries.length).toBe(0);
  });
});

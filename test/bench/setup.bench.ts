// Setup page benchmark: what one render and one keystroke cost on a large gradebook (300 items in 30 categories,
// 20 calculations, 2,000 students): tree rows with engine weights, calculation check per keystroke, completion,
// move targets, delete plans and clean-up. Prints figures and goal ratios; never fails on speed.
import * as Y from 'yjs';
import { applyCommand } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc, docToCourseJson } from '../../src/lib/crdt/course-doc.ts';
import { compileGradebookFormula } from '../../src/lib/domain/formula/index.ts';
import { GradeEngine } from '../../src/lib/domain/gradebook/engine.ts';
import type {
  CourseCategory,
  CourseGrade,
  CourseItem,
  CourseJson,
} from '../../src/lib/domain/interchange/course-types.ts';
import { fixedClock, seededRng } from '../../src/lib/domain/shared/clock.ts';
import {
  checkCalculation,
  completionContext,
  completionOptions,
  knownIdnumbers,
} from '../../src/lib/state/setup-calc.ts';
import {
  cleanupCandidates,
  deletePlan,
  moveTargets,
  saveCategoryCommand,
} from '../../src/lib/state/setup-commands.ts';
import { categoryRescaleCommands, overriddenTotalCount } from '../../src/lib/state/setup-form.ts';
import { buildSetupTree, limitRulesApply, visibleRows } from '../../src/lib/state/setup-tree.ts';
import { percentile, report, timeRuns } from './util.ts';

const CATS = 30;
const ITEMS_PER_CAT = 10;
const CALCS = 20;
const STUDENTS = 2000;
// Goals: a keystroke must feel instant (one 60 Hz frame is ~16 ms, leave room for rendering); a full rebuild of
// the tree after a change should fit in a frame or two.
const KEYSTROKE_GOAL_MS = 5;
const TREE_GOAL_MS = 25;

function bigCourse(): CourseJson {
  const rng = seededRng(7);
  const categories: CourseCategory[] = [{ id: 'root', parent: null, name: 'Course', aggregation: 'natural' }];
  for (let c = 0; c < CATS; c++)
    categories.push({
      id: `c${c}`,
      parent: c < 10 ? 'root' : `c${c % 10}`,
      name: `Category ${c}`,
      aggregation: c % 3 ? 'natural' : 'weighted_mean',
    });
  const items: CourseItem[] = [];
  for (let c = 0; c < CATS; c++)
    for (let k = 0; k < ITEMS_PER_CAT; k++)
      items.push({
        id: `i${c}-${k}`,
        idnumber: `q${c}_${k}`,
        category: `c${c}`,
        name: `Quiz ${c}.${k}`,
        grademin: 0,
        grademax: 10 + k,
      });
  for (let k = 0; k < CALCS; k++)
    items.push({
      id: `calc${k}`,
      idnumber: `calc${k}`,
      category: 'root',
      name: `Calc ${k}`,
      grademin: 0,
      grademax: 100,
      calculation: `=average([[q${k}_0]], [[q${k}_1]], [[q${k}_2]]) * 2 + [[q${(k + 1) % CATS}_3]]`,
    });
  const grades: CourseGrade[] = [];
  for (let s = 0; s < STUDENTS; s++)
    for (const it of items)
      if (!it.calculation && it.id.endsWith('-9') === false && rng.next() > 0.05)
        grades.push({ user: `u${s}`, item: it.id, raw: Math.round(rng.next() * it.grademax) });
  return { categories, items, grades, settings: {} };
}

export async function run(): Promise<void> {
  const json = bigCourse();
  console.log(
    `${json.items.length} items, ${json.categories.length} categories, ${STUDENTS} students, ${json.grades.length} grades`,
  );
  const engine = new GradeEngine(json, { now: 0, compileFormula: compileGradebookFormula });

  const tree = await timeRuns(20, () => buildSetupTree(json, engine), 3);
  report('setup tree rows with engine weights (median)', percentile(tree, 50), TREE_GOAL_MS);
  report('setup tree rows with engine weights (p95)', percentile(tree, 95), TREE_GOAL_MS);
  const rows = buildSetupTree(json, engine);
  const vis = await timeRuns(50, () => visibleRows(rows, new Set(['c1', 'c2'])), 5);
  report('visible rows, two categories collapsed (median)', percentile(vis, 50), 1);

  // One keystroke in the calculation editor: validate (with cycle planning) + completion list.
  const text = '=average([[q3_0]], [[q3_1]], [[q3_2]]) * 2 + [[q4_3]] + [[q';
  const known = knownIdnumbers(json);
  const key = await timeRuns(
    200,
    () => {
      checkCalculation(json, 'calc3', text);
      const ctx = completionContext(text, text.length);
      if (ctx) completionOptions(known, ctx.query);
    },
    20,
  );
  report('calculation keystroke: check + completion (median)', percentile(key, 50), KEYSTROKE_GOAL_MS);
  report('calculation keystroke: check + completion (p95)', percentile(key, 95), KEYSTROKE_GOAL_MS);

  const moves = await timeRuns(50, () => moveTargets(json, 'i5-5'), 5);
  report('move targets of an item (median)', percentile(moves, 50), TREE_GOAL_MS);
  const del = await timeRuns(20, () => deletePlan(json, 'i3-0'), 3);
  report('delete plan of an item, 600k grades scanned (median)', percentile(del, 50), 50);
  const clean = await timeRuns(10, () => cleanupCandidates(json), 2);
  report('clean-up candidates (median)', percentile(clean, 50), 100);
  const agg = await timeRuns(50, () => saveCategoryCommand(json, { id: 'c1', aggregation: 'mean' }), 5);
  report('aggregation change command (median)', percentile(agg, 50), 1);

  // Category total range change with "rescale": every student's total of c0 overridden (the worst case).
  const overridden: CourseJson = {
    ...json,
    grades: [...json.grades, ...Array.from({ length: STUDENTS }, (_, s) => ({ user: `u${s}`, item: 'c0', overridden: 5 }))],
  };
  const count = await timeRuns(20, () => overriddenTotalCount(overridden, 'c0'), 3);
  report(`overridden totals of a category, ${overridden.grades.length} grades scanned (median)`, percentile(count, 50), 16);
  const rescale = await timeRuns(20, () => categoryRescaleCommands(overridden, 'c0', 0, 100, 0, 50, 0), 3);
  report('category total rescale commands, 2,000 overridden totals (median)', percentile(rescale, 50), 50);
  const limits = await timeRuns(200, () => limitRulesApply(rows, 'c1'), 20);
  report('drop/keep applicability of a Natural category (median)', percentile(limits, 50), 1);

  // One weight edit as the page does it: command -> snapshot -> engine (full regrade) -> tree rows.
  // The snapshot and regrade are the workspace's (CourseWorkspace.refresh), measured here for the whole picture.
  const doc = new Y.Doc();
  const actor = { userId: 't', deviceId: 'd' };
  courseJsonToDoc(json, doc, actor);
  let w = 0;
  const edit = await timeRuns(
    5,
    () => {
      w = (w + 7) % 90;
      const r = applyCommand(
        doc,
        { type: 'setItem', item: { id: 'i0-0', weight: (w + 5) / 100, weightOverride: true } },
        { actor, clock: fixedClock(1), src: 'bench' },
      );
      if (!r.ok) throw new Error(r.error.message);
      const snap = docToCourseJson(doc);
      buildSetupTree(snap, new GradeEngine(snap, { now: 0, compileFormula: compileGradebookFormula }));
    },
    1,
  );
  report('weight edit: command + snapshot + regrade + rows (median)', percentile(edit, 50), 500);
  const snapOnly = await timeRuns(3, () => docToCourseJson(doc), 1);
  report('  of which docToCourseJson snapshot (median)', percentile(snapOnly, 50));
  const snap = docToCourseJson(doc);
  const regradeOnly = await timeRuns(
    3,
    () => new GradeEngine(snap, { now: 0, compileFormula: compileGradebookFormula }),
    1,
  );
  report('  of which GradeEngine build + full regrade (median)', percentile(regradeOnly, 50));
}

// Compiles a validated course JSON into the engine's tree: nodes (items and category totals), categories,
// per-parent coefficients and the dependency order of regrade. Pure; never reads grades' values.
// Coefficients follow grade_category::aggregation_uses_aggregationcoef / get_coefstring (lib/grade/grade_category.php).
import type { Aggregation, CourseJson, FlagOrTime } from '../interchange/course-types.ts';
import { ValidationError, jsonPath, type Problem } from '../shared/errors.ts';
import type { AggChildren } from './aggregation.ts';
import type { CompiledFormula, FormulaCompiler } from './formula-port.ts';

export interface GradeNode {
  readonly index: number;
  /** Output id: the item id, the category id, or `course` for the root category total. */
  readonly id: string;
  readonly kind: 'item' | 'category';
  /** For category totals: the category index; else -1. */
  readonly cat: number;
  /** Category index this node is a child of (-1 for the course total). */
  readonly parentCat: number;
  /** JSON path of the item/category that defines this node. */
  readonly path: string;
  readonly idnumber: string | null;
  readonly name: string;
  readonly isScale: boolean;
  readonly outcome: boolean;
  readonly scale: readonly string[] | null;
  /** Current range; Natural categories get theirs from auto_update_max. */
  min: number;
  max: number;
  readonly multfactor: number;
  readonly plusfactor: number;
  /** aggregationcoef as its parent's method reads it. */
  readonly coef: number;
  /** aggregationcoef2 (Natural weight), recomputed before each full regrade. */
  coef2: number;
  readonly weightOverride: boolean;
  readonly hidden: FlagOrTime;
  readonly locked: FlagOrTime;
  readonly calculation: string | null;
  formula: CompiledFormula | null;
  /** Node indices referenced by the calculation, parallel to formula.references. */
  refs: Int32Array;
}

export interface GradeCategory {
  readonly index: number;
  readonly node: number;
  readonly id: string;
  readonly parent: number;
  readonly depth: number;
  readonly aggregation: Aggregation;
  readonly aggregateOnlyGraded: boolean;
  readonly dropLowest: number;
  readonly keepHighest: number;
  readonly aggregateOutcomes: boolean;
  /** Every child node in tree order (items, then sub-category totals). */
  readonly allChildren: readonly number[];
  /** Children that take part in aggregation (grade_item::depends_on filtering). */
  readonly aggChildren: Int32Array;
  /** Children that get Natural weights (auto_update_weights filtering). */
  readonly weightChildren: readonly number[];
  canApplyLimit: boolean;
  /** Per aggChildren position. */
  readonly agg: AggChildren & { coef2: Float64Array; itemMax: Float64Array; itemMin: Float64Array };
  readonly isExtra: Uint8Array;
  readonly extraUsed: boolean;
}

export interface CompiledCourse {
  readonly nodes: GradeNode[];
  readonly cats: GradeCategory[];
  readonly root: number;
  readonly byId: ReadonlyMap<string, number>;
  readonly byIdnumber: ReadonlyMap<string, number>;
  /** Node indices in dependency order (every node after what it depends on). */
  readonly order: Int32Array;
  /** For each node, the nodes that depend on it transitively, in dependency order. */
  readonly dependents: Int32Array[];
  /** Categories deepest first (pre_regrade order). */
  readonly catsDeepestFirst: readonly number[];
  readonly minmaxFromGrade: boolean;
  readonly includeScales: boolean;
  readonly enableOutcomes: boolean;
}

const EXTRA_METHODS: ReadonlySet<Aggregation> = new Set([
  'natural',
  'simple_weighted_mean',
  'extra_credit_mean',
]);

interface CoefSource {
  weight?: number | null | undefined;
  weightOverride?: boolean | undefined;
  extraCredit?: boolean | undefined;
  extraCreditWeight?: number | undefined;
}

/** [MODEL-2] The coefficient a parent's method reads from a child's JSON fields. */
function coefFor(
  parent: Aggregation,
  c: CoefSource,
): { coef: number; coef2: number; weightOverride: boolean } {
  const natural = parent === 'natural';
  const weightOverride = natural && c.weightOverride === true;
  const coef2 = weightOverride ? (c.weight ?? 0) : 1;
  switch (parent) {
    case 'weighted_mean':
      return { coef: c.weight ?? 1, coef2, weightOverride };
    case 'simple_weighted_mean':
    case 'natural':
      return { coef: c.extraCredit ? 1 : 0, coef2, weightOverride };
    case 'extra_credit_mean':
      return { coef: c.extraCreditWeight ?? 0, coef2, weightOverride };
    default:
      return { coef: 0, coef2, weightOverride };
  }
}

/** Builds the tree. Throws ValidationError naming the JSON path for unknown references and cycles. */
export function compileCourse(json: CourseJson, compileFormula: FormulaCompiler | undefined): CompiledCourse {
  const problems: Problem[] = [];
  const catIndex = new Map<string, number>();
  json.categories.forEach((c, i) => catIndex.set(c.id, i));
  const rootJson = json.categories.findIndex((c) => c.parent === null);
  const settings = json.settings;
  const includeScales = settings.includeScalesInAggregation ?? true;
  const enableOutcomes = settings.enableOutcomes ?? true;

  // Depth of each category (the parser has rejected cycles among parents).
  const depthOf = (i: number): number => {
    let d = 1;
    let p = json.categories[i]!.parent;
    while (p !== null && d <= json.categories.length) {
      d++;
      p = json.categories[catIndex.get(p)!]!.parent;
    }
    return d;
  };

  const nodes: GradeNode[] = [];
  const byId = new Map<string, number>();
  const byIdnumber = new Map<string, number>();

  json.items.forEach((it, i) => {
    const parentCat = catIndex.get(it.category)!;
    const parentAgg = json.categories[parentCat]!.aggregation;
    const isScale = it.gradetype === 'scale';
    const { coef, coef2, weightOverride } = coefFor(parentAgg, it);
    const node: GradeNode = {
      index: nodes.length,
      id: it.id,
      kind: 'item',
      cat: -1,
      parentCat,
      path: jsonPath('$', 'items', i),
      idnumber: it.idnumber,
      name: it.name,
      isScale,
      outcome: it.outcome === true,
      scale: it.scale ?? null,
      // [RNG-5] load_scale forces 1..labels for scale items.
      min: isScale && it.scale ? 1 : it.grademin,
      max: isScale && it.scale ? it.scale.length : it.grademax,
      multfactor: it.multfactor ?? 1,
      plusfactor: it.plusfactor ?? 0,
      coef,
      coef2,
      weightOverride,
      hidden: it.hidden ?? false,
      locked: it.locked ?? false,
      calculation: it.calculation ?? null,
      formula: null,
      refs: new Int32Array(0),
    };
    nodes.push(node);
    byId.set(it.id, node.index);
    if (it.idnumber) byIdnumber.set(it.idnumber, node.index);
  });

  const catNodes: number[] = [];
  json.categories.forEach((c, i) => {
    const isRoot = i === rootJson;
    const parentCat = c.parent === null ? -1 : catIndex.get(c.parent)!;
    const parentAgg = parentCat >= 0 ? json.categories[parentCat]!.aggregation : 'mean';
    const { coef, coef2, weightOverride } =
      parentCat >= 0 ? coefFor(parentAgg, c) : { coef: 0, coef2: 1, weightOverride: false };
    const node: GradeNode = {
      index: nodes.length,
      id: isRoot ? 'course' : c.id,
      kind: 'category',
      cat: i,
      parentCat,
      path: jsonPath('$', 'categories', i),
      idnumber: c.idnumber ?? null,
      name: c.name,
      isScale: false,
      outcome: false,
      scale: null,
      min: c.grademin ?? 0,
      max: c.grademax ?? (c.aggregation === 'natural' ? 0 : 100),
      multfactor: 1,
      plusfactor: 0,
      coef,
      coef2,
      weightOverride,
      hidden: c.hidden ?? false,
      locked: c.locked ?? false,
      calculation: c.calculation ?? null,
      formula: null,
      refs: new Int32Array(0),
    };
    nodes.push(node);
    catNodes.push(node.index);
    byId.set(node.id, node.index);
    byId.set(c.id, node.index); // the root is reachable as `course` and by its category id
    if (c.idnumber) byIdnumber.set(c.idnumber, node.index);
  });

  // Children of each category in tree order: its items, then its sub-categories.
  const childLists: number[][] = json.categories.map(() => []);
  json.items.forEach((it, i) => childLists[catIndex.get(it.category)!]!.push(i));
  json.categories.forEach((c, i) => {
    if (c.parent !== null) childLists[catIndex.get(c.parent)!]!.push(catNodes[i]!);
  });

  const cats: GradeCategory[] = json.categories.map((c, i) => {
    const all = childLists[i]!;
    const isOutcomeExcluded = (q: number): boolean => nodes[q]!.outcome && !(c.aggregateOutcomes ?? false);
    // grade_item::depends_on: scales only when included; outcomes only when aggregated (quirk: no outcome
    // filter at all when outcomes are disabled site-wide).
    const aggChildren = all.filter(
      (q) => (includeScales || !nodes[q]!.isScale) && (!enableOutcomes || !isOutcomeExcluded(q)),
    );
    const weightChildren = all.filter((q) => (includeScales || !nodes[q]!.isScale) && !isOutcomeExcluded(q));
    const m = aggChildren.length;
    const agg = {
      coef: new Float64Array(m),
      coef2: new Float64Array(m),
      weightOverride: new Uint8Array(m),
      itemMin: new Float64Array(m),
      itemMax: new Float64Array(m),
    };
    const isExtra = new Uint8Array(m);
    const extraUsed = EXTRA_METHODS.has(c.aggregation);
    aggChildren.forEach((q, k) => {
      agg.coef[k] = nodes[q]!.coef;
      agg.weightOverride[k] = nodes[q]!.weightOverride ? 1 : 0;
      isExtra[k] = extraUsed && nodes[q]!.coef > 0 ? 1 : 0;
    });
    return {
      index: i,
      node: catNodes[i]!,
      id: nodes[catNodes[i]!]!.id,
      parent: c.parent === null ? -1 : catIndex.get(c.parent)!,
      depth: depthOf(i),
      aggregation: c.aggregation,
      aggregateOnlyGraded: c.aggregateOnlyGraded ?? true,
      // [LIM-3] both set: drop lowest wins (grade_category::update zeroes keephigh).
      dropLowest: c.dropLowest ?? 0,
      keepHighest: (c.dropLowest ?? 0) > 0 ? 0 : (c.keepHighest ?? 0),
      aggregateOutcomes: c.aggregateOutcomes ?? false,
      allChildren: all,
      aggChildren: Int32Array.from(aggChildren),
      weightChildren,
      canApplyLimit: true,
      agg,
      isExtra,
      extraUsed,
    };
  });

  // Calculations: compile, resolve [[idnumber]] references.
  for (const node of nodes) {
    if (!node.calculation) continue;
    const at = `${node.path}.calculation`;
    if (!compileFormula) {
      problems.push({
        at,
        message: 'calculated items need the formula engine, which is not available in this build',
      });
      continue;
    }
    let f: CompiledFormula;
    try {
      f = compileFormula(node.calculation);
    } catch (e) {
      problems.push({ at, message: `formula error: ${(e as Error).message}` });
      continue;
    }
    const refs = new Int32Array(f.references.length);
    let ok = true;
    f.references.forEach((r, k) => {
      const q = byIdnumber.get(r);
      if (q === undefined) {
        const col = node.calculation!.indexOf(`[[${r}]]`);
        problems.push({
          at,
          message: `unknown idnumber [[${r}]]${col >= 0 ? ` at column ${col + 1}` : ''}`,
        });
        ok = false;
      } else if (q === node.index) {
        problems.push({ at, message: `the formula refers to its own item [[${r}]]` });
        ok = false;
      } else refs[k] = q;
    });
    if (ok) {
      node.formula = f;
      node.refs = refs;
    }
  }
  if (problems.length) throw new ValidationError(problems);

  // Dependency graph: categories depend on their aggregated children, calculations on their references.
  const deps: number[][] = nodes.map((n) => {
    if (n.formula) return Array.from(n.refs);
    if (n.kind === 'category') return Array.from(cats[n.cat]!.aggChildren);
    return [];
  });
  const order = topoOrder(nodes, deps);
  const posInOrder = new Int32Array(nodes.length);
  order.forEach((q, k) => (posInOrder[q] = k));
  const rdeps: number[][] = nodes.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => rdeps[d]!.push(i)));
  const dependents = nodes.map((_, i) => {
    const seen = new Set<number>();
    const stack = [i];
    while (stack.length) {
      const x = stack.pop()!;
      for (const y of rdeps[x]!) {
        if (!seen.has(y)) {
          seen.add(y);
          stack.push(y);
        }
      }
    }
    return Int32Array.from([...seen].sort((a, b) => posInOrder[a]! - posInOrder[b]!));
  });
  const catsDeepestFirst = cats.map((c) => c.index).sort((a, b) => cats[b]!.depth - cats[a]!.depth || a - b);

  return {
    nodes,
    cats,
    root: catNodes[rootJson]!,
    byId,
    byIdnumber,
    order,
    dependents,
    catsDeepestFirst,
    minmaxFromGrade: settings.minmaxtouse === 'grade',
    includeScales,
    enableOutcomes,
  };
}

/** [CALC-3] Kahn's algorithm; a cycle is a ValidationError naming the items on it and their formulas' paths. */
function topoOrder(nodes: readonly GradeNode[], deps: readonly number[][]): Int32Array {
  const indeg = new Int32Array(nodes.length);
  const rdeps: number[][] = nodes.map(() => []);
  deps.forEach((ds, i) => {
    indeg[i] = ds.length;
    ds.forEach((d) => rdeps[d]!.push(i));
  });
  const out: number[] = [];
  const queue: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (indeg[i] === 0) queue.push(i);
  for (let h = 0; h < queue.length; h++) {
    const x = queue[h]!;
    out.push(x);
    for (const y of rdeps[x]!) if (--indeg[y]! === 0) queue.push(y);
  }
  if (out.length < nodes.length) {
    const stuck = nodes.filter((n) => indeg[n.index]! > 0);
    const cycle = findCycle(
      stuck.map((n) => n.index),
      deps,
    );
    const names = cycle.map((i) => nodes[i]!.idnumber || nodes[i]!.id);
    const problems: Problem[] = cycle
      .filter((i) => nodes[i]!.formula)
      .map((i) => ({
        at: `${nodes[i]!.path}.calculation`,
        message: `circular reference: ${names.join(' -> ')} -> ${names[0]}`,
      }));
    if (problems.length === 0)
      problems.push({ at: '$', message: `circular reference: ${names.join(' -> ')}` });
    throw new ValidationError(problems);
  }
  return Int32Array.from(out);
}

function findCycle(stuck: number[], deps: readonly number[][]): number[] {
  const inStuck = new Set(stuck);
  // Walk from any stuck node along stuck dependencies until a node repeats.
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  let x = stuck[0]!;
  while (!seenAt.has(x)) {
    seenAt.set(x, path.length);
    path.push(x);
    x = deps[x]!.find((d) => inStuck.has(d))!;
  }
  return path.slice(seenAt.get(x)!);
}

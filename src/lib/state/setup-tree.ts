// The gradebook setup tree as the setup page shows it: rows in tree order with each node's settings and the
// effective weight the engine computed. Pure view-model code: no Svelte, no storage, no clock; never writes.
import type { GradeEngine } from '../domain/gradebook/engine';
import { setupRows } from '../domain/gradebook/report';
import type {
  Aggregation,
  CourseCategory,
  CourseItem,
  CourseJson,
  FlagOrTime,
} from '../domain/interchange/course-types';

export type NodeType = 'category' | 'value' | 'scale' | 'calculated' | 'outcome';

export interface SetupNode {
  id: string;
  kind: 'item' | 'category';
  isCourse: boolean;
  name: string;
  idnumber: string;
  type: NodeType;
  /** Parent category id (null for the course category). */
  parent: string | null;
  /** 1-based tree level (aria-level). */
  level: number;
  /** Child ids in tree order (items, then sub-categories); empty for items. */
  children: string[];
  /** The range in use: for Natural categories the maximum the engine summed. */
  min: number;
  max: number;
  aggregation: Aggregation | null;
  parentAggregation: Aggregation | null;
  /** Stored weight field (meaning depends on the parent's method; see weightMode). */
  weight: number | null;
  weightOverride: boolean;
  /** Effective Natural weight in percent, as the engine normalised it; null outside Natural parents. */
  effectiveWeightPct: number | null;
  extraCredit: boolean;
  extraCreditWeight: number;
  hidden: FlagOrTime;
  locked: FlagOrTime;
  calculation: string | null;
  /** False for an item its parent's total leaves out (see countedInTotal): it has no weight to set. */
  counted: boolean;
}

/**
 * Whether an item counts in its parent's total, as the engine's weight children are chosen (grade_category's
 * children for aggregation, Moodle lib/grade/grade_category.php; item_form.php removes the Natural weight fields
 * of a scale when scales are not included): a scale only when the course includes scales in aggregation, an
 * outcome only when its category includes outcomes.
 */
export function countedInTotal(json: CourseJson, item: CourseItem): boolean {
  if (item.gradetype === 'scale' && json.settings.includeScalesInAggregation === false) return false;
  if (item.outcome) {
    const parent = json.categories.find((c) => c.id === item.category);
    if (!(parent?.aggregateOutcomes ?? false)) return false;
  }
  return true;
}

/**
 * Which coefficient a parent's method reads from its children, after grade_category::aggregation_uses_aggregationcoef
 * and get_coefstring (Moodle lib/grade/grade_category.php): Natural a weight (%, overridable) and an extra-credit
 * flag; Weighted mean a weight; Simple weighted mean an extra-credit flag; Mean with extra credits an extra-credit
 * weight; the others nothing.
 */
export function weightMode(parent: Aggregation | null): {
  weight: 'natural' | 'weighted' | null;
  extra: 'flag' | 'weight' | null;
} {
  switch (parent) {
    case 'natural':
      return { weight: 'natural', extra: 'flag' };
    case 'weighted_mean':
      return { weight: 'weighted', extra: null };
    case 'simple_weighted_mean':
      return { weight: null, extra: 'flag' };
    case 'extra_credit_mean':
      return { weight: null, extra: 'weight' };
    default:
      return { weight: null, extra: null };
  }
}

export const AGGREGATION_LABELS: Readonly<Record<Aggregation, string>> = {
  natural: 'Natural',
  mean: 'Mean of grades',
  weighted_mean: 'Weighted mean of grades',
  simple_weighted_mean: 'Simple weighted mean of grades',
  extra_credit_mean: 'Mean of grades (with extra credits)',
  median: 'Median of grades',
  lowest: 'Lowest grade',
  highest: 'Highest grade',
  mode: 'Mode of grades',
};

export const TYPE_LABELS: Readonly<Record<NodeType, string>> = {
  category: 'Category',
  value: 'Value',
  scale: 'Scale',
  calculated: 'Calculated',
  outcome: 'Outcome',
};

function itemType(it: CourseItem): NodeType {
  if (it.outcome) return 'outcome';
  if (typeof it.calculation === 'string' && it.calculation !== '') return 'calculated';
  return it.gradetype === 'scale' ? 'scale' : 'value';
}

/** Default range of a non-Natural category total (Moodle's grade_item defaults 0..100). */
const DEFAULT_CATEGORY_MAX = 100;

/**
 * Builds the setup rows in tree order (a category, then its items, then its sub-categories, like the engine's
 * allChildren). With an engine, Natural weights and Natural maxima are the engine's ([REP-6] setupRows).
 */
export function buildSetupTree(json: CourseJson, engine: GradeEngine | null = null): SetupNode[] {
  const root = json.categories.find((c) => c.parent === null);
  if (!root) return [];
  const catById = new Map(json.categories.map((c) => [c.id, c]));
  const itemsOf = new Map<string, CourseItem[]>();
  for (const it of json.items) {
    const list = itemsOf.get(it.category) ?? [];
    list.push(it);
    itemsOf.set(it.category, list);
  }
  const catsOf = new Map<string, CourseCategory[]>();
  for (const c of json.categories) {
    if (c.parent === null) continue;
    const list = catsOf.get(c.parent) ?? [];
    list.push(c);
    catsOf.set(c.parent, list);
  }
  const engineRows = new Map<string, { weight: number | null; max: number }>();
  if (engine)
    for (const r of setupRows(engine)) engineRows.set(r.item, { weight: r.setupWeightPct, max: r.grademax });

  const out: SetupNode[] = [];
  const visit = (cat: CourseCategory, level: number, parentAgg: Aggregation | null): void => {
    const isCourse = cat.parent === null;
    const items = itemsOf.get(cat.id) ?? [];
    const subs = catsOf.get(cat.id) ?? [];
    const eng = engineRows.get(isCourse ? 'course' : cat.id);
    const natural = cat.aggregation === 'natural';
    out.push({
      id: cat.id,
      kind: 'category',
      isCourse,
      name: cat.name,
      idnumber: cat.idnumber ?? '',
      type: 'category',
      parent: cat.parent,
      level,
      children: [...items.map((i) => i.id), ...subs.map((c) => c.id)],
      min: natural ? 0 : (cat.grademin ?? 0),
      max: eng && natural ? eng.max : natural ? 0 : (cat.grademax ?? DEFAULT_CATEGORY_MAX),
      aggregation: cat.aggregation,
      parentAggregation: parentAgg,
      weight: cat.weight ?? null,
      weightOverride: cat.weightOverride === true,
      effectiveWeightPct: eng?.weight ?? null,
      extraCredit: cat.extraCredit === true,
      extraCreditWeight: cat.extraCreditWeight ?? 0,
      hidden: cat.hidden ?? false,
      locked: cat.locked ?? false,
      calculation: cat.calculation ?? null,
      counted: true,
    });
    for (const it of items) {
      out.push({
        id: it.id,
        kind: 'item',
        isCourse: false,
        name: it.name,
        idnumber: it.idnumber,
        type: itemType(it),
        parent: cat.id,
        level: level + 1,
        children: [],
        min: it.grademin,
        max: it.grademax,
        aggregation: null,
        parentAggregation: cat.aggregation,
        weight: it.weight ?? null,
        weightOverride: it.weightOverride === true,
        effectiveWeightPct: engineRows.get(it.id)?.weight ?? null,
        extraCredit: it.extraCredit === true,
        extraCreditWeight: it.extraCreditWeight ?? 0,
        hidden: it.hidden ?? false,
        locked: it.locked ?? false,
        calculation: it.calculation ?? null,
        counted: countedInTotal(json, it),
      });
    }
    for (const sub of subs) if (catById.has(sub.id)) visit(sub, level + 1, cat.aggregation);
  };
  visit(root, 1, null);
  return out;
}

/** The rows a reader sees: a collapsed category hides everything beneath it. */
export function visibleRows(rows: readonly SetupNode[], collapsed: ReadonlySet<string>): SetupNode[] {
  const out: SetupNode[] = [];
  let hideBelow = Infinity;
  for (const r of rows) {
    if (r.level > hideBelow) continue;
    hideBelow = Infinity;
    out.push(r);
    if (r.kind === 'category' && collapsed.has(r.id)) hideBelow = r.level;
  }
  return out;
}

/**
 * The short tags of a row's flags for the tree: extra credit (as its parent's method reads it), hidden or hidden
 * until a time, locked or locked from a time. `formatTime` formats unix seconds for people.
 */
export function flagTags(row: SetupNode, formatTime: (unix: number) => string): string[] {
  const out: string[] = [];
  if (!row.counted) out.push('Not in total');
  const extra = weightMode(row.parentAggregation).extra;
  if (extra === 'flag' && row.extraCredit) out.push('Extra credit');
  if (extra === 'weight' && row.extraCreditWeight > 0) out.push(`Extra credit ×${row.extraCreditWeight}`);
  if (row.hidden === true) out.push('Hidden');
  else if (typeof row.hidden === 'number' && row.hidden > 0)
    out.push(`Hidden until ${formatTime(row.hidden)}`);
  if (row.locked === true) out.push('Locked');
  else if (typeof row.locked === 'number' && row.locked > 0)
    out.push(`Locked from ${formatTime(row.locked)}`);
  return out;
}

/** Ids of a category and everything below it (a category cannot move into its own subtree). */
export function subtreeIds(rows: readonly SetupNode[], id: string): Set<string> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out = new Set<string>();
  const walk = (x: string): void => {
    out.add(x);
    for (const c of byId.get(x)?.children ?? []) walk(c);
  };
  walk(id);
  return out;
}

/**
 * Whether drop lowest / keep highest can work in a category, after grade_category::can_apply_limit_rules (Moodle
 * lib/grade/grade_category.php; [NAT-4]): always outside Natural; in Natural only when no child is a sub-category
 * or extra credit and every child has the same (effective) weight and maximum. Moodle freezes both fields at 0
 * otherwise (grade/edit/tree/category_form.php definition_after_data), since the engine would ignore them.
 */
export function limitRulesApply(rows: readonly SetupNode[], categoryId: string): boolean {
  const cat = rows.find((r) => r.id === categoryId);
  if (!cat || cat.kind !== 'category' || cat.aggregation !== 'natural') return true;
  const byId = new Map(rows.map((r) => [r.id, r]));
  let weight: number | null = null;
  let max: number | null = null;
  for (const id of cat.children) {
    const c = byId.get(id);
    if (!c) continue;
    if (c.kind === 'category' || c.extraCredit) return false;
    if (weight !== null && c.effectiveWeightPct !== weight) return false;
    if (max !== null && c.max !== max) return false;
    weight = c.effectiveWeightPct;
    max = c.max;
  }
  return true;
}

// What a student sees when some of their grades are hidden: the in-memory recomputation of affected totals
// ([HID-3]..[HID-6]). Pure and per user; never changes stored values. Follows grade_grade::get_hiding_affected
// (lib/grade/grade_grade.php), quirks included (see SPEC.md).
import { aggregateValues, type AggResult } from './aggregation.ts';
import type { GradeEngine } from './engine.ts';
import { applyLimitRules, sortAsc } from './limit-rules.ts';
import { boundedGrade, standardise } from './range.ts';
import { ST_DROPPED, ST_EXCLUDED, ST_EXTRA, ST_NOVALUE, ST_USED } from './flags.ts';

export interface HidingAffected {
  readonly hiddenFound: boolean;
  /** node -> recomputed value (NaN = removed/empty). */
  readonly altered: Map<number, number>;
  readonly alteredMin: Map<number, number>;
  readonly alteredMax: Map<number, number>;
  /** node -> new status / weight (weight null = shown blank). */
  readonly alteredStatus: Map<number, number>;
  readonly alteredWeight: Map<number, number | null>;
  /** Totals that depend on hidden grades but cannot be recomputed (calculated, locked): stored value kept. */
  readonly unknown: Set<number>;
}

/** [HID-3] Computes, for one user, which totals a hidden grade affects and their values without it. */
export function hidingAffected(e: GradeEngine, u: number): HidingAffected {
  const { nodes, cats, order } = e.course;
  const res: HidingAffected = {
    hiddenFound: false,
    altered: new Map(),
    alteredMin: new Map(),
    alteredMax: new Map(),
    alteredStatus: new Map(),
    alteredWeight: new Map(),
    unknown: new Set(),
  };
  const todo = new Uint8Array(nodes.length);
  let hiddenFound = false;
  for (const n of nodes) {
    const q = n.index;
    if (e.isExcluded(q, u)) continue;
    if (e.isHidden(q, u)) {
      hiddenFound = true;
      res.altered.set(q, NaN);
      res.alteredStatus.set(q, ST_DROPPED);
      res.alteredWeight.set(q, 0);
    } else if (e.isOverridden(q, u)) {
      // never recomputed
    } else if (n.formula ? n.refs.length > 0 : n.kind === 'category' && cats[n.cat]!.aggChildren.length > 0) {
      // Only items that depend on something are reconsidered (an empty category has nothing to redo).
      todo[q] = 1;
    }
  }
  if (!hiddenFound) return res;
  (res as { hiddenFound: boolean }).hiddenFound = true;

  // "Depends on" transitively: a node is affected when any of its direct inputs is altered or unknown.
  const affected = new Uint8Array(nodes.length); // 1 = altered/hidden below, 2 = unknown below
  for (const q of res.altered.keys()) affected[q] = 1;
  const out: AggResult = { grade: 0, grademin: 0, grademax: 0 };
  for (let k = 0; k < order.length; k++) {
    const q = order[k]!;
    const n = nodes[q]!;
    const inputs = n.formula ? n.refs : n.kind === 'category' ? cats[n.cat]!.aggChildren : null;
    if (!inputs) continue;
    let below = 0;
    for (let i = 0; i < inputs.length; i++) below = Math.max(below, affected[inputs[i]!]!);
    if (!todo[q]) {
      // Hidden, excluded or overridden nodes keep what they have, but Moodle flattens dependencies, so
      // what lies below them still reaches their parents.
      affected[q] = Math.max(affected[q]!, below);
      continue;
    }
    if (below === 2) {
      res.unknown.add(q);
      affected[q] = 2;
      continue;
    }
    const isNaturalCategory =
      n.kind === 'category' && q !== e.course.root && cats[n.cat]!.aggregation === 'natural';
    if (below === 0 && !isNaturalCategory) continue;
    if (n.formula || n.kind !== 'category' || e.isLocked(q, u)) {
      // [HID-5] calculated items and locked totals cannot be recomputed.
      if (below > 0) {
        res.unknown.add(q);
        affected[q] = 2;
      }
      continue;
    }
    recomputeCategory(e, q, u, res, out);
    affected[q] = 1;
  }
  return res;
}

function recomputeCategory(e: GradeEngine, q: number, u: number, res: HidingAffected, out: AggResult): void {
  const node = e.course.nodes[q]!;
  const cat = e.course.cats[node.cat]!;
  const ch = cat.aggChildren;
  const m = ch.length;
  const pos = new Int32Array(m);
  const vals = new Float64Array(m);
  const mins = new Float64Array(m);
  const maxs = new Float64Array(m);
  const w = new Float64Array(m);
  let n = 0;
  for (let k = 0; k < m; k++) {
    const p = ch[k]!;
    let v: number;
    if (res.altered.has(p)) {
      v = res.altered.get(p)!;
      if (Number.isNaN(v)) continue; // a hidden grade is removed entirely, never counted as 0
    } else v = e.derived.final[p]![u]!;
    if (e.isExcluded(p, u)) {
      res.alteredStatus.set(p, ST_EXCLUDED);
      res.alteredWeight.set(p, null);
      continue;
    }
    // Item-level range, or the recomputed range of a recomputed child.
    const lo = res.alteredMin.get(p) ?? e.course.nodes[p]!.min;
    const hi = res.alteredMax.get(p) ?? e.course.nodes[p]!.max;
    mins[k] = lo;
    maxs[k] = hi;
    if (Number.isNaN(v)) {
      if (cat.aggregateOnlyGraded) {
        res.alteredStatus.set(p, ST_NOVALUE);
        res.alteredWeight.set(p, null);
        continue;
      }
      vals[k] = 0;
    } else vals[k] = standardise(v, lo, hi, 0, 1);
    pos[n++] = k;
  }
  // Quirk: limit rules without the Natural eligibility check.
  const before = Array.from(pos.subarray(0, n));
  n = applyLimitRules(cat.dropLowest, cat.keepHighest, pos, n, vals, maxs, cat.isExtra, cat.extraUsed);
  const kept = new Set(Array.from(pos.subarray(0, n)));
  for (const k of before) {
    if (!kept.has(k)) {
      res.alteredStatus.set(ch[k]!, ST_DROPPED);
      res.alteredWeight.set(ch[k]!, null);
    }
  }
  sortAsc(pos, n, vals);
  if (n === 0) {
    res.altered.set(q, NaN);
    return;
  }
  const agg = { ...cat.agg, itemMin: mins, itemMax: maxs };
  aggregateValues(cat.aggregation, n, pos, vals, agg, mins, maxs, node.min, node.max, w, out);
  const g = standardise(out.grade, 0, 1, out.grademin, out.grademax);
  for (let i = 0; i < n; i++) {
    const p = ch[pos[i]!]!;
    if (!res.alteredStatus.has(p)) res.alteredStatus.set(p, cat.isExtra[pos[i]!] ? ST_EXTRA : ST_USED);
    res.alteredWeight.set(p, w[pos[i]!]!);
  }
  res.altered.set(q, boundedGrade(g, node.min, node.max, false));
  res.alteredMin.set(q, out.grademin);
  res.alteredMax.set(q, out.grademax);
}

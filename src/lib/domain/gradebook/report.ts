// Report numbers per user and node (final, range, percentage, weight, contribution, letter) and setup rows.
// Pure read model over a regraded engine; never changes grades. Follows grade/report/user/classes/report/user.php
// (fill_contributions_column), grade/report/lib.php (blank_hidden_total_and_adjust_bounds): [REP-1]..[REP-6].
import type { GradeEngine } from './engine.ts';
import { hidingAffected, type HidingAffected } from './hidden.ts';
import { gradeLetter, type LetterTable } from './letters.ts';
import { percentage } from './display.ts';
import { standardise } from './range.ts';
import { ST_UNKNOWN } from './flags.ts';
import type { HideTotalsMode } from '../interchange/course-types.ts';

export type Viewer = 'teacher' | 'student';

export interface ReportOptions {
  viewer: Viewer;
  /** Evaluation time for hidden-until and lock times (unix seconds). */
  now: number;
}

/** One row of `markbook report` (shared/spec/course-json.md). */
export interface ReportRow {
  user: string;
  item: string;
  final: number | null;
  range: [number, number];
  percentage: number | null;
  weightPct: number | null;
  contributionPct: number | null;
  letter: string | null;
}

export interface SetupRow {
  item: string;
  setupWeightPct: number | null;
  grademax: number;
}

interface Cell {
  shown: boolean;
  final: number;
  min: number;
  max: number;
  weight: number | null;
}

/** Tree order of nodes for a report: each category's children (items, then sub-categories), then its total. */
export function reportOrder(e: GradeEngine): number[] {
  const out: number[] = [];
  const walk = (ci: number): void => {
    const cat = e.course.cats[ci]!;
    for (const q of cat.allChildren) {
      const n = e.course.nodes[q]!;
      if (n.kind === 'category') walk(n.cat);
      else out.push(q);
    }
    out.push(cat.node);
  };
  walk(e.course.nodes[e.course.root]!.cat);
  return out;
}

/** [REP-1] The user report rows of one user as the viewer sees them. */
export function userRows(
  e: GradeEngine,
  u: number,
  opts: ReportOptions,
  mode: HideTotalsMode,
  letters: LetterTable,
  order: readonly number[] = reportOrder(e),
): ReportRow[] {
  const { nodes, cats, root } = e.course;
  const student = opts.viewer === 'student';
  const hiding: HidingAffected | null = student && mode !== 'include_hidden' ? hidingAffected(e, u) : null;
  const cells: (Cell | undefined)[] = new Array(nodes.length);
  const cellOf = (q: number): Cell => {
    let c = cells[q];
    if (c) return c;
    const d = e.derived;
    const st = d.status[q]![u]!;
    c = {
      shown: true,
      final: d.final[q]![u]!,
      min: e.gradeMin(q, u),
      max: e.gradeMax(q, u),
      // The stored aggregationweight: 0 for empty or dropped children; none when never aggregated.
      weight: st === ST_UNKNOWN ? null : d.weight[q]![u]!,
    };
    if (student) {
      const hidden = e.isHidden(q, u);
      if (hidden) {
        // [REP-2] hidden rows are not shown; hidden-until rows are shown without their grade.
        const until = e.isHiddenUntilOnly(q, u);
        c.shown = until;
        c.final = NaN;
        c.weight = null;
      } else if (hiding && hiding.hiddenFound) {
        const affected = hiding.altered.has(q) || hiding.unknown.has(q);
        if (mode === 'none') {
          // [REP-3] "Hide": every total affected by a hidden grade shows "-".
          if (affected && (nodes[q]!.kind === 'category' || nodes[q]!.formula)) c.final = NaN;
        } else if (hiding.altered.has(q)) {
          // [REP-4] "Exclude hidden": the recomputed value and range.
          c.final = hiding.altered.get(q)!;
          c.min = hiding.alteredMin.get(q) ?? c.min;
          c.max = hiding.alteredMax.get(q) ?? c.max;
        }
        if (mode === 'exclude_hidden' && hiding.alteredWeight.has(q)) c.weight = hiding.alteredWeight.get(q)!;
      }
    }
    cells[q] = c;
    return c;
  };
  const rows: ReportRow[] = [];
  for (const q of order) {
    const c = cellOf(q);
    if (!c.shown) continue;
    const node = nodes[q]!;
    const final = Number.isNaN(c.final) ? null : c.final;
    let contribution: number | null = null;
    if (node.kind === 'item' && c.weight !== null) {
      // [REP-5] normalised grade x the weights of every ancestor, as a percentage of the course total.
      const parentNatural = cats[node.parentCat]!.aggregation === 'natural';
      let g =
        final === null
          ? 0
          : parentNatural
            ? c.max !== 0
              ? final / c.max
              : 0
            : standardise(final, c.min, c.max, 0, 1);
      g *= c.weight;
      let p = cats[node.parentCat]!.node;
      while (p !== root) {
        const pc = cellOf(p);
        if (pc.weight !== null) g *= pc.weight;
        p = cats[nodes[p]!.parentCat]!.node;
      }
      contribution = g * 100;
    }
    rows.push({
      user: e.users[u]!,
      item: node.id,
      final,
      range: [c.min, c.max],
      percentage: percentage(final, c.min, c.max),
      weightPct: q === root || c.weight === null ? null : c.weight * 100,
      contributionPct: contribution,
      letter: gradeLetter(final, c.min, c.max, letters),
    });
  }
  return rows;
}

/** [REP-6] Gradebook setup: Natural weights (as percentages) and each node's maximum. */
export function setupRows(e: GradeEngine, order: readonly number[] = reportOrder(e)): SetupRow[] {
  const { nodes, cats, root } = e.course;
  return order.map((q) => {
    const n = nodes[q]!;
    const parentNatural = q !== root && cats[n.parentCat]!.aggregation === 'natural';
    const inWeights = parentNatural && cats[n.parentCat]!.weightChildren.includes(q);
    return {
      item: n.id,
      setupWeightPct: inWeights ? Math.round(n.coef2 * 1e5) / 1e3 : null,
      grademax: n.max,
    };
  });
}

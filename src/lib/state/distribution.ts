// Grade distributions and a student's trend, computed from the engine's final grades. Pure (no Svelte,
// no storage): the statistics page and its tests share it.
import { percentage } from '../domain/gradebook/display';
import type { GridColumn, GridModel, GridRow } from './grid-model';

export interface Bin {
  /** Lower bound in percent (inclusive); the last bin includes 100. */
  from: number;
  to: number;
  count: number;
}

export interface Distribution {
  bins: Bin[];
  graded: number;
  ungraded: number;
  mean: number | null;
  median: number | null;
}

/** Histogram of a column's grades as percentages of each user's range, in `width`-percent bins. */
export function distribution(model: GridModel, col: GridColumn, rows: readonly GridRow[], width = 10): Distribution {
  const n = Math.ceil(100 / width);
  const bins: Bin[] = Array.from({ length: n }, (_, k) => ({ from: k * width, to: Math.min(100, (k + 1) * width), count: 0 }));
  const values: number[] = [];
  let ungraded = 0;
  for (const r of rows) {
    const v = model.final(col, r);
    if (v === null) {
      ungraded++;
      continue;
    }
    // the user's own range (Natural totals have per-user maxima)
    const p = percentage(v, model.engine.gradeMin(col.q, r.u), model.engine.gradeMax(col.q, r.u));
    if (p === null) continue;
    values.push(p);
    bins[Math.min(n - 1, Math.floor(p / width))]!.count++;
  }
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return {
    bins,
    graded: values.length,
    ungraded,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
    median: values.length ? (values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2) : null,
  };
}

export interface TrendPoint {
  item: string;
  name: string;
  percent: number | null;
  /** The class mean of the same item, for comparison. */
  classPercent: number | null;
}

/** A student's percentage on each graded item, in gradebook order, beside the class mean. */
export function studentTrend(model: GridModel, row: GridRow): TrendPoint[] {
  return model.columns
    .filter((c) => c.kind === 'item')
    .map((c) => {
      const v = model.final(c, row);
      const d = distribution(model, c, model.rows);
      return { item: c.id, name: c.name, percent: v === null ? null : percentage(v, c.min, c.max), classPercent: d.mean };
    });
}

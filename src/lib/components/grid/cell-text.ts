// Views of grader-grid cells (text, classes, markers), cached per column for one model version and display type, so
// a scrolled frame only looks them up. Never formats a cell nobody asked for; never serves text across versions.
import { formatGrade, type DisplayType } from '../../domain/gradebook/display';
import { columnMean, type ColumnMean, type GridColumn, type GridRow, type GridView } from '../../state/grid-model';

/**
 * Follows the model a cache was filled from: the cells patched since (same snapshot), or null when everything must
 * go (another snapshot or a model that cannot say). Shared by the text and mean caches.
 */
class ModelFollower {
  private model: GridView | null = null;
  private source: object | null = null;
  private seq = 0;

  /** Null: unchanged model. Otherwise the cells changed since the last model, or 'all'. */
  next(model: GridView): Iterable<{ col: string; u: number }> | 'all' | null {
    if (model === this.model) return null;
    const source = model.source ?? model;
    const changed = source === this.source ? (model.changedSince?.(this.seq) ?? null) : null;
    this.model = model;
    this.source = source;
    this.seq = model.seq ?? 0;
    return changed ?? 'all';
  }
}

/** Cells a CellCache keeps at most: a few screens (a 1280 x 800 screen shows about 500). */
const KEEP_MAX = 4096;

/**
 * Values computed per cell (a cell's text, its whole view) for one model version and one `key` (the display type,
 * the set of conflicts: anything else the value depends on, compared by identity). Another key, or a model over
 * other data, drops everything; a model over the same snapshot after patches drops only the patched cells (every
 * cell when the model cannot say which). A value kept is returned as the same object, so whatever was drawn from
 * it need not be drawn again.
 */
export class CellCache<V> {
  private readonly follower = new ModelFollower();
  private key: unknown = undefined;
  /** Per column id, values by the row's engine user index (filled as cells come into view). */
  private byCol = new Map<string, (V | undefined)[]>();
  /** Values made since the cache was last emptied. */
  private kept = 0;

  private clear(): void {
    this.byCol.clear();
    this.kept = 0;
  }

  get(model: GridView, col: GridColumn, row: GridRow, key: unknown, make: (model: GridView, col: GridColumn, row: GridRow) => V): V {
    const changed = this.follower.next(model);
    if (key !== this.key) {
      this.key = key;
      this.clear();
    } else if (changed === 'all') this.clear();
    else if (changed)
      for (const { col, u } of changed) {
        const values = this.byCol.get(col);
        if (values) values[u] = undefined;
      }
    let values = this.byCol.get(col.id);
    if (!values) this.byCol.set(col.id, (values = []));
    let v = values[row.u];
    if (v === undefined) {
      // scrolling through a big class would otherwise keep a value for every cell ever shown (old objects for the
      // garbage collector to mark, pauses that drop frames): start again once a few screens' worth are kept
      if (++this.kept > KEEP_MAX) {
        this.clear();
        this.kept = 1;
        this.byCol.set(col.id, (values = []));
      }
      values[row.u] = v = make(model, col, row);
    }
    return v;
  }
}

/** A cell's grade as text in a display type (a scale item always shows its scale word, as the grid always has). */
export function gradeText(model: GridView, col: GridColumn, row: GridRow, type: DisplayType): string {
  return formatGrade(model.final(col, row), col.scale ? 'real' : type, { min: col.min, max: col.max, scale: col.scale });
}

/**
 * Column means over a list of rows (everyone, a group), kept per column while the rows and the data stay the same:
 * after a patch only the columns it touched (an item, its category totals, the course total) are averaged again,
 * not every column in view over every student.
 */
export class ColumnMeanCache {
  private readonly follower = new ModelFollower();
  /** Per row list (a few at most: everyone, the selected group), mean by column id. */
  private byRows = new Map<readonly GridRow[], Map<string, ColumnMean>>();

  mean(model: GridView, col: GridColumn, rows: readonly GridRow[]): ColumnMean {
    const changed = this.follower.next(model);
    if (changed === 'all') this.byRows.clear();
    else if (changed) for (const c of changed) for (const means of this.byRows.values()) means.delete(c.col);
    let means = this.byRows.get(rows);
    if (!means) {
      if (this.byRows.size >= 4) this.byRows.clear(); // lists of groups no longer shown
      this.byRows.set(rows, (means = new Map()));
    }
    let m = means.get(col.id);
    if (!m) means.set(col.id, (m = columnMean(model, col, rows)));
    return m;
  }
}

// Formatted grade text of grader-grid cells, cached per column for one model version and display type, so a
// scrolled frame only looks strings up. Never formats a cell nobody asked for; never serves text across versions.
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

export class CellTextCache {
  private readonly follower = new ModelFollower();
  private type: DisplayType | null = null;
  /** Per column id, text by the row's engine user index (filled as cells come into view). */
  private byCol = new Map<string, (string | undefined)[]>();

  /**
   * The text of a cell. Another display type, or a model over other data, drops everything cached; a model over the
   * same snapshot after patches drops only the patched cells (every cell when the model cannot say which), so a
   * frame after an edit formats only the cells the edit changed.
   */
  text(model: GridView, col: GridColumn, row: GridRow, type: DisplayType): string {
    const changed = this.follower.next(model);
    if (type !== this.type) {
      this.type = type;
      this.byCol.clear();
    } else if (changed === 'all') this.byCol.clear();
    else if (changed)
      for (const { col, u } of changed) {
        const texts = this.byCol.get(col);
        if (texts) texts[u] = undefined;
      }
    let texts = this.byCol.get(col.id);
    if (!texts) this.byCol.set(col.id, (texts = []));
    let t = texts[row.u];
    if (t === undefined) {
      // a scale item always shows its scale word, whatever the display type (as the grid always has)
      t = formatGrade(model.final(col, row), col.scale ? 'real' : type, { min: col.min, max: col.max, scale: col.scale });
      texts[row.u] = t;
    }
    return t;
  }
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

// Formatted grade text of grader-grid cells, cached per column for one model version and display type, so a
// scrolled frame only looks strings up. Never formats a cell nobody asked for; never serves text across versions.
import { formatGrade, type DisplayType } from '../../domain/gradebook/display';
import type { GridColumn, GridRow, GridView } from '../../state/grid-model';

export class CellTextCache {
  private model: GridView | null = null;
  /** The data behind the cached texts (a snapshot, the same across its patches) and the patches they include. */
  private source: object | null = null;
  private seq = 0;
  private type: DisplayType | null = null;
  /** Per column id, text by the row's engine user index (filled as cells come into view). */
  private byCol = new Map<string, (string | undefined)[]>();

  /**
   * The text of a cell. Another display type, or a model over other data, drops everything cached; a model over the
   * same snapshot after patches drops only the patched cells (every cell when the model cannot say which), so a
   * frame after an edit formats only the cells the edit changed.
   */
  text(model: GridView, col: GridColumn, row: GridRow, type: DisplayType): string {
    if (model !== this.model || type !== this.type) this.follow(model, type);
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

  private follow(model: GridView, type: DisplayType): void {
    const source = model.source ?? model;
    const seq = model.seq ?? 0;
    const changed = type === this.type && source === this.source ? model.changedSince?.(this.seq) : null;
    if (changed) for (const { col, u } of changed) {
      const texts = this.byCol.get(col);
      if (texts) texts[u] = undefined;
    }
    else this.byCol.clear();
    this.model = model;
    this.source = source;
    this.seq = seq;
    this.type = type;
  }
}

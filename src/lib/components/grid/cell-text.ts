// Formatted grade text of grader-grid cells, cached per column for one model version and display type, so a
// scrolled frame only looks strings up. Never formats a cell nobody asked for; never serves text across versions.
import { formatGrade, type DisplayType } from '../../domain/gradebook/display';
import type { GridColumn, GridRow, GridView } from '../../state/grid-model';

export class CellTextCache {
  private model: GridView | null = null;
  private type: DisplayType | null = null;
  /** Per column id, text by the row's engine user index (filled as cells come into view). */
  private byCol = new Map<string, (string | undefined)[]>();

  /**
   * The text of a cell. A different model object (the live model is replaced on every change) or display type
   * drops everything cached, so a frame after an edit formats only the cells it shows.
   */
  text(model: GridView, col: GridColumn, row: GridRow, type: DisplayType): string {
    if (model !== this.model || type !== this.type) {
      this.model = model;
      this.type = type;
      this.byCol.clear();
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

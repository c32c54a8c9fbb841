// Which rows and columns of the grader grid are in the DOM for a scroll position: the ones in view plus an
// overscan margin. Pure arithmetic on fixed row heights and column widths; never reads the DOM.

export interface GridGeometry {
  rowH: number;
  colW: number;
  /** Width of the frozen name column at the left. */
  nameW: number;
  /** Rows kept beyond each edge of the view. */
  overscan: number;
  /** Columns kept beyond each edge of the view. */
  colOverscan: number;
}

export interface GridWindow {
  /** Rows [first, last) and columns [firstCol, lastCol) are rendered. */
  first: number;
  last: number;
  firstCol: number;
  lastCol: number;
  /**
   * How many rows and columns a window of this view holds, wherever it is scrolled (fewer only when the course has
   * fewer). Keying rendered rows by `index % rowSlots` (columns by `index % colSlots`) gives a row leaving the
   * window the same key as the row entering it, so its elements are reused.
   */
  rowSlots: number;
  colSlots: number;
}

export function gridWindow(
  g: GridGeometry,
  view: { scrollTop: number; scrollLeft: number; height: number; width: number },
  rows: number,
  cols: number,
): GridWindow {
  const top = Math.max(0, view.scrollTop);
  const left = Math.max(0, view.scrollLeft);
  // a fixed number of rows and columns: what the view can show when it is scrolled to a fraction of a row, plus the
  // overscan on both sides; near the end the window shifts back rather than shrinking
  const rowSlots = Math.ceil(Math.max(0, view.height) / g.rowH) + 1 + 2 * g.overscan;
  const colSlots = Math.ceil(Math.max(0, view.width - g.nameW) / g.colW) + 1 + 2 * g.colOverscan;
  const first = Math.max(0, Math.min(Math.floor(top / g.rowH) - g.overscan, rows - rowSlots));
  const last = Math.min(rows, first + rowSlots);
  const firstCol = Math.max(0, Math.min(Math.floor(left / g.colW) - g.colOverscan, cols - colSlots));
  const lastCol = Math.min(cols, firstCol + colSlots);
  return { first, last, firstCol, lastCol, rowSlots, colSlots };
}

/** The integers [from, to). */
export function indexRange(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

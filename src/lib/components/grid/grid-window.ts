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
}

export function gridWindow(
  g: GridGeometry,
  view: { scrollTop: number; scrollLeft: number; height: number; width: number },
  rows: number,
  cols: number,
): GridWindow {
  const top = Math.max(0, view.scrollTop);
  const left = Math.max(0, view.scrollLeft);
  const first = Math.min(rows, Math.max(0, Math.floor(top / g.rowH) - g.overscan));
  const last = Math.max(first, Math.min(rows, Math.ceil((top + view.height) / g.rowH) + g.overscan));
  const firstCol = Math.min(cols, Math.max(0, Math.floor(left / g.colW) - g.colOverscan));
  const lastCol = Math.max(firstCol, Math.min(cols, Math.ceil((left + view.width - g.nameW) / g.colW) + g.colOverscan));
  return { first, last, firstCol, lastCol };
}

/** The integers [from, to). */
export function indexRange(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

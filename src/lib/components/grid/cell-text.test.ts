// Cached cell text of the grader grid: the same text as formatting the grade afresh, and never stale after the
// model changes (the live model object is replaced on every change) or the display type changes.
import { describe, expect, it } from 'vitest';
import { formatGrade, type DisplayType } from '../../domain/gradebook/display';
import type { GridColumn, GridRow, GridView } from '../../state/grid-model';
import { buildDemoSite } from '../../domain/interchange/demo';
import { buildGridModel, columnMean, snapshotGrid, viewFromSnapshot } from '../../state/grid-model';
import { GridReplica } from '../../state/regrade-replica';
import { CellCache, ColumnMeanCache, gradeText } from './cell-text';

/** Cached cell text as the grid gets it: gradeText through a CellCache keyed by the display type. */
class CellTextCache {
  private readonly cells = new CellCache<string>();
  text(model: GridView, col: GridColumn, row: GridRow, type: DisplayType): string {
    return this.cells.get(model, col, row, type, (m, c, r) => gradeText(m, c, r, type));
  }
}

function column(over: Partial<GridColumn> = {}): GridColumn {
  return { id: 'a1', q: 1, name: 'A1', kind: 'item', isCourse: false, depth: 1, min: 0, max: 20, scale: null, calculated: false, hidden: false, locked: false, category: 'c', ancestors: [], ...over };
}
const rowA: GridRow = { id: 's1', u: 0, name: 'Ann', groups: [] };
const rowB: GridRow = { id: 's2', u: 1, name: 'Bob', groups: [] };

/** A view over a table of finals (by column id, by user index) that counts how often a final is read. */
function view(finals: Record<string, (number | null)[]>): GridView & { reads: number } {
  const v = {
    reads: 0,
    columns: [],
    rows: [rowA, rowB],
    final: (col: GridColumn, row: GridRow) => {
      v.reads++;
      return finals[col.id]?.[row.u] ?? null;
    },
    overridden: () => false,
    excluded: () => false,
    lockedCell: () => false,
    hiddenCell: () => false,
    feedback: () => null,
  };
  return v;
}

describe('CellTextCache', () => {
  it('[UX-3] shows what formatGrade shows, and reads each grade once while the model stays the same', () => {
    const col = column();
    const m = view({ a1: [12.5, null] });
    const cache = new CellTextCache();
    const first = [cache.text(m, col, rowA, 'real'), cache.text(m, col, rowB, 'real')];
    expect(first).toEqual([formatGrade(12.5, 'real', { min: 0, max: 20, scale: null }), formatGrade(null, 'real', { min: 0, max: 20, scale: null })]);
    const reads = m.reads;
    // scrolling back over the same cells places the cached strings
    for (let i = 0; i < 5; i++) expect([cache.text(m, col, rowA, 'real'), cache.text(m, col, rowB, 'real')]).toEqual(first);
    expect(m.reads).toBe(reads);
  });

  it('[UX-3] a new model (a grade changed) or another display type is never served stale text', () => {
    const col = column();
    const finals = { a1: [12.5, 4] as (number | null)[] };
    const before = view(finals);
    const cache = new CellTextCache();
    const old = cache.text(before, col, rowA, 'real');
    const after = view({ a1: [18, 4] });
    expect(cache.text(after, col, rowA, 'real')).toBe(formatGrade(18, 'real', { min: 0, max: 20, scale: null }));
    expect(cache.text(after, col, rowA, 'real')).not.toBe(old);
    expect(cache.text(after, col, rowA, 'percentage')).toBe(formatGrade(18, 'percentage', { min: 0, max: 20, scale: null }));
    expect(cache.text(after, col, rowA, 'letter')).toBe(formatGrade(18, 'letter', { min: 0, max: 20, scale: null }));
  });

  it('[UX-3] keeps columns apart, and a scale item shows its scale word whatever the display type', () => {
    const scale = ['Poor', 'Fair', 'Good'];
    const points = column({ id: 'p', max: 10 });
    const scaled = column({ id: 's', min: 1, max: 3, scale });
    const m = view({ p: [2, null], s: [2, null] });
    const cache = new CellTextCache();
    expect(cache.text(m, points, rowA, 'percentage')).toBe(formatGrade(2, 'percentage', { min: 0, max: 10, scale: null }));
    expect(cache.text(m, scaled, rowA, 'percentage')).toBe('Fair');
  });

  it('[UX-3] after a patch to the same snapshot only the patched cells are formatted again; a lost log redraws all', () => {
    const model = buildGridModel(buildDemoSite().courses[0]!.gradebook, 0);
    const replica = new GridReplica();
    replica.set('t:1', snapshotGrid(model));
    const col = model.columns.find((c) => c.kind === 'item' && !c.calculated && !c.scale)!;
    const c = model.columns.indexOf(col);
    const [a, b] = model.rows as [GridRow, GridRow];
    const cache = new CellTextCache();
    const counted = (v: GridView) => {
      const out = { ...v, reads: 0 };
      out.final = (cc, r) => (out.reads++, v.final(cc, r));
      return out;
    };
    const v0 = counted(lazyView(replica));
    cache.text(v0, col, a, 'real');
    cache.text(v0, col, b, 'real');
    expect(replica.patch('t:1', { c: [c], u: [a.u], final: [19.5], flags: [0], feedback: [] })).toBe(true);
    const v1 = counted(lazyView(replica));
    expect(cache.text(v1, col, a, 'real')).toBe(formatGrade(19.5, 'real', { min: col.min, max: col.max, scale: null }));
    expect(cache.text(v1, col, b, 'real')).toBe(formatGrade(model.final(col, b), 'real', { min: col.min, max: col.max, scale: null }));
    expect(v1.reads).toBe(1); // the patched cell only
    // a view far behind (its patches fell out of the log) gets nothing stale either: everything is read again
    for (let k = 0; k < 70; k++) replica.patch('t:1', { c: [c], u: [b.u], final: [k % 20], flags: [0], feedback: [] });
    const v2 = counted(lazyView(replica));
    expect(cache.text(v2, col, b, 'real')).toBe(formatGrade(69 % 20, 'real', { min: col.min, max: col.max, scale: null }));
    expect(cache.text(v2, col, a, 'real')).toBe(formatGrade(19.5, 'real', { min: col.min, max: col.max, scale: null }));
    expect(v2.reads).toBe(2);
  });
});

describe('ColumnMeanCache', () => {
  it('[UX-3] means stay those of everyone after patches, averaging again only the columns a patch touched', () => {
    const model = buildGridModel(buildDemoSite().courses[0]!.gradebook, 0);
    const replica = new GridReplica();
    replica.set('t:1', snapshotGrid(model));
    const items = model.columns.filter((c) => c.kind === 'item' && !c.calculated && !c.scale);
    const [edited, other] = items as [GridColumn, GridColumn];
    const group = model.rows.slice(0, 5);
    const cache = new ColumnMeanCache();
    let reads = 0;
    const counted = (v: GridView): GridView => ({ ...v, final: (c, r) => (reads++, v.final(c, r)) });
    const v0 = counted(lazyView(replica));
    for (const rows of [model.rows, group]) for (const col of [edited, other]) expect(cache.mean(v0, col, rows)).toEqual(columnMean(v0, col, rows));
    replica.patch('t:1', { c: [model.columns.indexOf(edited)], u: [group[0]!.u], final: [0.5], flags: [0], feedback: [] });
    const v1 = counted(lazyView(replica));
    reads = 0;
    for (const rows of [model.rows, group]) for (const col of [edited, other]) expect(cache.mean(v1, col, rows)).toEqual(columnMean(lazyView(replica), col, rows));
    expect(reads).toBe(model.rows.length + group.length); // the edited column only, once per list of rows
  });
});

function lazyView(replica: GridReplica): GridView {
  return viewFromSnapshot(replica.snapshot!, replica.logForView());
}

describe('CellCache', () => {
  it('gives the same object for a cell until its data changes, and keeps a bounded number of cells', () => {
    const users = 3000;
    const finals = Array.from({ length: users }, (_, u) => u % 20);
    const m = view({ a1: finals });
    const cache = new CellCache<{ text: string }>();
    const make = (mm: GridView, col: GridColumn, row: GridRow) => ({ text: String(mm.final(col, row)) });
    const rowOf = (u: number): GridRow => ({ id: `s${u}`, u, name: '', groups: [] });
    const cols = [column(), column({ id: 'a2' }), column({ id: 'a3' })];
    const first = cache.get(m, cols[0]!, rowOf(0), 'real', make);
    expect(cache.get(m, cols[0]!, rowOf(0), 'real', make)).toBe(first);
    // scroll through 9,000 cells: more than a cache keeps
    for (const col of cols) for (let u = 0; u < users; u++) cache.get(m, col, rowOf(u), 'real', make);
    const again = cache.get(m, cols[0]!, rowOf(0), 'real', make);
    expect(again).not.toBe(first); // made afresh: the cache let old cells go
    expect(again).toEqual(first);
    expect(cache.get(m, cols[0]!, rowOf(0), 'percentage', make)).not.toBe(again); // another key: made afresh
  });
});

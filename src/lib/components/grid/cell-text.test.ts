// Cached cell text of the grader grid: the same text as formatting the grade afresh, and never stale after the
// model changes (the live model object is replaced on every change) or the display type changes.
import { describe, expect, it } from 'vitest';
import { formatGrade } from '../../domain/gradebook/display';
import type { GridColumn, GridRow, GridView } from '../../state/grid-model';
import { CellTextCache } from './cell-text';

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
});

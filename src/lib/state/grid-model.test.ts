import { describe, expect, it } from 'vitest';
import { buildDemoSite } from '../domain/interchange/demo';
import { applyCellToModel, buildGridModel, columnMean, snapshotGrid, sortRows, viewFromSnapshot, visibleColumns } from './grid-model';

const json = buildDemoSite().courses[0]!.gradebook;

describe('grid model', () => {
  it('[GRID-1] the read model shows exactly what the live model shows: finals and markers of every cell', () => {
    const model = buildGridModel(json, 0);
    // a structured clone, as IndexedDB stores it
    const view = viewFromSnapshot(structuredClone(snapshotGrid(model)));
    for (const col of model.columns)
      for (const row of model.rows) {
        expect(view.final(col, row)).toBe(model.final(col, row));
        expect([view.overridden(col, row), view.excluded(col, row), view.lockedCell(col, row), view.hiddenCell(col, row)]).toEqual([
          model.overridden(col, row),
          model.excluded(col, row),
          model.lockedCell(col, row),
          model.hiddenCell(col, row),
        ]);
      }
  });
  it('[GRID-2] an incremental cell update gives the same totals as rebuilding from the changed course', () => {
    const model = buildGridModel(json, 0);
    const g = { user: 's3', item: 'i-mid', final: 12 };
    applyCellToModel(model, g.item, g.user, g);
    const rebuilt = buildGridModel({ ...json, grades: [...json.grades.filter((x) => !(x.user === 's3' && x.item === 'i-mid')), g] }, 0);
    for (const col of model.columns) {
      const row = model.rows.find((r) => r.id === 's3')!;
      const row2 = rebuilt.rows.find((r) => r.id === 's3')!;
      expect(model.final(col, row)).toBe(rebuilt.final(rebuilt.columns.find((c) => c.id === col.id)!, row2));
    }
  });
  it("[GRID-3] means count every graded row; sorting puts empty grades last; collapsing hides a category's items", () => {
    const model = buildGridModel(json, 0);
    const final = model.columns.find((c) => c.id === 'i-final')!;
    const m = columnMean(model, final, model.rows);
    expect(m.count).toBe(model.rows.filter((r) => model.final(final, r) !== null).length);
    const sorted = sortRows(model, model.rows, final, -1);
    const vals = sorted.map((r) => model.final(final, r));
    const firstEmpty = vals.indexOf(null);
    expect(vals.slice(firstEmpty).every((v) => v === null)).toBe(true);
    const graded = vals.slice(0, firstEmpty) as number[];
    expect(graded).toEqual([...graded].sort((a, b) => b - a));
    const cols = visibleColumns(model.columns, { 'c-labs': 'totals' });
    expect(cols.some((c) => c.id === 'i-lab1')).toBe(false);
    expect(cols.some((c) => c.id === 'c-labs')).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { buildDemoSite } from '../domain/interchange/demo';
import { applyCellToModel, applyGridPatch, buildGridModel, columnMean, lazyGridModel, snapshotGrid, sortRows, viewFromSnapshot, visibleColumns } from './grid-model';

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
  it('[GRID-4] a patch that does not fit the grid (unknown column or user) changes nothing', () => {
    const model = buildGridModel(json, 0);
    const snap = snapshotGrid(model);
    const before = structuredClone(snap);
    const ok = applyGridPatch(snap, { c: [0, snap.columns.length], u: [0, 0], final: [1, 2], flags: [0, 0], feedback: [] });
    expect(ok).toBe(false);
    expect(snap.finals).toEqual(before.finals);
    expect(applyGridPatch(snap, { c: [0], u: [snap.users], final: [1], flags: [0], feedback: [] })).toBe(false);
    expect(snap.finals).toEqual(before.finals);
  });
  it('[GRID-5] feedback travels with the snapshot and its patches', () => {
    const model = buildGridModel(json, 0);
    const snap = snapshotGrid(model);
    const col = model.columns.find((c) => c.id === 'i-lab1')!;
    const row = model.rows[2]!;
    const c = snap.columns.indexOf(col);
    expect(applyGridPatch(snap, { c: [], u: [], final: [], flags: [], feedback: [{ c, u: row.u, text: 'Well argued' }] })).toBe(true);
    expect(viewFromSnapshot(snap).feedback(col, row)).toBe('Well argued');
    expect(applyGridPatch(snap, { c: [], u: [], final: [], flags: [], feedback: [{ c, u: row.u, text: null }] })).toBe(true);
    expect(viewFromSnapshot(snap).feedback(col, row)).toBe(null);
  });
  it('[GRID-6] a snapshot-backed model builds its engine only when a page reads it', () => {
    const model = buildGridModel(json, 0);
    let loads = 0;
    const lazy = lazyGridModel(snapshotGrid(model), () => {
      loads++;
      return { engine: model.engine, gradebook: model.gradebook };
    });
    const col = model.columns.at(-1)!;
    expect(lazy.final(col, model.rows[0]!)).toBe(model.final(col, model.rows[0]!));
    expect(loads).toBe(0);
    expect(lazy.engine.gradeMax(col.q, 0)).toBe(model.engine.gradeMax(col.q, 0));
    expect(loads).toBe(1);
  });
});

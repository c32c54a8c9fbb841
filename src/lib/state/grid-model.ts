// What the grader grid shows, derived from a course snapshot by the engine: columns in gradebook
// order (items, then their category total; the course total last), rows of users, final grades.
// Pure presentation model (no Svelte, no storage); what the regrade worker itself uses lives in workers/regrade-grid.ts.
import type { GradeEngine } from '../domain/gradebook/engine';
import { Gradebook } from '../domain/gradebook/index';
import type { CourseGrade, CourseJson } from '../domain/interchange/course-types';
import { applyCellToEngine, gridLayout, snapshotFromEngine, F_EXCLUDED, F_HIDDEN, F_LOCKED, F_OVERRIDDEN, type GridColumn, type GridRow, type GridSnapshot } from '../workers/regrade-grid';

export {
  applyCellToEngine,
  applyGridPatch,
  cellFlags,
  gridLayout,
  snapshotFromEngine,
  type GridColumn,
  type GridPatch,
  type GridRow,
  type GridSnapshot,
} from '../workers/regrade-grid';

/** What the grid needs to draw: also served from the device's read model before the engine is ready. */
export interface GridView {
  columns: GridColumn[];
  rows: GridRow[];
  /** Final grade of a column for a row, or null for "-". */
  final(col: GridColumn, row: GridRow): number | null;
  overridden(col: GridColumn, row: GridRow): boolean;
  excluded(col: GridColumn, row: GridRow): boolean;
  lockedCell(col: GridColumn, row: GridRow): boolean;
  /** The grade's own hidden flag (not the item's). */
  hiddenCell(col: GridColumn, row: GridRow): boolean;
  feedback(col: GridColumn, row: GridRow): string | null;
  /**
   * For views over a snapshot that is patched in place: the snapshot (the same object across its patches), how
   * many patches this view includes, and the cells patched after an earlier count (null: not known, redraw all).
   * A cache of what cells show keeps everything but those cells from one view to the next.
   */
  readonly source?: object;
  readonly seq?: number;
  changedSince?(seq: number): Iterable<{ col: string; u: number }> | null;
}

/** How a view over a snapshot learns which cells later patches changed (GridReplica keeps the log). */
export interface PatchLog {
  seq: number;
  changedSince(seq: number): { c: number; u: number }[] | null;
}

/** The live grid model: the view plus the engine behind it. */
export interface GridModel extends GridView {
  engine: GradeEngine;
  /** The engine's public API (reports, setup numbers). */
  gradebook: Gradebook;
}

export function buildGridModel(json: CourseJson, now: number): GridModel {
  const gradebook = new Gradebook(json, { now });
  const engine = gradebook.state;
  const { columns, rows } = gridLayout(json, engine);
  return {
    columns,
    rows,
    engine,
    gradebook,
    final: (col, row) => {
      const v = engine.derived.final[col.q]![row.u]!;
      return Number.isNaN(v) ? null : v;
    },
    overridden: (col, row) => engine.isOverridden(col.q, row.u),
    excluded: (col, row) => engine.isExcluded(col.q, row.u),
    lockedCell: (col, row) => engine.isLocked(col.q, row.u),
    hiddenCell: (col, row) => engine.gradeHiddenOwn(col.q, row.u),
    feedback: (col, row) => engine.feedback.get(col.q * engine.users.length + row.u) ?? null,
  };
}

/** applyCellToEngine on a live model's engine. */
export function applyCellToModel(model: GridModel, item: string, user: string, grade: CourseGrade | null): boolean {
  return applyCellToEngine(model.engine, item, user, grade);
}

export type CollapseMode = 'full' | 'grades' | 'totals';

/**
 * The columns shown when categories are collapsed (Moodle's grader report: "grades only" hides a category's
 * total, "totals only" hides everything inside it but its total). Pure.
 */
export function visibleColumns(columns: readonly GridColumn[], collapse: Readonly<Record<string, CollapseMode>>): GridColumn[] {
  return columns.filter((c) => {
    if (c.kind === 'category' && collapse[c.id] === 'grades' && !c.isCourse) return false;
    return !c.ancestors.some((a) => collapse[a] === 'totals');
  });
}

export interface ColumnMean {
  mean: number | null;
  count: number;
}

/** Mean of the final grades of a column over the given rows (all of them, not just those on screen), with the count. */
export function columnMean(model: GridView, col: GridColumn, rows: readonly GridRow[]): ColumnMean {
  let sum = 0;
  let count = 0;
  for (const r of rows) {
    const v = model.final(col, r);
    if (v !== null) {
      sum += v;
      count++;
    }
  }
  return { mean: count ? sum / count : null, count };
}

/** Rows sorted by a column's final grade (no grade last), ties by name; stable and pure. */
export function sortRows(model: GridView, rows: readonly GridRow[], col: GridColumn | null, dir: 1 | -1): GridRow[] {
  if (!col) return [...rows];
  return [...rows].sort((a, b) => {
    const x = model.final(col, a) ?? NaN;
    const y = model.final(col, b) ?? NaN;
    if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
    if (x !== y && !Number.isNaN(x)) return (x - y) * dir;
    return a.name.localeCompare(b.name);
  });
}

/** Copies what the grid shows out of the live model. */
export function snapshotGrid(model: GridModel): GridSnapshot {
  return snapshotFromEngine(model.engine, model.columns, model.rows);
}

/** Per snapshot, its column index by engine node (built once, shared by every view of its patched versions). */
const columnIndex = new WeakMap<GridSnapshot, Int32Array>();
/** Per feedback list (replaced, not changed, when a patch sets feedback), its texts by cell. */
const feedbackIndex = new WeakMap<[number, string][], Map<number, string>>();

/**
 * A read-only grid view over a snapshot. After a patch make a new view (so views redraw), passing the replica's
 * patch log so that what is cached per cell survives for the cells the patches left alone.
 */
export function viewFromSnapshot(s: GridSnapshot, log?: PatchLog): GridView {
  // Fast path: the grid draws this snapshot's own column objects, found by engine index; a column object from
  // another snapshot (a view kept across a rebuild) is found by id.
  let byQ = columnIndex.get(s);
  if (!byQ) {
    let maxQ = 0;
    for (const c of s.columns) maxQ = Math.max(maxQ, c.q);
    byQ = new Int32Array(maxQ + 1).fill(-1);
    for (let i = 0; i < s.columns.length; i++) byQ[s.columns[i]!.q] = i;
    columnIndex.set(s, byQ);
  }
  const index = byQ;
  let byId: Map<string, number> | null = null;
  const at = (col: GridColumn): number => {
    const i = index[col.q] ?? -1;
    if (i >= 0 && s.columns[i] === col) return i;
    byId ??= new Map(s.columns.map((c, k) => [c.id, k]));
    return byId.get(col.id) ?? -1;
  };
  const flag = (col: GridColumn, row: GridRow, bit: number) => ((s.flags[at(col)]?.[row.u] ?? 0) & bit) !== 0;
  const seq = log?.seq ?? 0;
  return {
    columns: s.columns,
    rows: s.rows,
    source: s,
    seq,
    changedSince: (from) => {
      if (from === seq) return [];
      const cells = log && from < seq ? log.changedSince(from) : null;
      return cells && cells.map(({ c, u }) => ({ col: s.columns[c]?.id ?? '', u }));
    },
    final: (col, row) => {
      const v = s.finals[at(col)]?.[row.u];
      return v === undefined || Number.isNaN(v) ? null : v;
    },
    overridden: (col, row) => flag(col, row, F_OVERRIDDEN),
    excluded: (col, row) => flag(col, row, F_EXCLUDED),
    lockedCell: (col, row) => flag(col, row, F_LOCKED),
    hiddenCell: (col, row) => flag(col, row, F_HIDDEN),
    feedback: (col, row) => {
      const list = s.feedback;
      if (!list?.length) return null;
      let fb = feedbackIndex.get(list);
      if (!fb) feedbackIndex.set(list, (fb = new Map(list)));
      return fb.get(at(col) * s.users + row.u) ?? null;
    },
  };
}

/**
 * A GridModel whose view is a snapshot and whose engine and gradebook are built only when first read (by
 * `load`, which the caller caches per document version): the grader page never builds an engine on the main thread.
 */
export function lazyGridModel(s: GridSnapshot, load: () => { engine: GradeEngine; gradebook: Gradebook }, log?: PatchLog): GridModel {
  const view = viewFromSnapshot(s, log);
  // defineProperty, not Object.assign or a spread: either would call the getters (build the engine) at once
  Object.defineProperty(view, 'engine', { get: () => load().engine, enumerable: true });
  Object.defineProperty(view, 'gradebook', { get: () => load().gradebook, enumerable: true });
  return view as GridModel;
}

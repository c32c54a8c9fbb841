// What the grader grid shows, derived from a course snapshot by the engine: columns in gradebook
// order (items, then their category total; the course total last), rows of users, final grades.
// Pure presentation model (no Svelte, no storage) so it can move into the regrade worker unchanged.
import type { GradeEngine } from '../domain/gradebook/engine';
import { Gradebook } from '../domain/gradebook/index';
import type { CourseGrade, CourseJson } from '../domain/interchange/course-types';

export interface GridColumn {
  /** Node id: item id, category id, or `course` for the course total (the root category). */
  id: string;
  /** Engine node index. */
  q: number;
  name: string;
  kind: 'item' | 'category';
  isCourse: boolean;
  depth: number;
  min: number;
  max: number;
  scale: readonly string[] | null;
  calculated: boolean;
  hidden: boolean;
  locked: boolean;
  /** Category this column belongs to (for collapsing): the item's category, or the category itself for a total. */
  category: string;
  /** Category ids from the course down to (not including) this column's own node. */
  ancestors: readonly string[];
}

export interface GridRow {
  id: string;
  u: number;
  name: string;
  groups: string[];
}

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
}

/** The live grid model: the view plus the engine behind it. */
export interface GridModel extends GridView {
  engine: GradeEngine;
  /** The engine's public API (reports, setup numbers). */
  gradebook: Gradebook;
}

/** Columns (gradebook order) and rows (sorted by name) of a course regraded by `engine`. Pure. */
export function gridLayout(json: CourseJson, engine: GradeEngine): { columns: GridColumn[]; rows: GridRow[] } {
  const { nodes, cats, root } = engine.course;
  const names = new Map((json.users ?? []).map((u) => [u.id, u]));
  const rows: GridRow[] = engine.users
    .map((id, u) => ({ id, u, name: names.get(id)?.name ?? id, groups: names.get(id)?.groups ?? [] }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));

  // Walk the tree depth-first: children in their stored order, each category's total after its children.
  const columns: GridColumn[] = [];
  const catByNode = new Map(cats.map((c) => [c.node, c]));
  const visit = (q: number, depth: number, ancestors: readonly string[]): void => {
    const n = nodes[q]!;
    const cat = catByNode.get(q);
    if (cat) for (const child of cat.allChildren) visit(child, depth + 1, [...ancestors, n.id]);
    columns.push({
      id: n.id,
      q,
      name: n.name,
      kind: n.kind,
      isCourse: q === root,
      depth,
      min: n.min,
      max: n.max,
      scale: n.scale,
      calculated: n.calculation !== null,
      hidden: engine.itemHidden(q),
      locked: engine.itemLocked(q),
      category: cat ? n.id : (nodes[cats[n.parentCat]?.node ?? q]?.id ?? ''),
      ancestors,
    });
  };
  visit(root, 0, []);
  return { columns, rows };
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

/**
 * Writes one cell's new state into the model's engine and regrades that user's dependents only.
 * Returns false when the cell's item or user is unknown to the engine (the caller rebuilds instead).
 */
export function applyCellToModel(model: GridModel, item: string, user: string, grade: CourseGrade | null): boolean {
  const engine = model.engine;
  const q = engine.course.byId.get(item);
  const u = engine.userIndex.get(user);
  if (q === undefined || u === undefined) return false;
  engine.setCell(q, u, {
    raw: grade?.raw ?? null,
    final: grade?.final ?? null,
    rawgrademin: grade?.rawgrademin ?? null,
    rawgrademax: grade?.rawgrademax ?? null,
    overridden: grade?.overridden ?? null,
    excluded: grade?.excluded ?? false,
    hidden: grade?.hidden ?? false,
    locked: grade?.locked ?? false,
    feedback: grade?.feedback ?? null,
  });
  return true;
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

/** The grid as last seen on this device, kept in IndexedDB so a course paints before its document loads. */
export interface GridSnapshot {
  columns: GridColumn[];
  rows: GridRow[];
  /** Per column (by position), final grades by engine user index; NaN = none. */
  finals: Float64Array[];
  /** Per column, per user: 1 overridden, 2 excluded, 4 locked, 8 hidden. */
  flags: Uint8Array[];
  users: number;
  /** Feedback texts by `column position * users + user index` (absent in read models saved before it was kept). */
  feedback?: [number, string][];
}

export const F_OVERRIDDEN = 1;
export const F_EXCLUDED = 2;
export const F_LOCKED = 4;
export const F_HIDDEN = 8;

/** One cell's markers as snapshot flag bits. */
export function cellFlags(engine: GradeEngine, q: number, u: number): number {
  return (
    (engine.isOverridden(q, u) ? F_OVERRIDDEN : 0) |
    (engine.isExcluded(q, u) ? F_EXCLUDED : 0) |
    (engine.isLocked(q, u) ? F_LOCKED : 0) |
    (engine.gradeHiddenOwn(q, u) ? F_HIDDEN : 0)
  );
}

/** Copies what the grid shows out of an engine: finals, markers and feedback, per column position. */
export function snapshotFromEngine(engine: GradeEngine, columns: GridColumn[], rows: GridRow[]): GridSnapshot {
  const users = engine.users.length;
  const finals: Float64Array[] = [];
  const flags: Uint8Array[] = [];
  const pos = new Map<number, number>();
  columns.forEach((col, c) => {
    pos.set(col.q, c);
    finals.push(Float64Array.from(engine.derived.final[col.q]!));
    const f = new Uint8Array(users);
    for (let u = 0; u < users; u++) f[u] = cellFlags(engine, col.q, u);
    flags.push(f);
  });
  const feedback: [number, string][] = [];
  for (const [key, text] of engine.feedback) {
    const c = pos.get(Math.floor(key / users));
    if (c !== undefined) feedback.push([c * users + (key % users), text]);
  }
  return { columns, rows, finals, flags, users, feedback };
}

/** Copies what the grid shows out of the live model. */
export function snapshotGrid(model: GridModel): GridSnapshot {
  return snapshotFromEngine(model.engine, model.columns, model.rows);
}

/**
 * What changed in a regraded grid after an incremental update: the cells (column position, user index) whose
 * final or markers were recomputed, and feedback texts set (text) or removed (null). Small; structured-clonable.
 */
export interface GridPatch {
  c: number[];
  u: number[];
  final: number[];
  flags: number[];
  feedback: { c: number; u: number; text: string | null }[];
}

/**
 * Writes a patch into a snapshot in place (its arrays are the grid's state). Returns false, changing nothing,
 * when the patch does not fit the snapshot (a column or user outside it): the caller then waits for a full one.
 */
export function applyGridPatch(s: GridSnapshot, p: GridPatch): boolean {
  const n = p.c.length;
  if (p.u.length !== n || p.final.length !== n || p.flags.length !== n) return false;
  const cols = s.finals.length;
  for (let k = 0; k < n; k++) if (!(p.c[k]! >= 0 && p.c[k]! < cols && p.u[k]! >= 0 && p.u[k]! < s.users)) return false;
  for (const f of p.feedback) if (!(f.c >= 0 && f.c < cols && f.u >= 0 && f.u < s.users)) return false;
  for (let k = 0; k < n; k++) {
    s.finals[p.c[k]!]![p.u[k]!] = p.final[k]!;
    s.flags[p.c[k]!]![p.u[k]!] = p.flags[k]!;
  }
  if (p.feedback.length) {
    const fb = new Map(s.feedback ?? []);
    for (const f of p.feedback) {
      const key = f.c * s.users + f.u;
      if (f.text === null) fb.delete(key);
      else fb.set(key, f.text);
    }
    s.feedback = [...fb];
  }
  return true;
}

/** A read-only grid view over a snapshot (read it again after a patch: make a new view so views redraw). */
export function viewFromSnapshot(s: GridSnapshot): GridView {
  const pos = new Map(s.columns.map((c, i) => [c.id, i]));
  const at = (col: GridColumn) => pos.get(col.id) ?? -1;
  const flag = (col: GridColumn, row: GridRow, bit: number) => ((s.flags[at(col)]?.[row.u] ?? 0) & bit) !== 0;
  let fb: Map<number, string> | null = null;
  return {
    columns: s.columns,
    rows: s.rows,
    final: (col, row) => {
      const v = s.finals[at(col)]?.[row.u];
      return v === undefined || Number.isNaN(v) ? null : v;
    },
    overridden: (col, row) => flag(col, row, F_OVERRIDDEN),
    excluded: (col, row) => flag(col, row, F_EXCLUDED),
    lockedCell: (col, row) => flag(col, row, F_LOCKED),
    hiddenCell: (col, row) => flag(col, row, F_HIDDEN),
    feedback: (col, row) => {
      if (!s.feedback?.length) return null;
      fb ??= new Map(s.feedback);
      return fb.get(at(col) * s.users + row.u) ?? null;
    },
  };
}

/**
 * A GridModel whose view is a snapshot and whose engine and gradebook are built only when first read (by
 * `load`, which the caller caches per document version): the grader page never builds an engine on the main thread.
 */
export function lazyGridModel(s: GridSnapshot, load: () => { engine: GradeEngine; gradebook: Gradebook }): GridModel {
  const view = viewFromSnapshot(s);
  // defineProperty, not Object.assign or a spread: either would call the getters (build the engine) at once
  Object.defineProperty(view, 'engine', { get: () => load().engine, enumerable: true });
  Object.defineProperty(view, 'gradebook', { get: () => load().gradebook, enumerable: true });
  return view as GridModel;
}

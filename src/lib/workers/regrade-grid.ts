// The grid's data as the regrade worker produces it: columns and rows of a regraded course, snapshots of finals and
// markers (typed arrays, transferable), and patches after incremental regrades. Pure: shared by the worker and the
// page (state/grid-model.ts re-exports it); never touches the DOM, storage or Svelte.
import type { GradeEngine } from '../domain/gradebook/engine.ts';
import type { CourseGrade, CourseJson } from '../domain/interchange/course-types.ts';

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

/**
 * Writes one cell's new state into an engine and regrades that user's dependents only.
 * Returns false when the cell's item or user is unknown to the engine (the caller rebuilds instead).
 */
export function applyCellToEngine(engine: GradeEngine, item: string, user: string, grade: CourseGrade | null): boolean {
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
  // one buffer for all finals and one for all flags, viewed per column: two transfers instead of two per column
  const allFinals = new Float64Array(columns.length * users);
  const allFlags = new Uint8Array(columns.length * users);
  const finals: Float64Array[] = [];
  const flags: Uint8Array[] = [];
  const pos = new Map<number, number>();
  columns.forEach((col, c) => {
    pos.set(col.q, c);
    const fin = allFinals.subarray(c * users, (c + 1) * users);
    fin.set(engine.derived.final[col.q]!);
    finals.push(fin);
    const f = allFlags.subarray(c * users, (c + 1) * users);
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
 * Adds to `out` the cells an incremental regrade of node `q` recomputed for one user (the node and everything that
 * depends on it: what regradeUser recomputes), read from engine user `eu` and written as grid user `gu`. `colOf`
 * gives a node's column position (negative or undefined: not a column); `seen` holds the keys (`node * users + eu`)
 * already added, so a cell is added once. The worker's patches and the page's row previews both list their cells
 * this way, which is why a worker patch always overwrites every cell a preview drew.
 */
export function addRegradedCells(
  out: GridPatch,
  engine: GradeEngine,
  q: number,
  eu: number,
  gu: number,
  colOf: (node: number) => number | undefined,
  seen: Set<number>,
): void {
  const users = engine.users.length;
  const deps = engine.course.dependents[q]!;
  for (let k = -1; k < deps.length; k++) {
    const n = k < 0 ? q : deps[k]!;
    const key = n * users + eu;
    if (seen.has(key)) continue;
    seen.add(key);
    const c = colOf(n);
    if (c === undefined || c < 0) continue;
    out.c.push(c);
    out.u.push(gu);
    out.final.push(engine.derived.final[n]![eu]!);
    out.flags.push(cellFlags(engine, n, eu));
  }
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

// A typed grade's totals in the same frame: the page regrades the edited user's row itself, on a one-user engine
// (engine.loadUserRow, REG-5), and patches its copy of the grid at once; the regrade worker's patch for the same
// change follows a few milliseconds later and overwrites exactly the same cells (the cell and what depends on it,
// for that user), so a preview can never leave a value behind that the worker did not confirm.
// No DOM, no storage: reads the page's document, writes nothing to it.
import type * as Y from 'yjs';
import { SEP, readSetup, readUserRecords, recordToGrade, requireEpoch } from '../crdt/course-doc';
import { compileGradebookFormula } from '../domain/formula/index';
import { GradeEngine } from '../domain/gradebook/engine';
import type { CourseGrade } from '../domain/interchange/course-types';
import { type GridPatch, type GridSnapshot } from './grid-model';
import { addRegradedCells } from '../workers/regrade-grid';

/** More users than this in one change (a paste, a sync batch) is left to the worker alone. */
export const PREVIEW_MAX_USERS = 4;

/** Column position by node id and row index by user id, per snapshot (a snapshot's layout never changes). */
const layouts = new WeakMap<GridSnapshot, { col: Map<string, number>; row: Map<string, number> }>();

function layoutOf(s: GridSnapshot): { col: Map<string, number>; row: Map<string, number> } {
  let l = layouts.get(s);
  if (!l) {
    l = { col: new Map(s.columns.map((c, i) => [c.id, i])), row: new Map(s.rows.map((r) => [r.id, r.u])) };
    layouts.set(s, l);
  }
  return l;
}

export class RowPreview {
  /** The one-user engine, built from the setup of one epoch; dropped on a setup change or a new epoch. */
  private built: { epoch: string; engine: GradeEngine | null } | null = null;

  constructor(private readonly doc: Y.Doc) {}

  /**
   * The grade rows of the users last previewed, by node index, so that a keystroke reads only the cells it changed.
   * Kept current by the changes every patch() call is given: the page passes every change of the document's cells
   * through patch() or forget().
   */
  private rows = new Map<string, (Omit<CourseGrade, 'user'> | null)[]>();

  /** The course setup changed: the next preview builds its engine again. */
  invalidate(): void {
    this.built = null;
    this.rows.clear();
  }

  /**
   * Builds the one-user engine now (several milliseconds for a few hundred items), so that the first grade typed
   * after a load or a setup change does not pay for it. Harmless when there is no course yet.
   */
  prepare(): void {
    try {
      this.engine();
    } catch {
      // no epoch yet: the first preview builds it
    }
  }

  /** Cells changed that were not given to patch(): the rows kept are read again when next needed. */
  forget(): void {
    this.rows.clear();
  }

  /**
   * The cells a change to `cells` (keys `item\0user`) recomputes, as a patch of snapshot `s`, evaluated at `now`
   * (unix seconds); null when there is nothing to preview (too many users, a cell the snapshot does not show).
   */
  patch(s: GridSnapshot, cells: Iterable<string>, now: number): GridPatch | null {
    const p = this.compute(s, cells, now);
    if (!p) this.rows.clear(); // some of the change may not have reached the rows kept
    return p;
  }

  private compute(s: GridSnapshot, cells: Iterable<string>, now: number): GridPatch | null {
    const byUser = new Map<string, Set<string>>();
    for (const key of cells) {
      const [item, user] = key.split(SEP) as [string, string];
      let items = byUser.get(user);
      if (!items) {
        if (byUser.size === PREVIEW_MAX_USERS) return null;
        byUser.set(user, (items = new Set()));
      }
      items.add(item);
    }
    if (!byUser.size) return null;
    const engine = this.engine();
    if (!engine) return null;
    const { nodes, byId } = engine.course;
    if (engine.now !== now) engine.now = now;
    const { col, row } = layoutOf(s);
    const out: GridPatch = { c: [], u: [], final: [], flags: [], feedback: [] };
    for (const [user, items] of byUser) {
      const u = row.get(user);
      if (u === undefined) return null;
      const grades = this.userRow(engine, user, items);
      if (!grades) return null;
      engine.loadUserRow(0, grades);
      const seen = new Set<number>();
      const colOf = (n: number): number | undefined => col.get(nodes[n]!.id);
      for (const item of items) addRegradedCells(out, engine, byId.get(item)!, 0, u, colOf, seen);
    }
    return out;
  }

  /** A user's grade rows with `changed` (item ids) read again; null when an item is not in this setup. */
  private userRow(engine: GradeEngine, user: string, changed: ReadonlySet<string>): Omit<CourseGrade, 'user'>[] | null {
    const { nodes, byId } = engine.course;
    for (const id of changed) if (!byId.has(id)) return null; // an item this setup does not have yet: the worker rebuilds
    let kept = this.rows.get(user);
    const ids = kept ? [...changed] : nodes.map((n) => n.id);
    const at = ids.map((id) => byId.get(id)!);
    if (!kept) {
      if (this.rows.size >= 2 * PREVIEW_MAX_USERS) this.rows.clear();
      this.rows.set(user, (kept = new Array<Omit<CourseGrade, 'user'> | null>(nodes.length).fill(null)));
    }
    const records = readUserRecords(this.doc, user, ids);
    for (let k = 0; k < ids.length; k++) kept[at[k]!] = recordToGrade(ids[k]!, user, records[k]!);
    return kept.filter((g) => g !== null);
  }

  /** The one-user engine of the current setup; null when the setup does not compile (the worker reports why). */
  private engine(): GradeEngine | null {
    const e = requireEpoch(this.doc);
    if (this.built?.epoch !== e.id) {
      const setup = readSetup(e);
      let engine: GradeEngine | null = null;
      try {
        engine = new GradeEngine(
          { categories: setup.categories, items: setup.items, settings: setup.settings, grades: [], users: [{ id: '', name: '' }] },
          { compileFormula: compileGradebookFormula },
        );
      } catch {
        // left to the worker, whose rebuild fails the same way and says so; no retry per keystroke
      }
      this.built = { epoch: e.id, engine };
      this.rows.clear(); // rows are kept by node index, which a new setup renumbers
    }
    return this.built.engine;
  }
}

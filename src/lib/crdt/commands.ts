// Validated gradebook commands: each is checked in full, then applied as ONE Yjs transaction whose origin is the actor.
// Never writes anything when a command (or any part of a bulk) is invalid; never lets a write hide a conflict.
import * as Y from 'yjs';
import type {
  Aggregation,
  CourseCategory,
  CourseItem,
  CourseSettings,
  FlagOrTime,
} from '../domain/interchange/course-types.ts';
import { AGGREGATIONS } from '../domain/interchange/course-types.ts';
import { isLockedAt } from '../domain/gradebook/flags.ts';
import type { Capability } from '../domain/shared/capabilities.ts';
import type { Clock } from '../domain/shared/clock.ts';
import type { Problem } from '../domain/shared/errors.ts';
import {
  SEP,
  cellSlots,
  appendHistory,
  devicesOf,
  epochBase,
  putSlot,
  hasControlChar,
  newId,
  requireEpoch,
  rowMap,
  rowToJson,
  toBaseCell,
  type Actor,
  type Epoch,
  type HistoryEntry,
  type HistoryHead,
  type RowCollection,
} from './course-doc.ts';
import {
  GRADE_FIELDS,
  canonical,
  mergeCell,
  writeSlot,
  type CellRecord,
  type GradeField,
  type GradeSlot,
  type GradeValue,
  type MergedCell,
} from './grade-register.ts';

// ---------------------------------------------------------------------------------------------------------------
// Commands

export type Command =
  | {
      type: 'setGrade';
      item: string;
      user: string;
      raw?: number | null;
      final?: number | null;
      rawgrademin?: number;
      rawgrademax?: number;
    }
  | { type: 'overrideGrade'; item: string; user: string; value: number | null }
  | { type: 'setFeedback'; item: string; user: string; feedback: string | null }
  | { type: 'excludeGrade'; item: string; user: string; excluded: boolean }
  | { type: 'lockGrade'; item: string; user: string; locked?: FlagOrTime }
  | { type: 'unlockGrade'; item: string; user: string }
  | { type: 'hideGrade'; item: string; user: string; hidden: FlagOrTime }
  | { type: 'resolveConflict'; item: string; user: string; field: GradeField; value: unknown }
  | { type: 'setItem'; item: Partial<CourseItem> & { id: string } }
  | { type: 'deleteItem'; id: string }
  | { type: 'moveItem'; id: string; category?: string; before?: string | null }
  /** Moves a category under `parent` (default: where it is), before the sibling category `before` (null: last). */
  | { type: 'moveCategory'; id: string; parent?: string; before?: string | null }
  | { type: 'setCategory'; category: Partial<CourseCategory> & { id: string } }
  | { type: 'deleteCategory'; id: string }
  | { type: 'setSettings'; settings: Partial<CourseSettings> }
  | { type: 'setUser'; user: { id: string; name: string; groups?: string[] } }
  | { type: 'bulk'; commands: Command[] }
  /** Internal inverse of a grade write (undo, revert): fields whose live value is no longer `expect` are skipped. */
  | {
      type: 'restoreCell';
      item: string;
      user: string;
      fields: CellRecord;
      expect?: Partial<Record<GradeField, string>>;
      /**
       * Canonical value the expected write held. The field also counts as unchanged when the same device has
       * since written that same value again (its own undo/redo put it back under a new origin).
       */
      expectValue?: Partial<Record<GradeField, string>>;
    }
  /** Internal inverse of a row change: null fields = delete the row; `expect` holds the values it must still have. */
  | {
      type: 'restoreRow';
      coll: RowCollection;
      id: string;
      fields: Record<string, unknown> | null;
      expect?: Record<string, unknown> | null;
      mustExist?: boolean;
    }
  | { type: 'restoreSettings'; fields: Record<string, unknown>; expect?: Record<string, unknown> }
  /**
   * Internal: replays an offline write that a re-base did not fold in. Fields whose current value is still
   * `old` take the write's value; the others keep every current value AND the write's value (a visible conflict).
   */
  | {
      type: 'rescueCell';
      item: string;
      user: string;
      old: CellRecord;
      fields: CellRecord;
      from: string;
      /** The epoch number the write was made in, and the cell counters its writer had seen there. */
      epoch: number;
      seen: Record<string, number>;
      /** Per field, origins (`device#epoch:counter`) the writer kept beside its own value: they stay. */
      held?: Partial<Record<GradeField, string[]>>;
    };

export type CommandType = Command['type'];

/**
 * The capability each command needs (names from domain/shared/capabilities.ts, after Moodle's lib/db/access.php).
 * Editing a grade, its feedback or exclusion and settling a conflict are guarded by grade:override, which stands
 * for Moodle's grade:edit here; setup by grade:manage; per-grade flags by grade:lock/unlock/hide.
 */
export const COMMAND_CAPABILITY: Readonly<
  Record<
    Exclude<CommandType, 'bulk' | 'restoreCell' | 'restoreRow' | 'restoreSettings' | 'rescueCell'>,
    Capability
  >
> = {
  setGrade: 'grade:override',
  overrideGrade: 'grade:override',
  setFeedback: 'grade:override',
  excludeGrade: 'grade:override',
  lockGrade: 'grade:lock',
  unlockGrade: 'grade:unlock',
  hideGrade: 'grade:hide',
  resolveConflict: 'grade:override',
  setItem: 'grade:manage',
  deleteItem: 'grade:manage',
  moveItem: 'grade:manage',
  moveCategory: 'grade:manage',
  setCategory: 'grade:manage',
  deleteCategory: 'grade:manage',
  setSettings: 'grade:manage',
  setUser: 'grade:manage',
};

const FIELD_CAPABILITY: Record<GradeField, Capability> = {
  grade: 'grade:override',
  overridden: 'grade:override',
  feedback: 'grade:override',
  excluded: 'grade:override',
  hidden: 'grade:hide',
  locked: 'grade:lock',
};

/** Every capability a command needs (a bulk needs the union), sorted. */
export function commandCapabilities(cmd: Command): Capability[] {
  const out = new Set<Capability>();
  const walk = (c: Command) => {
    if (c.type === 'bulk') c.commands.forEach(walk);
    else if (c.type === 'restoreCell' || c.type === 'rescueCell')
      for (const f of Object.keys(c.fields) as GradeField[]) out.add(FIELD_CAPABILITY[f]);
    else if (c.type === 'restoreRow' || c.type === 'restoreSettings') out.add('grade:manage');
    else out.add(COMMAND_CAPABILITY[c.type]);
  };
  walk(cmd);
  return [...out].sort();
}

/** The capability a history entry's change needs, so a server can check what an update wrote. */
export function entryCapabilities(e: HistoryEntry): Capability[] {
  if (e.k === 'grade') {
    const caps = new Set<Capability>();
    for (const f of Object.keys(e.new) as GradeField[]) {
      if (f === 'locked') caps.add(e.new.locked ? 'grade:lock' : 'grade:unlock');
      else caps.add(FIELD_CAPABILITY[f]);
    }
    return [...caps].sort();
  }
  if (e.k === 'row' || e.k === 'settings') return ['grade:manage'];
  return e.k === 'load' ? ['grade:import'] : ['grade:manage'];
}

export interface CommandContext {
  actor: Actor;
  clock: Clock;
  /** Where the change comes from (`grid`, `import`, `undo`, ...); default `app`. */
  src?: string;
}

export type CommandErrorCode = 'invalid' | 'not_found' | 'locked' | 'conflict' | 'empty';

/** Why a command was refused; `problems` name the field at fault (`setGrade.final`, `bulk[3].item.grademax`). */
export interface CommandError {
  code: CommandErrorCode;
  message: string;
  problems: Problem[];
}

export type CommandResult =
  | {
      ok: true;
      /** History entries written (one per changed cell/row/settings). */
      entries: HistoryEntry[];
      /** The command that undoes this one (own changes only); null when nothing changed. */
      inverse: Command | null;
      /** Parts skipped because someone else changed them since (restore commands only). */
      skipped: Problem[];
    }
  | { ok: false; error: CommandError };

// ---------------------------------------------------------------------------------------------------------------
// Planning: validate against the document plus the changes planned so far (a bulk sees its own earlier steps)

type Op =
  | {
      t: 'slot';
      item: string;
      user: string;
      slot: GradeSlot;
      old: CellRecord;
      neu: CellRecord;
      /** Fields this write settled from a conflict: their old value is several candidates, not `old`. */
      settled?: GradeField[];
    }
  | {
      t: 'row';
      coll: RowCollection;
      id: string;
      create: Record<string, unknown> | null;
      set: Record<string, unknown>;
      del: boolean;
      old: Record<string, unknown> | null;
      neu: Record<string, unknown> | null;
    }
  | { t: 'settings'; set: Record<string, unknown>; old: Record<string, unknown> };

class Fail {
  constructor(
    readonly code: CommandErrorCode,
    readonly problems: Problem[],
  ) {}
}

class Planner {
  readonly ops: Op[] = [];
  readonly skipped: Problem[] = [];
  private readonly rows = {
    items: new Map<string, Record<string, unknown> | null>(),
    categories: new Map<string, Record<string, unknown> | null>(),
    users: new Map<string, Record<string, unknown> | null>(),
  };
  private readonly cells = new Map<string, GradeSlot>();
  /** Index of the planned slot op of each cell (two steps of a bulk on one cell become one write). */
  private readonly slotOps = new Map<string, number>();
  /** Rows read from the document during this plan (a bulk of 1 000 grades reads its item 1 000 times). */
  private readonly readCache = new Map<string, Record<string, unknown> | null>();
  private settingsOverlay: Record<string, unknown> | null = null;
  readonly now: number;

  constructor(
    readonly e: Epoch,
    readonly ctx: CommandContext,
  ) {
    this.now = ctx.clock.now();
  }

  row(coll: RowCollection, id: string): Record<string, unknown> | null {
    const o = this.rows[coll];
    if (o.has(id)) return o.get(id) ?? null;
    const ck = coll + SEP + id;
    if (this.readCache.has(ck)) return this.readCache.get(ck) ?? null;
    let out: Record<string, unknown> | null;
    if (coll === 'users') {
      const u = this.e.users.get(id) as Record<string, unknown> | undefined;
      out = u ? { ...u } : null;
    } else {
      const m = this.e[coll].get(id);
      out = m ? rowToJson(m) : null;
    }
    this.readCache.set(ck, out);
    return out;
  }

  allRows(coll: 'items' | 'categories'): Record<string, unknown>[] {
    const ids = new Set<string>([...this.e[coll].keys(), ...this.rows[coll].keys()]);
    const out: Record<string, unknown>[] = [];
    for (const id of ids) {
      const r = this.row(coll, id);
      if (r) out.push(r);
    }
    return out;
  }

  settings(): Record<string, unknown> {
    return this.settingsOverlay ?? rowToJson(this.e.settings);
  }

  slots(item: string, user: string): GradeSlot[] {
    const key = item + SEP + user;
    const own = this.cells.get(key);
    const doc = cellSlots(this.e, item, user);
    if (!own) return doc;
    return [...doc.filter((s) => s.d !== own.d), own];
  }

  cell(item: string, user: string): MergedCell {
    const { cells } = epochBase(this.e);
    return mergeCell(toBaseCell(cells.get(item + SEP + user)), this.slots(item, user));
  }

  writeCell(
    item: string,
    user: string,
    patch: CellRecord,
    keepBoth: readonly GradeField[] = [],
    keepIf: (f: GradeField, k: { dev: string; c: number; value: unknown }) => boolean = () => true,
  ): { slot: GradeSlot; before: MergedCell } {
    const { cells } = epochBase(this.e);
    const slots = this.slots(item, user);
    const baseCell = toBaseCell(cells.get(item + SEP + user));
    const before = mergeCell(baseCell, slots);
    const slot = writeSlot(baseCell, slots, this.ctx.actor.deviceId, patch, {
      by: this.ctx.actor.userId,
      at: this.now,
      src: this.ctx.src ?? 'app',
    });
    for (const f of keepBoth) {
      // The write's own value joins the current candidates instead of replacing them.
      const cands = (before.live[f] ?? []).filter((k) => keepIf(f, k));
      slot.f[f] = [
        ...cands.map((k): [unknown, string, number, string, number] => [k.value, k.dev, k.c, k.by, k.at]),
        [patch[f]],
      ];
    }
    const key = item + SEP + user;
    const prevOp = this.slotOps.get(key) ?? -1;
    const old: CellRecord = {};
    const neu: CellRecord = {};
    for (const f of Object.keys(patch) as GradeField[]) {
      (old as Record<string, unknown>)[f] = before.record[f] ?? null;
      (neu as Record<string, unknown>)[f] = patch[f];
    }
    if (prevOp >= 0) {
      // Two steps of one bulk on the same cell become one write (one slot, one history entry).
      const prev = this.ops[prevOp] as Extract<Op, { t: 'slot' }>;
      slot.c = prev.slot.c;
      slot.vv = prev.slot.vv;
      this.ops[prevOp] = { ...prev, slot, old: { ...old, ...prev.old }, neu: { ...prev.neu, ...neu } };
    } else this.slotOps.set(key, this.ops.push({ t: 'slot', item, user, slot, old, neu }) - 1);
    this.cells.set(key, slot);
    return { slot, before };
  }

  markSettled(item: string, user: string, f: GradeField): void {
    const i = this.slotOps.get(item + SEP + user);
    const op = i === undefined ? undefined : this.ops[i];
    if (op?.t === 'slot') op.settled = [...(op.settled ?? []), f];
  }

  setRow(coll: RowCollection, id: string, fields: Record<string, unknown> | null, create: boolean): void {
    const cur = this.row(coll, id);
    if (fields === null) {
      if (!cur) return;
      this.ops.push({ t: 'row', coll, id, create: null, set: {}, del: true, old: cur, neu: null });
      this.rows[coll].set(id, null);
      return;
    }
    if (create || !cur) {
      const row = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      this.ops.push({ t: 'row', coll, id, create: row, set: {}, del: false, old: null, neu: row });
      this.rows[coll].set(id, row);
      return;
    }
    const set: Record<string, unknown> = {};
    const old: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (canonical(cur[k]) === canonical(v)) continue;
      set[k] = v;
      old[k] = cur[k] === undefined ? null : cur[k];
    }
    if (!Object.keys(set).length) return;
    this.ops.push({ t: 'row', coll, id, create: null, set, del: false, old, neu: set });
    const next = { ...cur };
    for (const [k, v] of Object.entries(set)) {
      if (v === null || v === undefined) delete next[k];
      else next[k] = v;
    }
    this.rows[coll].set(id, next);
  }

  setSettings(fields: Record<string, unknown>): void {
    const cur = this.settings();
    const set: Record<string, unknown> = {};
    const old: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (canonical(cur[k]) === canonical(v)) continue;
      set[k] = v;
      old[k] = cur[k] === undefined ? null : cur[k];
    }
    if (!Object.keys(set).length) return;
    this.ops.push({ t: 'settings', set, old });
    const next = { ...cur };
    for (const [k, v] of Object.entries(set)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.settingsOverlay = next;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation helpers

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isFlagOrTime = (v: unknown): v is FlagOrTime => typeof v === 'boolean' || (isNum(v) && v >= 0);

/**
 * Locked now: true, or a lock time that has passed. The same rule as the engine and the server guard
 * (domain/gradebook/flags.ts isLockedAt, after Moodle lib/grade/grade_grade.php is_locked() and
 * lib/grade/grade_item.php check_locktime()) [CRDT-5].
 */
function flagActive(v: unknown, now: number): boolean {
  return (typeof v === 'boolean' || typeof v === 'number') && isLockedAt(v, now);
}

function itemLockedNow(item: Record<string, unknown> | null, now: number): boolean {
  return !!item && flagActive(item.locked, now);
}

function requireText(p: Problem[], at: string, v: unknown, allowEmpty = false): void {
  if (typeof v !== 'string' || (!allowEmpty && v.trim() === '') || hasControlChar(v))
    p.push({
      at,
      message: allowEmpty ? 'expected a string' : 'expected a non-empty id/text without control characters',
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Planning each command

function gradeTarget(pl: Planner, at: string, item: unknown, allowTotals: boolean): Record<string, unknown> {
  const p: Problem[] = [];
  requireText(p, `${at}.item`, item);
  if (p.length) throw new Fail('invalid', p);
  const it = pl.row('items', item as string);
  if (it) return it;
  if (allowTotals && (item === 'course' || pl.row('categories', item as string))) return {};
  throw new Fail('not_found', [{ at: `${at}.item`, message: `no grade item "${String(item)}"` }]);
}

function planCellPatch(
  pl: Planner,
  at: string,
  cmd: { item: string; user: string },
  patch: CellRecord,
  opts: { allowTotals?: boolean; ignoreLock?: boolean; resolving?: boolean } = {},
): void {
  const item = gradeTarget(pl, at, cmd.item, !!opts.allowTotals);
  const p: Problem[] = [];
  requireText(p, `${at}.user`, cmd.user);
  if (p.length) throw new Fail('invalid', p);
  const state = pl.cell(cmd.item, cmd.user);
  if (!opts.ignoreLock) {
    if (itemLockedNow(item, pl.now))
      throw new Fail('locked', [{ at: `${at}.item`, message: `grade item "${cmd.item}" is locked` }]);
    if (flagActive(state.record.locked, pl.now))
      throw new Fail('locked', [
        { at: `${at}.user`, message: `the grade of "${cmd.user}" in "${cmd.item}" is locked` },
      ]);
  }
  if (!opts.resolving) {
    for (const f of Object.keys(patch) as GradeField[]) {
      if (state.conflicts[f])
        throw new Fail('conflict', [
          {
            at: `${at}.${f}`,
            message: `the ${f} of "${cmd.user}" in "${cmd.item}" is in conflict; settle it with resolveConflict first`,
          },
        ]);
    }
  }
  // Nothing to write when every patched field already holds exactly that single value.
  const same = (Object.keys(patch) as GradeField[]).every(
    (f) => !state.conflicts[f] && canonical(state.record[f] ?? null) === canonical(patch[f] ?? null),
  );
  if (same) return;
  pl.writeCell(cmd.item, cmd.user, patch);
}

function planSetGrade(pl: Planner, at: string, c: Extract<Command, { type: 'setGrade' }>): void {
  const p: Problem[] = [];
  const item = gradeTarget(pl, at, c.item, false);
  for (const k of ['raw', 'final'] as const) {
    const v = c[k];
    if (v !== undefined && v !== null && !isNum(v))
      p.push({ at: `${at}.${k}`, message: 'expected a finite number or null' });
  }
  for (const k of ['rawgrademin', 'rawgrademax'] as const) {
    const v = c[k];
    if (v !== undefined && !isNum(v)) p.push({ at: `${at}.${k}`, message: 'expected a finite number' });
  }
  if (isNum(c.raw) && isNum(c.final)) p.push({ at: `${at}.final`, message: 'give raw or final, not both' });
  if (isNum(c.rawgrademin) && isNum(c.rawgrademax) && c.rawgrademin >= c.rawgrademax)
    p.push({ at: `${at}.rawgrademax`, message: 'must be greater than rawgrademin' });
  if (
    isNum(c.final) &&
    isNum(item.grademin) &&
    isNum(item.grademax) &&
    (c.final < item.grademin || c.final > item.grademax)
  )
    p.push({ at: `${at}.final`, message: `out of the item range [${item.grademin}, ${item.grademax}]` });
  if (item.gradetype === 'scale') {
    const n = Array.isArray(item.scale) ? item.scale.length : 0;
    for (const k of ['raw', 'final'] as const) {
      const v = c[k];
      if (isNum(v) && (!Number.isInteger(v) || v < 1 || v > n))
        p.push({ at: `${at}.${k}`, message: `a scale grade is a whole number from 1 to ${n}` });
    }
  }
  if (typeof item.calculation === 'string' && item.calculation !== '')
    p.push({ at: `${at}.item`, message: `"${c.item}" is calculated; override it instead` });
  if (p.length) throw new Fail('invalid', p);
  let grade: GradeValue | null = null;
  if (isNum(c.raw) || isNum(c.final)) {
    grade = {};
    if (isNum(c.raw)) grade.raw = c.raw;
    if (isNum(c.final)) grade.final = c.final;
    if (isNum(c.rawgrademin)) grade.rawgrademin = c.rawgrademin;
    if (isNum(c.rawgrademax)) grade.rawgrademax = c.rawgrademax;
  }
  planCellPatch(pl, at, c, { grade });
}

function planCategoryOrItemFlagsAreValid(p: Problem[], at: string, row: Record<string, unknown>): void {
  for (const k of ['hidden', 'locked'] as const)
    if (row[k] !== undefined && row[k] !== null && !isFlagOrTime(row[k]))
      p.push({ at: `${at}.${k}`, message: 'expected true/false or unix seconds' });
  for (const k of ['weight'] as const)
    if (row[k] !== undefined && row[k] !== null && !isNum(row[k]))
      p.push({ at: `${at}.${k}`, message: 'expected a number or null' });
  for (const k of ['weightOverride', 'extraCredit'] as const)
    if (row[k] !== undefined && typeof row[k] !== 'boolean')
      p.push({ at: `${at}.${k}`, message: 'expected true or false' });
  if (row.extraCreditWeight !== undefined && !isNum(row.extraCreditWeight))
    p.push({ at: `${at}.extraCreditWeight`, message: 'expected a number' });
  if (row.calculation !== undefined && row.calculation !== null && typeof row.calculation !== 'string')
    p.push({ at: `${at}.calculation`, message: 'expected a formula string or null' });
}

function nextSortorder(pl: Planner, coll: 'items' | 'categories'): number {
  let max = 0;
  for (const r of pl.allRows(coll)) max = Math.max(max, Number(r.sortorder ?? 0));
  return max + 1;
}

function planSetItem(pl: Planner, at: string, c: Extract<Command, { type: 'setItem' }>): void {
  const p: Problem[] = [];
  const input = c.item as unknown as Record<string, unknown>;
  if (!input || typeof input !== 'object')
    throw new Fail('invalid', [{ at: `${at}.item`, message: 'expected an item object' }]);
  requireText(p, `${at}.item.id`, input.id);
  if (p.length) throw new Fail('invalid', p);
  const id = input.id as string;
  if (id === 'course' || pl.row('categories', id))
    throw new Fail('invalid', [{ at: `${at}.item.id`, message: `"${id}" is a category id` }]);
  const cur = pl.row('items', id);
  const next = { ...(cur ?? {}), ...input } as Record<string, unknown>;
  const ia = `${at}.item`;
  requireText(p, `${ia}.name`, next.name);
  requireText(p, `${ia}.category`, next.category);
  if (typeof next.idnumber !== 'string') p.push({ at: `${ia}.idnumber`, message: 'expected a string' });
  if (typeof next.category === 'string' && !pl.row('categories', next.category))
    p.push({ at: `${ia}.category`, message: `unknown category "${next.category}"` });
  if (!isNum(next.grademin)) p.push({ at: `${ia}.grademin`, message: 'expected a number' });
  if (!isNum(next.grademax)) p.push({ at: `${ia}.grademax`, message: 'expected a number' });
  if (isNum(next.grademin) && isNum(next.grademax) && next.grademin >= next.grademax)
    p.push({ at: `${ia}.grademax`, message: 'must be greater than grademin' });
  if (next.gradetype !== undefined && next.gradetype !== 'value' && next.gradetype !== 'scale')
    p.push({ at: `${ia}.gradetype`, message: 'expected "value" or "scale"' });
  if (
    next.gradetype === 'scale' &&
    !(Array.isArray(next.scale) && next.scale.length > 0 && next.scale.every((s) => typeof s === 'string'))
  )
    p.push({ at: `${ia}.scale`, message: 'a scale item needs a non-empty array of labels' });
  for (const k of ['multfactor', 'plusfactor'] as const)
    if (next[k] !== undefined && !isNum(next[k])) p.push({ at: `${ia}.${k}`, message: 'expected a number' });
  planCategoryOrItemFlagsAreValid(p, ia, next);
  if (typeof next.idnumber === 'string' && next.idnumber !== '') {
    for (const other of pl.allRows('items'))
      if (other.id !== id && other.idnumber === next.idnumber) {
        p.push({
          at: `${ia}.idnumber`,
          message: `idnumber "${next.idnumber}" is already used by "${String(other.id)}"`,
        });
        break;
      }
  }
  if (p.length) throw new Fail('invalid', p);
  if (!cur) {
    if (next.sortorder === undefined) next.sortorder = nextSortorder(pl, 'items');
    pl.setRow('items', id, next, true);
  } else {
    const { id: _id, ...fields } = input;
    pl.setRow('items', id, fields, false);
  }
}

function planSetCategory(pl: Planner, at: string, c: Extract<Command, { type: 'setCategory' }>): void {
  const p: Problem[] = [];
  const input = c.category as unknown as Record<string, unknown>;
  if (!input || typeof input !== 'object')
    throw new Fail('invalid', [{ at: `${at}.category`, message: 'expected a category object' }]);
  requireText(p, `${at}.category.id`, input.id);
  if (p.length) throw new Fail('invalid', p);
  const id = input.id as string;
  const ca = `${at}.category`;
  if (id === 'course' || pl.row('items', id))
    throw new Fail('invalid', [{ at: `${ca}.id`, message: `"${id}" is an item id` }]);
  const cur = pl.row('categories', id);
  const next = { ...(cur ?? {}), ...input } as Record<string, unknown>;
  requireText(p, `${ca}.name`, next.name, true);
  if (!AGGREGATIONS.includes(next.aggregation as Aggregation))
    p.push({ at: `${ca}.aggregation`, message: `expected one of ${AGGREGATIONS.join(', ')}` });
  if (next.parent === null || next.parent === undefined) {
    const root = pl
      .allRows('categories')
      .find((r) => (r.parent === null || r.parent === undefined) && r.id !== id);
    if (root)
      p.push({ at: `${ca}.parent`, message: `the course category is "${String(root.id)}"; give a parent` });
    next.parent = null;
  } else if (typeof next.parent !== 'string' || !pl.row('categories', next.parent)) {
    p.push({ at: `${ca}.parent`, message: `unknown parent category "${String(next.parent)}"` });
  } else {
    // No cycles: walk up from the new parent.
    let cursor: unknown = next.parent;
    const seen = new Set<string>();
    while (typeof cursor === 'string' && !seen.has(cursor)) {
      if (cursor === id) {
        p.push({ at: `${ca}.parent`, message: 'a category cannot be inside itself' });
        break;
      }
      seen.add(cursor);
      cursor = pl.row('categories', cursor)?.parent;
    }
  }
  for (const k of ['dropLowest', 'keepHighest'] as const)
    if (next[k] !== undefined && !(Number.isInteger(next[k]) && (next[k] as number) >= 0))
      p.push({ at: `${ca}.${k}`, message: 'expected a whole number >= 0' });
  for (const k of ['grademin', 'grademax'] as const)
    if (next[k] !== undefined && next[k] !== null && !isNum(next[k]))
      p.push({ at: `${ca}.${k}`, message: 'expected a number or null' });
  for (const k of ['aggregateOnlyGraded', 'aggregateSubcategories', 'aggregateOutcomes'] as const)
    if (next[k] !== undefined && typeof next[k] !== 'boolean')
      p.push({ at: `${ca}.${k}`, message: 'expected true or false' });
  planCategoryOrItemFlagsAreValid(p, ca, next);
  if (p.length) throw new Fail('invalid', p);
  if (!cur) {
    if (next.sortorder === undefined) next.sortorder = nextSortorder(pl, 'categories');
    pl.setRow('categories', id, next, true);
  } else {
    const { id: _id, ...fields } = input;
    pl.setRow('categories', id, fields, false);
  }
}

/**
 * Moves a category among the categories of its (new) parent. Only the order of siblings matters (a category's
 * children are its items, then its sub-categories in sortorder), so "before b" takes a sortorder between b and the
 * category just before b in the course; "last" takes one after every category. Parent and cycle checks are
 * setCategory's.
 */
function planMoveCategory(pl: Planner, at: string, c: Extract<Command, { type: 'moveCategory' }>): void {
  const cur = pl.row('categories', c.id);
  if (!cur) throw new Fail('not_found', [{ at: `${at}.id`, message: `no category "${String(c.id)}"` }]);
  if (cur.parent === null || cur.parent === undefined)
    throw new Fail('invalid', [{ at: `${at}.id`, message: 'the course category cannot be moved' }]);
  const parent = c.parent ?? (cur.parent as string);
  const others = pl
    .allRows('categories')
    .filter((r) => r.id !== c.id)
    .sort((a, b) => Number(a.sortorder) - Number(b.sortorder) || (String(a.id) < String(b.id) ? -1 : 1));
  let sortorder: number;
  if (c.before === undefined || c.before === null) {
    sortorder = others.reduce((m, r) => Math.max(m, Number(r.sortorder ?? 0)), 0) + 1;
  } else {
    const bi = others.findIndex((r) => r.id === c.before);
    if (bi < 0) throw new Fail('not_found', [{ at: `${at}.before`, message: `no category "${c.before}"` }]);
    if (others[bi]!.parent !== parent)
      throw new Fail('invalid', [
        { at: `${at}.before`, message: `"${c.before}" is not in category "${parent}"` },
      ]);
    const b = Number(others[bi]!.sortorder);
    const a = bi > 0 ? Number(others[bi - 1]!.sortorder) : b - 1;
    sortorder = (a + b) / 2;
  }
  planSetCategory(pl, at, {
    type: 'setCategory',
    category: { id: c.id, parent, sortorder } as Partial<CourseCategory> & { id: string },
  });
}

function planMoveItem(pl: Planner, at: string, c: Extract<Command, { type: 'moveItem' }>): void {
  const cur = pl.row('items', c.id);
  if (!cur) throw new Fail('not_found', [{ at: `${at}.id`, message: `no grade item "${String(c.id)}"` }]);
  const category = c.category ?? (cur.category as string);
  if (!pl.row('categories', category))
    throw new Fail('not_found', [{ at: `${at}.category`, message: `unknown category "${category}"` }]);
  const siblings = pl
    .allRows('items')
    .filter((r) => r.id !== c.id)
    .sort((a, b) => Number(a.sortorder) - Number(b.sortorder) || (String(a.id) < String(b.id) ? -1 : 1));
  let sortorder: number;
  if (c.before === undefined || c.before === null) {
    const inCat = siblings.filter((r) => r.category === category);
    const last = inCat[inCat.length - 1];
    const idx = last ? siblings.indexOf(last) : siblings.length - 1;
    const a = last ? Number(last.sortorder) : Number(siblings[idx]?.sortorder ?? 0);
    const nextRow = last ? siblings[idx + 1] : undefined;
    sortorder = nextRow ? (a + Number(nextRow.sortorder)) / 2 : a + 1;
  } else {
    const bi = siblings.findIndex((r) => r.id === c.before);
    if (bi < 0) throw new Fail('not_found', [{ at: `${at}.before`, message: `no grade item "${c.before}"` }]);
    if (siblings[bi]!.category !== category)
      throw new Fail('invalid', [
        { at: `${at}.before`, message: `"${c.before}" is not in category "${category}"` },
      ]);
    const b = Number(siblings[bi]!.sortorder);
    const a = bi > 0 ? Number(siblings[bi - 1]!.sortorder) : b - 1;
    sortorder = (a + b) / 2;
  }
  const fields: Record<string, unknown> = { sortorder };
  if (category !== cur.category) fields.category = category;
  pl.setRow('items', c.id, fields, false);
}

const SETTINGS_CHECKS: Record<keyof CourseSettings, (v: unknown) => boolean> = {
  hideTotalsWithHiddenItems: (v) => v === 'none' || v === 'exclude_hidden' || v === 'include_hidden',
  minmaxtouse: (v) => v === 'item' || v === 'grade',
  includeScalesInAggregation: (v) => typeof v === 'boolean',
  enableOutcomes: (v) => typeof v === 'boolean',
  letters: (v) =>
    !!v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.entries(v).every(([k, l]) => isNum(Number(k)) && k.trim() !== '' && typeof l === 'string'),
  displayType: (v) => typeof v === 'string',
};

function planSettings(pl: Planner, at: string, s: Record<string, unknown>): void {
  const p: Problem[] = [];
  if (!s || typeof s !== 'object')
    throw new Fail('invalid', [{ at: `${at}.settings`, message: 'expected an object' }]);
  for (const [k, v] of Object.entries(s)) {
    const check = SETTINGS_CHECKS[k as keyof CourseSettings];
    if (v === null) continue; // null clears a setting back to its default
    if (check && !check(v)) p.push({ at: `${at}.settings.${k}`, message: 'invalid value' });
  }
  if (p.length) throw new Fail('invalid', p);
  pl.setSettings(s);
}

function plan(pl: Planner, at: string, c: Command): void {
  if (!c || typeof c !== 'object') throw new Fail('invalid', [{ at, message: 'expected a command object' }]);
  switch (c.type) {
    case 'setGrade':
      return planSetGrade(pl, at, c);
    case 'overrideGrade':
      if (c.value !== null && !isNum(c.value))
        throw new Fail('invalid', [{ at: `${at}.value`, message: 'expected a finite number or null' }]);
      return planCellPatch(pl, at, c, { overridden: c.value }, { allowTotals: true });
    case 'setFeedback':
      if (c.feedback !== null && typeof c.feedback !== 'string')
        throw new Fail('invalid', [{ at: `${at}.feedback`, message: 'expected text or null' }]);
      return planCellPatch(pl, at, c, { feedback: c.feedback === null ? null : c.feedback } as CellRecord, {
        allowTotals: true,
      });
    case 'excludeGrade':
      if (typeof c.excluded !== 'boolean')
        throw new Fail('invalid', [{ at: `${at}.excluded`, message: 'expected true or false' }]);
      return planCellPatch(pl, at, c, { excluded: c.excluded }, { allowTotals: true });
    case 'hideGrade':
      if (!isFlagOrTime(c.hidden))
        throw new Fail('invalid', [{ at: `${at}.hidden`, message: 'expected true/false or unix seconds' }]);
      return planCellPatch(pl, at, c, { hidden: c.hidden }, { allowTotals: true, ignoreLock: true });
    case 'lockGrade': {
      const locked = c.locked ?? true;
      if (!isFlagOrTime(locked))
        throw new Fail('invalid', [{ at: `${at}.locked`, message: 'expected true/false or unix seconds' }]);
      return planCellPatch(pl, at, c, { locked }, { allowTotals: true, ignoreLock: true });
    }
    case 'unlockGrade':
      return planCellPatch(pl, at, c, { locked: false }, { allowTotals: true, ignoreLock: true });
    case 'resolveConflict': {
      if (!(GRADE_FIELDS as readonly string[]).includes(c.field))
        throw new Fail('invalid', [
          { at: `${at}.field`, message: `expected one of ${GRADE_FIELDS.join(', ')}` },
        ]);
      const state = pl.cell(c.item, c.user);
      const cands = state.conflicts[c.field];
      if (!cands)
        throw new Fail('invalid', [
          { at: `${at}.field`, message: `the ${c.field} of "${c.user}" in "${c.item}" is not in conflict` },
        ]);
      if (
        c.value !== null &&
        c.value !== undefined &&
        !cands.some((k) => canonical(k.value) === canonical(c.value)) &&
        c.field !== 'grade' &&
        c.field !== 'feedback'
      )
        throw new Fail('invalid', [{ at: `${at}.value`, message: 'expected one of the candidate values' }]);
      // A new grade value (not one of the candidates) must be a grade: raw or final numbers, or null.
      if (c.field === 'grade' && c.value !== null && c.value !== undefined) {
        const v = c.value as Record<string, unknown>;
        const okShape =
          typeof v === 'object' &&
          !Array.isArray(v) &&
          Object.entries(v).every(
            ([k, x]) =>
              ['raw', 'final', 'rawgrademin', 'rawgrademax'].includes(k) && (x === null || isNum(x)),
          );
        if (!okShape)
          throw new Fail('invalid', [
            { at: `${at}.value`, message: 'expected { raw } or { final } with numbers, or null' },
          ]);
      }
      if (c.field === 'feedback' && c.value !== null && c.value !== undefined && typeof c.value !== 'string')
        throw new Fail('invalid', [{ at: `${at}.value`, message: 'expected feedback text or null' }]);
      pl.writeCell(c.item, c.user, { [c.field]: c.value ?? null } as CellRecord);
      pl.markSettled(c.item, c.user, c.field);
      return;
    }
    case 'setItem':
      return planSetItem(pl, at, c);
    case 'deleteItem': {
      if (!pl.row('items', c.id))
        throw new Fail('not_found', [{ at: `${at}.id`, message: `no grade item "${String(c.id)}"` }]);
      return pl.setRow('items', c.id, null, false);
    }
    case 'moveItem':
      return planMoveItem(pl, at, c);
    case 'moveCategory':
      return planMoveCategory(pl, at, c);
    case 'setCategory':
      return planSetCategory(pl, at, c);
    case 'deleteCategory': {
      const cur = pl.row('categories', c.id);
      if (!cur) throw new Fail('not_found', [{ at: `${at}.id`, message: `no category "${String(c.id)}"` }]);
      if (cur.parent === null)
        throw new Fail('invalid', [{ at: `${at}.id`, message: 'the course category cannot be deleted' }]);
      if (
        pl.allRows('items').some((r) => r.category === c.id) ||
        pl.allRows('categories').some((r) => r.parent === c.id)
      )
        throw new Fail('invalid', [{ at: `${at}.id`, message: `category "${c.id}" is not empty` }]);
      return pl.setRow('categories', c.id, null, false);
    }
    case 'setSettings':
      return planSettings(pl, at, c.settings as Record<string, unknown>);
    case 'setUser': {
      const p: Problem[] = [];
      requireText(p, `${at}.user.id`, c.user?.id);
      requireText(p, `${at}.user.name`, c.user?.name, true);
      if (
        c.user?.groups !== undefined &&
        !(Array.isArray(c.user.groups) && c.user.groups.every((g) => typeof g === 'string'))
      )
        p.push({ at: `${at}.user.groups`, message: 'expected an array of group names' });
      if (p.length) throw new Fail('invalid', p);
      const cur = pl.row('users', c.user.id);
      const row = { ...c.user };
      if (cur && canonical(cur) === canonical(row)) return;
      pl.ops.push({
        t: 'row',
        coll: 'users',
        id: c.user.id,
        create: row,
        set: {},
        del: false,
        old: cur,
        neu: row,
      });
      return;
    }
    case 'bulk':
      if (!Array.isArray(c.commands))
        throw new Fail('invalid', [{ at: `${at}.commands`, message: 'expected an array of commands' }]);
      c.commands.forEach((sub, i) => plan(pl, `${at}[${i}]`, sub));
      return;
    case 'restoreCell':
      return planRestoreCell(pl, at, c);
    case 'restoreRow':
      return planRestoreRow(pl, at, c);
    case 'rescueCell': {
      if (!pl.row('items', c.item) && !pl.row('categories', c.item) && c.item !== 'course') {
        pl.skipped.push({
          at: `${c.item}/${c.user}`,
          message: 'the item was deleted meanwhile; offline change dropped',
        });
        return;
      }
      const state = pl.cell(c.item, c.user);
      const keep: GradeField[] = [];
      const patch: CellRecord = {};
      // A current candidate was seen by the replayed write if it is from the initial import (`@`), from an epoch
      // older than the write's (it was in the base the writer saw), or from the write's own epoch and covered by
      // what the writer had seen. Anything else is concurrent and stays beside the replayed value.
      const sawIt = (k: { dev: string; c: number }) => {
        if (k.dev === '@') return true;
        const hash = k.dev.lastIndexOf('#');
        if (hash < 0) return false;
        const n = Number(k.dev.slice(hash + 1));
        if (n !== c.epoch) return n < c.epoch;
        return (c.seen[k.dev.slice(0, hash)] ?? -1) >= k.c;
      };
      const stays = (f: GradeField, k: { dev: string; c: number; value: unknown }) =>
        (!sawIt(k) || (c.held?.[f] ?? []).includes(`${k.dev}:${k.c}`)) &&
        canonical(k.value ?? null) !== canonical(c.fields[f] ?? null);
      for (const f of Object.keys(c.fields) as GradeField[]) {
        const unseen = (state.live[f] ?? []).filter((k) => stays(f, k));
        (patch as Record<string, unknown>)[f] = c.fields[f];
        if (unseen.length) keep.push(f);
      }
      if (!Object.keys(patch).length) return;
      pl.writeCell(c.item, c.user, patch, keep, stays);
      return;
    }
    case 'restoreSettings': {
      const cur = pl.settings();
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.fields)) {
        if (c.expect && canonical(cur[k] ?? null) !== canonical(c.expect[k] ?? null)) {
          pl.skipped.push({ at: `settings.${k}`, message: 'changed by someone else since; left as is' });
          continue;
        }
        fields[k] = v;
      }
      pl.setSettings(fields);
      return;
    }
    default:
      throw new Fail('invalid', [
        { at: `${at}.type`, message: `unknown command "${String((c as { type: unknown }).type)}"` },
      ]);
  }
}

function planRestoreCell(pl: Planner, at: string, c: Extract<Command, { type: 'restoreCell' }>): void {
  const state = pl.cell(c.item, c.user);
  const patch: CellRecord = {};
  for (const [f, v] of Object.entries(c.fields) as [GradeField, unknown][]) {
    const live = state.live[f];
    const expect = c.expect?.[f];
    if (state.conflicts[f]) {
      pl.skipped.push({ at: `${c.item}/${c.user}.${f}`, message: 'in conflict; left for resolveConflict' });
      continue;
    }
    const current = live?.[0];
    const expDev = expect?.slice(0, expect.lastIndexOf(':'));
    const sameWriteAgain =
      current !== undefined &&
      c.expectValue?.[f] !== undefined &&
      expect !== undefined &&
      current.dev === expDev &&
      canonical(current.value ?? null) === c.expectValue[f];
    // A re-base (CRDT-8) renames the origins it folds from `device:c` to `device#epoch:c`: the same write, so the
    // step it undoes is still this person's own.
    const sameWriteFolded =
      current !== undefined &&
      expect !== undefined &&
      current.dev.startsWith(`${expDev}#`) &&
      `${current.c}` === expect.slice(expect.lastIndexOf(':') + 1) &&
      (c.expectValue?.[f] === undefined || canonical(current.value ?? null) === c.expectValue[f]);
    if (expect !== undefined && (current?.origin ?? '') !== expect && !sameWriteAgain && !sameWriteFolded) {
      pl.skipped.push({
        at: `${c.item}/${c.user}.${f}`,
        message: 'changed by someone else since; left as is',
      });
      continue;
    }
    (patch as Record<string, unknown>)[f] = v;
  }
  if (Object.keys(patch).length) planCellPatch(pl, at, c, patch, { allowTotals: true, ignoreLock: true });
}

function planRestoreRow(pl: Planner, at: string, c: Extract<Command, { type: 'restoreRow' }>): void {
  const cur = pl.row(c.coll, c.id);
  const label = `${c.coll}.${c.id}`;
  if (c.fields === null) {
    // Undo a creation: only if the row still looks as created.
    if (!cur) return;
    if (
      c.expect &&
      Object.entries(c.expect).some(([k, v]) => canonical(cur[k] ?? null) !== canonical(v ?? null))
    ) {
      pl.skipped.push({ at: label, message: 'changed by someone else since; not deleted' });
      return;
    }
    if (
      c.coll === 'categories' &&
      (pl.allRows('items').some((r) => r.category === c.id) ||
        pl.allRows('categories').some((r) => r.parent === c.id))
    ) {
      pl.skipped.push({ at: label, message: 'no longer empty; not deleted' });
      return;
    }
    pl.setRow(c.coll, c.id, null, false);
    return;
  }
  if (!cur) {
    if (c.expect || c.mustExist) {
      pl.skipped.push({ at: label, message: 'deleted by someone else since; not restored' });
      return;
    }
    pl.setRow(c.coll, c.id, c.fields, true);
    return;
  }
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.fields)) {
    if (c.expect && canonical(cur[k] ?? null) !== canonical(c.expect[k] ?? null)) {
      pl.skipped.push({ at: `${label}.${k}`, message: 'changed by someone else since; left as is' });
      continue;
    }
    fields[k] = v;
  }
  pl.setRow(c.coll, c.id, fields, false);
}

// ---------------------------------------------------------------------------------------------------------------
// Applying

function inverseOf(ops: Op[], entries: HistoryEntry[]): Command | null {
  const inv: Command[] = [];
  ops.forEach((op, i) => {
    const e = entries[i]!;
    if (op.t === 'slot') {
      // Settling a conflict is not undone: putting one old candidate back would silently drop the others.
      const fields: CellRecord = {};
      const expect: Partial<Record<GradeField, string>> = {};
      const expectValue: Partial<Record<GradeField, string>> = {};
      for (const f of Object.keys(op.neu) as GradeField[]) {
        if (op.settled?.includes(f)) continue;
        (fields as Record<string, unknown>)[f] = op.old[f] ?? null;
        expect[f] = `${op.slot.d}:${op.slot.c}`;
        expectValue[f] = canonical(op.neu[f] ?? null);
      }
      if (Object.keys(fields).length)
        inv.push({ type: 'restoreCell', item: op.item, user: op.user, fields, expect, expectValue });
    } else if (op.t === 'row') {
      if (op.old === null)
        inv.push({ type: 'restoreRow', coll: op.coll, id: op.id, fields: null, expect: op.neu });
      else if (op.neu === null) inv.push({ type: 'restoreRow', coll: op.coll, id: op.id, fields: op.old });
      else inv.push({ type: 'restoreRow', coll: op.coll, id: op.id, fields: op.old, expect: op.neu });
    } else inv.push({ type: 'restoreSettings', fields: op.old, expect: op.set });
    void e;
  });
  if (!inv.length) return null;
  inv.reverse();
  return inv.length === 1 ? inv[0]! : { type: 'bulk', commands: inv };
}

/** Whether a slot holds exactly the patched values as its own (then the log entry need not repeat them). */
function justTheNewValues(slot: GradeSlot, neu: CellRecord): boolean {
  const fields = Object.keys(slot.f);
  if (fields.length !== Object.keys(neu).length) return false;
  return fields.every((f) => {
    const ps = slot.f[f as GradeField]!;
    return (
      f in neu &&
      ps.length === 1 &&
      ps[0]!.length === 1 &&
      canonical(ps[0]![0]) === canonical(neu[f as GradeField] ?? null)
    );
  });
}

function writeOps(doc: Y.Doc, e: Epoch, pl: Planner): HistoryEntry[] {
  const { actor } = pl.ctx;
  const src = pl.ctx.src ?? 'app';
  const entries: HistoryEntry[] = [];
  let tx = '';
  const head = () => {
    const id = newId(doc);
    if (!tx) tx = id;
    const h: HistoryHead = { id, by: actor.userId, dev: actor.deviceId, at: pl.now, src };
    if (tx !== id) h.tx = tx;
    return h;
  };
  for (const op of pl.ops) {
    if (op.t === 'slot') {
      putSlot(e, op.item, op.user, op.slot);
      devicesOf(e).add(op.slot.d);
      entries.push({
        ...head(),
        k: 'grade',
        item: op.item,
        user: op.user,
        old: op.old,
        new: op.neu,
        c: op.slot.c,
        ...(Object.keys(op.slot.vv).length ? { vv: op.slot.vv } : {}),
        ...(justTheNewValues(op.slot, op.neu) ? {} : { f: op.slot.f }),
        ...(op.settled ? { settled: op.settled } : {}),
      });
    } else if (op.t === 'row') {
      if (op.coll === 'users') {
        if (op.del) e.users.delete(op.id);
        else e.users.set(op.id, op.create);
      } else {
        const coll = e[op.coll];
        if (op.del) coll.delete(op.id);
        else if (op.create) coll.set(op.id, rowMap(op.create));
        else {
          const m = coll.get(op.id)!;
          for (const [k, v] of Object.entries(op.set)) {
            if (v === null || v === undefined) m.delete(k);
            else m.set(k, v);
          }
        }
      }
      entries.push({ ...head(), k: 'row', coll: op.coll, row: op.id, old: op.old, new: op.neu });
    } else {
      for (const [k, v] of Object.entries(op.set)) {
        if (v === null || v === undefined) e.settings.delete(k);
        else e.settings.set(k, v);
      }
      entries.push({ ...head(), k: 'settings', old: op.old, new: op.set });
    }
  }
  appendHistory(e, entries);
  return entries;
}

/**
 * Validates `cmd` in full against the current document, then applies it as one transaction with origin
 * `ctx.actor` and one history entry per changed cell/row. On any invalid part nothing is written and the error
 * names the field at fault. A command that changes nothing succeeds with no entries and no inverse.
 */
export function applyCommand(doc: Y.Doc, cmd: Command, ctx: CommandContext): CommandResult {
  let e: Epoch;
  try {
    e = requireEpoch(doc);
  } catch {
    return {
      ok: false,
      error: {
        code: 'empty',
        message: 'the course document is empty',
        problems: [{ at: 'doc', message: 'no course loaded' }],
      },
    };
  }
  const pl = new Planner(e, ctx);
  try {
    plan(pl, String(cmd?.type ?? 'command'), cmd);
  } catch (err) {
    if (err instanceof Fail) {
      const first = err.problems[0];
      return {
        ok: false,
        error: {
          code: err.code,
          message: first ? `${first.at}: ${first.message}` : err.code,
          problems: err.problems,
        },
      };
    }
    throw err;
  }
  if (!pl.ops.length) return { ok: true, entries: [], inverse: null, skipped: pl.skipped };
  let entries: HistoryEntry[] = [];
  doc.transact(() => {
    entries = writeOps(doc, e, pl);
  }, ctx.actor);
  return { ok: true, entries, inverse: inverseOf(pl.ops, entries), skipped: pl.skipped };
}

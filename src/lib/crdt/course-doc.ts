// The versioned Yjs schema of one course gradebook (room `course/<id>`), its initial load and its CourseJson snapshot.
// May import yjs and the domain only: never the DOM, Svelte, Dexie or a clock (times come in through the actor's Clock).
import * as Y from 'yjs';
import type {
  CourseCategory,
  CourseGrade,
  CourseItem,
  CourseJson,
  CourseSettings,
} from '../domain/interchange/course-types.ts';
import { ValidationError, jsonPath, type Problem } from '../domain/shared/errors.ts';
import {
  GRADE_FIELDS,
  mergeCell,
  type BaseCell,
  type Candidate,
  type CellRecord,
  type GradeField,
  type GradeSlot,
  type Pair,
} from './grade-register.ts';

/** Who makes a change: the signed-in user on one device. Every transaction's origin is an Actor. */
export interface Actor {
  userId: string;
  deviceId: string;
}

/** Schema version written by this code. Bump it and add a step to MIGRATIONS when the layout changes. */
export const COURSE_SCHEMA_VERSION = 1;

/**
 * Layout (schema 1):
 *   root Map `meta`   { schema: number, courseId?: string }
 *   root Map `folds`  { <epochId>: JSON state vector a re-base folded }  — see rebase.ts
 *   root Map `epochs` { <epochId>: Map epoch }  — the current epoch is the greatest (n, id); older ones are
 *                      deleted by a re-base, which lets Yjs GC all their overwritten entries at once.
 *   epoch Map: n (number), id (string), at, by, dev, from ({ epoch, sv } | null),
 *              base (string: JSON BaseSnapshot, immutable),
 *              settings Map<field, value>, categories Map<id, Map<field, value>>, items Map<id, Map<field, value>>,
 *              users Map<id, row>, grades Map<`item\0user\0device`, JSON GradeSlot>,
 *              history Array<JSON HistoryEntry[]> (one element per command).
 */
export const SEP = '\u0000';

/** The immutable starting point of an epoch: setup and grades packed by column. */
export interface BaseSnapshot {
  v: 1;
  settings: CourseSettings;
  categories: (CourseCategory & { sortorder?: number })[];
  items: (CourseItem & { sortorder?: number })[];
  users?: { id: string; name: string; groups?: string[] }[];
  /** Users indexed by the grade columns. */
  gu: string[];
  /** Grade columns: item (or category / `course`) ids. */
  gi: string[];
  /**
   * Per column, per user index: null = no grade, a number = raw only, `[raw, originDevice, counter]` = raw only
   * written in an earlier epoch (origin device indexed in `od`), else a packed cell.
   */
  g: (null | number | [number, number, number] | PackedCell)[][];
  /** Origin devices (`device#epoch`) referenced by compact cells. */
  od?: string[];
}

/**
 * A base cell: field values plus, for fields written during the folded epoch (or in conflict then), their
 * candidate pairs with origins `device#epoch` — so a write replayed after the re-base can tell what it had seen.
 */
export interface PackedCell {
  r: CellRecord;
  p?: Partial<Record<GradeField, Pair[]>>;
}

export type RowCollection = 'items' | 'categories' | 'users';

/** One entry of the append-only change log. `id` is unique; `tx` groups the entries of one command. */
export type HistoryEntry =
  | (HistoryHead & { k: 'load' })
  | (HistoryHead & { k: 'rebase'; from: string })
  | (HistoryHead & {
      k: 'grade';
      item: string;
      user: string;
      old: CellRecord;
      new: CellRecord;
      /**
       * The slot as written (with dev/by/at/src from the head), so a past state can be rebuilt exactly. `vv` is left
       * out when empty and `f` when it holds just the new values (the common case): see entrySlot.
       */
      c: GradeSlot['c'];
      vv?: GradeSlot['vv'];
      f?: GradeSlot['f'];
      /** Fields this change settled from a conflict (their `old` is only the first of several candidates). */
      settled?: GradeField[];
    })
  | (HistoryHead & {
      k: 'row';
      coll: RowCollection;
      row: string;
      /** Changed fields before (null: the row did not exist). */
      old: Record<string, unknown> | null;
      /** Changed fields after (null: the row was deleted). */
      new: Record<string, unknown> | null;
    })
  | (HistoryHead & { k: 'settings'; old: Record<string, unknown>; new: Record<string, unknown> });

export interface HistoryHead {
  id: string;
  /** The command this entry belongs to (absent when it is the command's first entry: then it is `id`). */
  tx?: string;
  by: string;
  dev: string;
  at: number;
  /** Where the change came from: `grid`, `import`, `undo`, `redo`, `revert`, `resolve`, `rescue`, ... */
  src: string;
}

/** Stores one device's slot of a cell. */
export function putSlot(e: Epoch, item: string, user: string, slot: GradeSlot): void {
  e.grades.set(item + SEP + user + SEP + slot.d, JSON.stringify(slot));
}

interface HistoryCache {
  /** Parsed entries per log element, aligned with the Y.Array. */
  cmds: HistoryEntry[][];
  flat: HistoryEntry[] | null;
}
const historyCache = new WeakMap<Y.Array<string>, HistoryCache>();

function historyCacheOf(arr: Y.Array<string>): HistoryCache {
  let c = historyCache.get(arr);
  if (c) return c;
  const cache: HistoryCache = { cmds: arr.toArray().map((t) => JSON.parse(t) as HistoryEntry[]), flat: null };
  // Concurrent commands can land before ones already read (Yjs orders them by client), so follow the delta.
  arr.observe((ev) => {
    let i = 0;
    for (const d of ev.changes.delta) {
      if (d.retain) i += d.retain;
      else if (d.insert) {
        const add = (d.insert as string[]).map((t) => JSON.parse(t) as HistoryEntry[]);
        cache.cmds.splice(i, 0, ...add);
        i += add.length;
      } else if (d.delete) cache.cmds.splice(i, d.delete);
    }
    cache.flat = null;
  });
  historyCache.set(arr, cache);
  c = cache;
  return c;
}

/** Every log entry of an epoch in log order (parsed once, then kept current from each change's delta). */
export function readHistory(e: Epoch): HistoryEntry[] {
  const c = historyCacheOf(e.history);
  if (c.cmds.length !== e.history.length) {
    // Changed inside the current transaction (observers have not run yet): read it whole.
    return e.history.toArray().flatMap((t) => JSON.parse(t) as HistoryEntry[]);
  }
  c.flat ??= c.cmds.flat();
  return c.flat;
}

/** Number of log entries in the epoch (what the re-base policy counts). */
export function historySize(e: Epoch): number {
  const c = historyCacheOf(e.history);
  let n = 0;
  for (const cmd of c.cmds) n += cmd.length;
  return n;
}

/** Appends one command's entries as one log element. */
export function appendHistory(e: Epoch, entries: HistoryEntry[]): void {
  if (entries.length) e.history.push([JSON.stringify(entries)]);
}

/** The grade slot a grade history entry wrote. */
export function entrySlot(h: Extract<HistoryEntry, { k: 'grade' }>): GradeSlot {
  const f = h.f ?? Object.fromEntries(Object.entries(h.new).map(([k, v]) => [k, [[v]]]));
  return { d: h.dev, c: h.c, vv: h.vv ?? {}, by: h.by, at: h.at, src: h.src, f };
}

/** The command id of an entry. */
export function entryTx(h: HistoryEntry): string {
  return h.tx ?? h.id;
}

// ---------------------------------------------------------------------------------------------------------------
// Epoch access

export interface Epoch {
  readonly map: Y.Map<unknown>;
  readonly id: string;
  readonly n: number;
  readonly settings: Y.Map<unknown>;
  readonly categories: Y.Map<Y.Map<unknown>>;
  readonly items: Y.Map<Y.Map<unknown>>;
  readonly users: Y.Map<unknown>;
  /** Slots as JSON strings: Yjs decodes a string far faster than a nested object, and a cold load reads them all. */
  readonly grades: Y.Map<string>;
  /** One JSON string per command (its entries), so a bulk of 1 000 changes is one Yjs item, not 1 000. */
  readonly history: Y.Array<string>;
}

export function metaMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('meta');
}

export function epochsMap(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
  return doc.getMap('epochs');
}

function epochKey(m: Y.Map<unknown>): [number, string] {
  return [Number(m.get('n') ?? 0), String(m.get('id') ?? '')];
}

export function epochFrom(map: Y.Map<unknown>): Epoch {
  const [n, id] = epochKey(map);
  return {
    map,
    id,
    n,
    settings: map.get('settings') as Y.Map<unknown>,
    categories: map.get('categories') as Y.Map<Y.Map<unknown>>,
    items: map.get('items') as Y.Map<Y.Map<unknown>>,
    users: map.get('users') as Y.Map<unknown>,
    grades: map.get('grades') as Y.Map<string>,
    history: map.get('history') as Y.Array<string>,
  };
}

/**
 * Watches an epoch for what a regrade needs to know: `cells` gets the cells (`item\0user`) whose grade slots
 * changed, `setup` any change to items, categories, settings or users. Returns the function that stops watching.
 */
export function observeEpoch(e: Epoch, on: { cells(keys: string[]): void; setup(): void }): () => void {
  const onGrades = (ev: { keysChanged: Set<string> }): void =>
    on.cells([...ev.keysChanged].map((key) => key.slice(0, key.lastIndexOf(SEP))));
  const onSetup = (): void => on.setup();
  e.grades.observe(onGrades);
  e.items.observeDeep(onSetup);
  e.categories.observeDeep(onSetup);
  e.settings.observe(onSetup);
  e.users.observe(onSetup);
  return () => {
    e.grades.unobserve(onGrades);
    e.items.unobserveDeep(onSetup);
    e.categories.unobserveDeep(onSetup);
    e.settings.unobserve(onSetup);
    e.users.unobserve(onSetup);
  };
}

/** The current epoch, or null for an empty document. Deterministic: greatest (n, id) of the complete epochs. */
export function currentEpoch(doc: Y.Doc): Epoch | null {
  let best: Y.Map<unknown> | null = null;
  let bestKey: [number, string] = [-1, ''];
  for (const m of epochsMap(doc).values()) {
    if (!(m instanceof Y.Map) || typeof m.get('base') !== 'string') continue;
    const k = epochKey(m);
    if (k[0] > bestKey[0] || (k[0] === bestKey[0] && k[1] > bestKey[1])) {
      best = m;
      bestKey = k;
    }
  }
  return best ? epochFrom(best) : null;
}

export function requireEpoch(doc: Y.Doc): Epoch {
  const e = currentEpoch(doc);
  if (!e)
    throw new ValidationError([
      { at: 'doc', message: 'the course document is empty (no courseJsonToDoc yet)' },
    ]);
  return e;
}

/** One cell of a base as stored (see `BaseSnapshot.g`). */
type WireCell = BaseSnapshot['g'][number][number];

/** A base without its grade columns: what is kept once `BaseCells` holds the cells. */
export type BaseHead = Omit<BaseSnapshot, 'g'>;

/**
 * The cells of a base, held compactly and read without unpacking them all. A parsed base holds its grades as
 * JavaScript arrays of mixed values, where every fractional grade is a boxed number: a 2,000 x 300 course kept
 * ~550,000 small objects alive for as long as its epoch lasted, and each of them was marked again by every full
 * garbage collection (pauses of 15-20 ms on a 2-core machine, each one a dropped frame while scrolling). Here a
 * column is a Float64Array of raw grades; origin-tagged cells (`[raw, device, counter]`, the common case after a
 * re-base) are two more typed arrays, and only packed cells (several fields or candidates) are objects.
 */
export class BaseCells {
  readonly gi: readonly string[];
  readonly gu: readonly string[];
  readonly od: readonly string[];
  private readonly cols = new Map<string, number>();
  private readonly rows = new Map<string, number>();
  /** Per column, by user index: the raw grade of a plain or origin-tagged cell; NaN for none or a packed cell. */
  private readonly raw: Float64Array[] = [];
  /** Per column, for origin-tagged cells: the origin device's index (-1: not tagged) and the counter. */
  private readonly origin: (Int32Array | null)[] = [];
  private readonly counter: (Float64Array | null)[] = [];
  /** Per column: packed cells by user index (few), or null. */
  private readonly packed: (Map<number, PackedCell> | null)[] = [];

  constructor(base: BaseSnapshot) {
    this.gi = base.gi;
    this.gu = base.gu;
    this.od = base.od ?? [];
    base.gi.forEach((item, i) => this.cols.set(item, i));
    base.gu.forEach((user, i) => this.rows.set(user, i));
    for (const col of base.g) {
      const raw = new Float64Array(col.length).fill(NaN);
      let origin: Int32Array | null = null;
      let counter: Float64Array | null = null;
      let packed: Map<number, PackedCell> | null = null;
      for (let r = 0; r < col.length; r++) {
        const v = col[r];
        if (v === null || v === undefined) continue;
        if (typeof v === 'number') raw[r] = v;
        else if (Array.isArray(v)) {
          if (!origin) {
            origin = new Int32Array(col.length).fill(-1);
            counter = new Float64Array(col.length);
          }
          raw[r] = v[0];
          origin[r] = v[1];
          counter![r] = v[2];
        } else (packed ??= new Map()).set(r, v);
      }
      this.raw.push(raw);
      this.origin.push(origin);
      this.counter.push(counter);
      this.packed.push(packed);
    }
  }

  /** How many user slots column `c` has. */
  columnLength(c: number): number {
    return this.raw[c]?.length ?? 0;
  }

  /** Column `c`, user index `r`, as stored in a base snapshot (null: no grade). */
  cell(c: number, r: number): WireCell {
    const p = this.packed[c]?.get(r);
    if (p) return p;
    const raw = this.raw[c]?.[r];
    if (raw === undefined || Number.isNaN(raw)) return null;
    const o = this.origin[c]?.[r] ?? -1;
    return o >= 0 ? [raw, o, this.counter[c]![r]!] : raw;
  }

  /** The grade columns as a base snapshot stores them (a re-base starts from them). */
  wireColumns(): BaseSnapshot['g'] {
    return this.raw.map((col, c) => Array.from({ length: col.length }, (_, r) => this.cell(c, r)));
  }

  private unpack(c: number, r: number): PackedCell | undefined {
    const v = this.cell(c, r);
    if (v === null) return undefined;
    if (typeof v === 'number') return { r: { grade: { raw: v } } };
    if (Array.isArray(v)) {
      const grade = { raw: v[0] };
      return { r: { grade }, p: { grade: [[grade, this.od[v[1]] ?? '@', v[2]]] } };
    }
    return v;
  }
  at(item: string, user: string): PackedCell | undefined {
    const c = this.cols.get(item);
    const r = this.rows.get(user);
    return c === undefined || r === undefined ? undefined : this.unpack(c, r);
  }
  /** By `item\0user` key. */
  get(key: string): PackedCell | undefined {
    const cut = key.indexOf(SEP);
    return this.at(key.slice(0, cut), key.slice(cut + 1));
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  /** Cells stored with several candidates for some field (open conflicts carried by a re-base). */
  *withCandidates(): IterableIterator<[string, PackedCell]> {
    for (let c = 0; c < this.gi.length; c++)
      for (const [r, v] of this.packed[c] ?? [])
        if (v.p && Object.values(v.p).some((ps) => ps && ps.length > 1)) yield [this.gi[c]! + SEP + this.gu[r]!, v];
  }

  *[Symbol.iterator](): IterableIterator<[string, PackedCell]> {
    for (let c = 0; c < this.gi.length; c++) {
      const n = this.columnLength(c);
      for (let r = 0; r < n; r++) {
        const v = this.unpack(c, r);
        if (v) yield [this.gi[c]! + SEP + this.gu[r]!, v];
      }
    }
  }
}

const baseCache = new WeakMap<Y.Map<unknown>, { text: string; base: BaseHead; cells: BaseCells }>();

/** The parsed base of an epoch (cached: the base string never changes). `cells` looks up `item\0user` keys. */
export function epochBase(e: Epoch): { base: BaseHead; cells: BaseCells } {
  const text = e.map.get('base') as string;
  const hit = baseCache.get(e.map);
  if (hit && hit.text === text) return hit;
  const { g, ...head } = JSON.parse(text) as BaseSnapshot;
  // the parsed columns are dropped once the cells are copied into typed arrays
  const out = { text, base: head, cells: new BaseCells({ ...head, g }) };
  baseCache.set(e.map, out);
  return out;
}

export function toBaseCell(p: PackedCell | undefined): BaseCell {
  return p ? { record: p.r, pairs: p.p } : undefined;
}

/** Creates an epoch map (detached values filled in; caller sets it into `epochs` inside a transaction). */
export function newEpochMap(
  id: string,
  n: number,
  base: BaseSnapshot,
  head: { at: number; by: string; dev: string },
  from: { epoch: string; sv: string } | null,
): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  m.set('n', n);
  m.set('id', id);
  m.set('at', head.at);
  m.set('by', head.by);
  m.set('dev', head.dev);
  m.set('from', from);
  const settings = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(base.settings)) if (v !== undefined) settings.set(k, v);
  m.set('settings', settings);
  const cats = new Y.Map<Y.Map<unknown>>();
  for (const c of base.categories) cats.set(c.id, rowMap(c as unknown as Record<string, unknown>));
  m.set('categories', cats);
  const items = new Y.Map<Y.Map<unknown>>();
  for (const it of base.items) items.set(it.id, rowMap(it as unknown as Record<string, unknown>));
  m.set('items', items);
  const users = new Y.Map<unknown>();
  for (const u of base.users ?? []) users.set(u.id, u);
  m.set('users', users);
  m.set('grades', new Y.Map<string>());
  m.set('history', new Y.Array<string>());
  // The base goes last: an epoch counts only once it is complete (currentEpoch checks for it).
  m.set('base', JSON.stringify(base));
  return m;
}

export function rowMap(row: Record<string, unknown>): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(row)) if (v !== undefined) m.set(k, v);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation of a CourseJson for loading (structure only: the engine validates semantics)

/** Ids are joined with NUL in grade keys, so no control characters (code points below 32) are allowed. */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 32) return true;
  return false;
}
const ID_BAD = { test: hasControlChar };

export function courseProblems(json: CourseJson): Problem[] {
  const problems: Problem[] = [];
  const p = (at: string, message: string) => problems.push({ at, message });
  if (!json || typeof json !== 'object') return [{ at: '$', message: 'expected a course JSON object' }];
  for (const key of ['categories', 'items', 'grades'] as const) {
    if (!Array.isArray(json[key])) p(jsonPath('$', key), 'expected an array');
  }
  if (!json.settings || typeof json.settings !== 'object' || Array.isArray(json.settings))
    p(jsonPath('$', 'settings'), 'expected an object');
  if (problems.length) return problems;
  const catIds = new Set<string>();
  json.categories.forEach((c, i) => {
    if (typeof c?.id !== 'string' || c.id === '' || ID_BAD.test(c.id))
      p(jsonPath('$', 'categories', i, 'id'), 'expected a non-empty id without control characters');
    else if (catIds.has(c.id)) p(jsonPath('$', 'categories', i, 'id'), `duplicate category id "${c.id}"`);
    else catIds.add(c.id);
  });
  json.categories.forEach((c, i) => {
    if (c?.parent !== null && !catIds.has(c?.parent as string))
      p(jsonPath('$', 'categories', i, 'parent'), `unknown parent category "${String(c?.parent)}"`);
  });
  const itemIds = new Set<string>();
  json.items.forEach((it, i) => {
    if (typeof it?.id !== 'string' || it.id === '' || ID_BAD.test(it.id))
      p(jsonPath('$', 'items', i, 'id'), 'expected a non-empty id without control characters');
    else if (itemIds.has(it.id) || catIds.has(it.id) || it.id === 'course')
      p(jsonPath('$', 'items', i, 'id'), `duplicate id "${it.id}"`);
    else itemIds.add(it.id);
    if (!catIds.has(it?.category))
      p(jsonPath('$', 'items', i, 'category'), `unknown category "${String(it?.category)}"`);
  });
  const seen = new Set<string>();
  json.grades.forEach((g, i) => {
    if (typeof g?.user !== 'string' || g.user === '' || ID_BAD.test(g.user))
      p(jsonPath('$', 'grades', i, 'user'), 'expected a non-empty user id without control characters');
    if (typeof g?.item !== 'string' || !(itemIds.has(g.item) || catIds.has(g.item) || g.item === 'course'))
      p(jsonPath('$', 'grades', i, 'item'), `unknown item "${String(g?.item)}"`);
    const key = `${g?.item}${SEP}${g?.user}`;
    if (seen.has(key))
      p(jsonPath('$', 'grades', i), `duplicate grade for user "${g.user}" and item "${g.item}"`);
    seen.add(key);
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// CourseJson <-> base / records

export function gradeToRecord(g: CourseGrade): CellRecord {
  const r: CellRecord = {};
  const grade: Record<string, unknown> = {};
  if (g.raw !== undefined) grade.raw = g.raw;
  if (g.final !== undefined) grade.final = g.final;
  if (g.rawgrademin !== undefined) grade.rawgrademin = g.rawgrademin;
  if (g.rawgrademax !== undefined) grade.rawgrademax = g.rawgrademax;
  if (Object.keys(grade).length) r.grade = grade;
  if (g.overridden !== undefined) r.overridden = g.overridden;
  if (g.feedback !== undefined) r.feedback = g.feedback;
  if (g.excluded !== undefined) r.excluded = g.excluded;
  if (g.hidden !== undefined) r.hidden = g.hidden;
  if (g.locked !== undefined) r.locked = g.locked;
  return r;
}

/** A CourseGrade from a merged record, or null when nothing is set (a cleared cell has no grade row). */
export function recordToGrade(item: string, user: string, r: CellRecord): CourseGrade | null {
  const g: CourseGrade = { user, item };
  let any = false;
  if (r.grade) {
    for (const k of ['raw', 'final', 'rawgrademin', 'rawgrademax'] as const) {
      const v = r.grade[k];
      if (v !== undefined) {
        (g as unknown as Record<string, unknown>)[k] = v;
        any = true;
      }
    }
  }
  if (r.overridden !== undefined && r.overridden !== null) g.overridden = r.overridden;
  if (typeof r.feedback === 'string' && r.feedback !== '') g.feedback = r.feedback;
  if (r.excluded === true) g.excluded = true;
  if (r.hidden !== undefined && r.hidden !== null && r.hidden !== false) g.hidden = r.hidden;
  if (r.locked !== undefined && r.locked !== null && r.locked !== false) g.locked = r.locked;
  any ||=
    g.overridden !== undefined ||
    g.feedback !== undefined ||
    g.excluded !== undefined ||
    g.hidden !== undefined ||
    g.locked !== undefined;
  return any ? g : null;
}

function isRawOnly(r: CellRecord): number | null {
  const keys = Object.keys(r);
  if (keys.length !== 1 || !r.grade) return null;
  const gk = Object.keys(r.grade);
  return gk.length === 1 && typeof r.grade.raw === 'number' ? r.grade.raw : null;
}

type BaseSetup = {
  settings: CourseSettings;
  categories: CourseCategory[];
  items: CourseItem[];
  users?: CourseJson['users'];
};

/** Builds a base snapshot cell by cell, optionally starting from an earlier base (a re-base copies untouched cells). */
export class BaseBuilder {
  private readonly gu: string[];
  private readonly gi: string[];
  private readonly g: BaseSnapshot['g'];
  private readonly od: string[];
  private readonly uIndex = new Map<string, number>();
  private readonly iIndex = new Map<string, number>();
  private readonly odIndex = new Map<string, number>();

  constructor(
    private readonly setup: BaseSetup,
    from?: BaseCells,
  ) {
    this.gu = from ? from.gu.slice() : [];
    this.gi = from ? from.gi.slice() : [];
    this.g = from ? from.wireColumns() : [];
    this.od = from ? from.od.slice() : [];
    this.gu.forEach((u, i) => this.uIndex.set(u, i));
    this.gi.forEach((it, i) => this.iIndex.set(it, i));
    this.od.forEach((d, i) => this.odIndex.set(d, i));
  }

  /** Sets (or clears, with null) one cell. */
  set(item: string, user: string, cell: PackedCell | null): void {
    let ui = this.uIndex.get(user);
    if (ui === undefined) {
      if (!cell) return;
      this.uIndex.set(user, (ui = this.gu.push(user) - 1));
    }
    let ii = this.iIndex.get(item);
    if (ii === undefined) {
      if (!cell) return;
      this.iIndex.set(item, (ii = this.gi.push(item) - 1));
      this.g.push([]);
    }
    const col = this.g[ii]!;
    while (col.length < ui) col.push(null);
    if (!cell) {
      col[ui] = null;
      return;
    }
    const raw = isRawOnly(cell.r);
    const pkeys = cell.p ? Object.keys(cell.p) : [];
    const only = cell.p?.grade;
    if (raw !== null && !cell.p) col[ui] = raw;
    else if (raw !== null && pkeys.length === 1 && only && only.length === 1 && only[0]!.length === 3) {
      // The common case after a re-base: one raw grade with its origin, ~12 bytes instead of ~70.
      const dev = only[0]![1] as string;
      let di = this.odIndex.get(dev);
      if (di === undefined) this.odIndex.set(dev, (di = this.od.push(dev) - 1));
      col[ui] = [raw, di, only[0]![2] as number];
    } else col[ui] = cell.p ? cell : { r: cell.r };
  }

  /** Drops the columns of items/categories that no longer exist (their grades left the snapshot already). */
  keepColumns(keep: (item: string) => boolean): void {
    for (let i = this.gi.length - 1; i >= 0; i--) {
      if (keep(this.gi[i]!)) continue;
      this.gi.splice(i, 1);
      this.g.splice(i, 1);
    }
    this.iIndex.clear();
    this.gi.forEach((it, i) => this.iIndex.set(it, i));
  }

  finish(): BaseSnapshot {
    for (const col of this.g) while (col.length < this.gu.length) col.push(null);
    const base: BaseSnapshot = {
      v: 1,
      settings: this.setup.settings,
      categories: this.setup.categories,
      items: this.setup.items,
      gu: this.gu,
      gi: this.gi,
      g: this.g,
    };
    if (this.od.length) base.od = this.od;
    if (this.setup.users) base.users = this.setup.users;
    return base;
  }
}

/** Packs a course (setup + cells) into a base snapshot. */
export function buildBase(setup: BaseSetup, cells: Iterable<[string, string, PackedCell]>): BaseSnapshot {
  const b = new BaseBuilder(setup);
  for (const [item, user, cell] of cells) b.set(item, user, cell);
  return b.finish();
}

// ---------------------------------------------------------------------------------------------------------------
// Initial load

let idCounter = 0;
/** A unique id for a history entry or epoch made by this doc instance (clientID is unique per live doc). */
export function newId(doc: Y.Doc): string {
  idCounter += 1;
  return `${doc.clientID.toString(36)}.${idCounter.toString(36)}`;
}

/**
 * Loads a whole course into an EMPTY document as one transaction whose origin is the actor; throws a
 * ValidationError naming the JSON path at fault (and changes nothing) when the course is malformed or the
 * document already holds a course (use the `bulk` command to change an existing one).
 */
export function courseJsonToDoc(
  json: CourseJson,
  doc: Y.Doc,
  actor: Actor,
  opts: { at?: number; courseId?: string; src?: string } = {},
): void {
  const problems = courseProblems(json);
  if (problems.length) throw new ValidationError(problems);
  if (currentEpoch(doc))
    throw new ValidationError([{ at: 'doc', message: 'the document already holds a course' }]);
  const at = opts.at ?? 0;
  const categories = json.categories.map((c, i) => ({ ...c, sortorder: i + 1 }));
  const items = json.items.map((it, i) => ({ ...it, sortorder: i + 1 }));
  const base = buildBase(
    { settings: json.settings, categories, items, ...(json.users ? { users: json.users } : {}) },
    (function* () {
      for (const g of json.grades)
        yield [g.item, g.user, { r: gradeToRecord(g) }] as [string, string, PackedCell];
    })(),
  );
  const id = newId(doc);
  doc.transact(() => {
    const meta = metaMap(doc);
    meta.set('schema', COURSE_SCHEMA_VERSION);
    if (opts.courseId) meta.set('courseId', opts.courseId);
    const m = newEpochMap(`0.${id}`, 0, base, { at, by: actor.userId, dev: actor.deviceId }, null);
    epochsMap(doc).set(`0.${id}`, m);
    const e = epochFrom(m);
    appendHistory(e, [
      { k: 'load', id, by: actor.userId, dev: actor.deviceId, at, src: opts.src ?? 'import' },
    ]);
  }, actor);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

export function rowToJson(m: Y.Map<unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of m.entries()) out[k] = v;
  return out;
}

function bySortorder(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const sa = Number(a.sortorder ?? 0);
  const sb = Number(b.sortorder ?? 0);
  return sa - sb || (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);
}

/** Slots of every cell that has any, keyed `item\0user`. */
export function slotsByCell(e: Epoch): Map<string, GradeSlot[]> {
  const out = new Map<string, GradeSlot[]>();
  for (const [key, text] of e.grades.entries()) {
    const slot = JSON.parse(text) as GradeSlot;
    const cut = key.lastIndexOf(SEP);
    const cell = key.slice(0, cut);
    const list = out.get(cell);
    if (list) list.push(slot);
    else out.set(cell, [slot]);
  }
  return out;
}

export function cellSlots(e: Epoch, item: string, user: string): GradeSlot[] {
  // Slots of one cell: keys share the `item\0user\0` prefix; devices per cell are few, so scan known devices.
  const out: GradeSlot[] = [];
  const prefix = item + SEP + user + SEP;
  for (const dev of devicesOf(e)) {
    const s = e.grades.get(prefix + dev);
    if (s) out.push(JSON.parse(s) as GradeSlot);
  }
  return out;
}

const devCache = new WeakMap<Y.Map<string>, Set<string>>();
/** Devices that wrote any slot in this epoch: built once, then kept current by an observer and by local writes. */
export function devicesOf(e: Epoch): Set<string> {
  let devs = devCache.get(e.grades);
  if (devs) return devs;
  const set = new Set<string>();
  for (const key of e.grades.keys()) set.add(key.slice(key.lastIndexOf(SEP) + 1));
  e.grades.observe((ev) => {
    for (const key of ev.keysChanged) set.add(key.slice(key.lastIndexOf(SEP) + 1));
  });
  devCache.set(e.grades, set);
  devs = set;
  return devs;
}

/** One cell's merged state: record, conflicts (if any) and every live candidate. */
export interface CellState {
  item: string;
  user: string;
  record: CellRecord;
  conflicts: Partial<Record<GradeField, Candidate[]>>;
  live: Partial<Record<GradeField, Candidate[]>>;
}

/** One cell's base value merged with its slots. */
function mergedCell(e: Epoch, cells: BaseCells, item: string, user: string): ReturnType<typeof mergeCell> {
  return mergeCell(toBaseCell(cells.get(item + SEP + user)), cellSlots(e, item, user));
}

export function readCell(doc: Y.Doc, item: string, user: string): CellState {
  const e = requireEpoch(doc);
  return { item, user, ...mergedCell(e, epochBase(e).cells, item, user) };
}

/** The merged records of one user's cells for `items`, in that order: readCell's records, the epoch looked up once. */
export function readUserRecords(doc: Y.Doc, user: string, items: readonly string[]): CellRecord[] {
  const e = requireEpoch(doc);
  const { cells } = epochBase(e);
  return items.map((item) => mergedCell(e, cells, item, user).record);
}

export interface CellConflict {
  item: string;
  user: string;
  field: GradeField;
  candidates: Candidate[];
}

/** Every cell field in conflict, sorted by item, user, field (base conflicts carried over by a re-base included). */
export function listConflicts(doc: Y.Doc): CellConflict[] {
  const e = requireEpoch(doc);
  const { cells } = epochBase(e);
  const bySlots = slotsByCell(e);
  const out: CellConflict[] = [];
  const push = (key: string, conflicts: Partial<Record<GradeField, Candidate[]>>) => {
    const [item, user] = key.split(SEP) as [string, string];
    for (const f of GRADE_FIELDS) {
      const c = conflicts[f];
      if (c) out.push({ item, user, field: f, candidates: c });
    }
  };
  for (const [key, slots] of bySlots) push(key, mergeCell(toBaseCell(cells.get(key)), slots).conflicts);
  for (const [key, cell] of cells.withCandidates()) {
    if (!bySlots.has(key)) push(key, mergeCell(toBaseCell(cell), []).conflicts);
  }
  return out.sort((a, b) =>
    a.item < b.item
      ? -1
      : a.item > b.item
        ? 1
        : a.user < b.user
          ? -1
          : a.user > b.user
            ? 1
            : GRADE_FIELDS.indexOf(a.field) - GRADE_FIELDS.indexOf(b.field),
  );
}

export interface SetupRows {
  settings: Record<string, unknown>;
  categories: Map<string, Record<string, unknown>>;
  items: Map<string, Record<string, unknown>>;
  users: Map<string, Record<string, unknown>>;
}

export type Setup = {
  settings: CourseSettings;
  categories: CourseCategory[];
  items: CourseItem[];
  users: { id: string; name: string; groups?: string[] }[];
};

/** Setup rows as the snapshot gives them (sorted by sortorder, then id; sortorder removed). */
export function setupFromRows(rows: SetupRows): Setup {
  const strip = (r: Record<string, unknown>) => {
    const { sortorder: _s, ...rest } = r;
    return rest;
  };
  const users = [...rows.users.values()] as Setup['users'];
  users.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    settings: { ...rows.settings } as CourseSettings,
    categories: [...rows.categories.values()].sort(bySortorder).map(strip) as unknown as CourseCategory[],
    items: [...rows.items.values()].sort(bySortorder).map(strip) as unknown as CourseItem[],
    users,
  };
}

/** The live setup rows of an epoch, with sortorder. */
export function setupRows(e: Epoch): SetupRows {
  const m = (y: Y.Map<Y.Map<unknown>>) =>
    new Map([...y.entries()].map(([k, v]) => [k, rowToJson(v)] as const));
  return {
    settings: rowToJson(e.settings),
    categories: m(e.categories),
    items: m(e.items),
    users: new Map(
      [...e.users.entries()].map(([k, v]) => [k, { ...(v as Record<string, unknown>) }] as const),
    ),
  };
}

export function readSetup(e: Epoch): Setup {
  return setupFromRows(setupRows(e));
}

/**
 * The CourseJson the engine regrades. A cell field in conflict contributes its deterministic first candidate
 * (earliest `at`, then device id, then counter); `listConflicts`/`readCell` say which cells are flagged.
 * Grades of deleted items or categories are left out.
 */
export function docToCourseJson(doc: Y.Doc): CourseJson {
  const e = requireEpoch(doc);
  return assembleCourse(epochBase(e).cells, readSetup(e), slotsByCell(e));
}

/** Builds a CourseJson from a base's cells, setup rows and the slots of each cell (consumes `bySlots`). */
export function assembleCourse(
  cells: BaseCells,
  setup: Setup,
  bySlots: Map<string, GradeSlot[]>,
): CourseJson {
  const targets = new Set<string>(['course']);
  for (const c of setup.categories) targets.add(c.id);
  for (const it of setup.items) targets.add(it.id);
  const grades: CourseGrade[] = [];
  cells.gi.forEach((item, col) => {
    if (!targets.has(item)) return;
    const n = cells.columnLength(col);
    for (let u = 0; u < n; u++) {
      const v = cells.cell(col, u);
      if (v === null) continue;
      const user = cells.gu[u]!;
      const key = item + SEP + user;
      const slots = bySlots.get(key);
      if (slots) {
        const g = recordToGrade(item, user, mergeCell(toBaseCell(cells.get(key)), slots).record);
        if (g) grades.push(g);
        bySlots.delete(key);
      } else if (typeof v === 'number') grades.push({ user, item, raw: v });
      else if (Array.isArray(v)) grades.push({ user, item, raw: v[0] });
      else {
        // A packed cell's record already holds each field's first candidate: no merge needed.
        const g = recordToGrade(item, user, v.r);
        if (g) grades.push(g);
      }
    }
  });
  const extra: CourseGrade[] = [];
  for (const [key, slots] of bySlots) {
    const [item, user] = key.split(SEP) as [string, string];
    if (!targets.has(item)) continue;
    const g = recordToGrade(item, user, mergeCell(toBaseCell(cells.get(key)), slots).record);
    if (g) extra.push(g);
  }
  extra.sort((a, b) =>
    a.item < b.item ? -1 : a.item > b.item ? 1 : a.user < b.user ? -1 : a.user > b.user ? 1 : 0,
  );
  const out: CourseJson = {
    categories: setup.categories,
    items: setup.items,
    grades: grades.concat(extra),
    settings: setup.settings,
  };
  if (setup.users.length) out.users = setup.users;
  return out;
}

/** Migrations from older schema versions, applied in order inside one transaction (none yet: schema 1 is first). */
export const MIGRATIONS: ReadonlyArray<{ to: number; run(doc: Y.Doc): void }> = [];

/**
 * Brings a document to COURSE_SCHEMA_VERSION. Refuses a document written by a NEWER schema (an older app must not
 * rewrite what it does not understand). Returns the version found.
 */
export function migrateCourseDoc(doc: Y.Doc, actor: Actor): number {
  const found = Number(metaMap(doc).get('schema') ?? COURSE_SCHEMA_VERSION);
  if (found > COURSE_SCHEMA_VERSION)
    throw new ValidationError([
      {
        at: 'meta.schema',
        message: `document schema ${found} is newer than this app understands (${COURSE_SCHEMA_VERSION})`,
      },
    ]);
  if (found < COURSE_SCHEMA_VERSION) {
    doc.transact(() => {
      for (const m of MIGRATIONS) if (m.to > found && m.to <= COURSE_SCHEMA_VERSION) m.run(doc);
      metaMap(doc).set('schema', COURSE_SCHEMA_VERSION);
    }, actor);
  }
  return found;
}

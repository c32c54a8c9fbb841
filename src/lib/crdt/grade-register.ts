// The multi-value register behind every grade cell: one slot per device, field-level version vectors, pure merge.
// Pure functions over plain JSON (no Yjs here): never reads a clock, never drops a value a write had not seen.

/** The independently mergeable parts of one grade cell. `grade` bundles raw/final and the range it was graded in. */
export const GRADE_FIELDS = ['grade', 'overridden', 'feedback', 'excluded', 'hidden', 'locked'] as const;
export type GradeField = (typeof GRADE_FIELDS)[number];

export interface GradeValue {
  raw?: number | null;
  final?: number;
  rawgrademin?: number;
  rawgrademax?: number;
}

/** The value of each field of one cell (undefined = not set). */
export interface CellRecord {
  grade?: GradeValue | null;
  overridden?: number | null;
  feedback?: string;
  excluded?: boolean;
  hidden?: boolean | number;
  locked?: boolean | number;
}

/**
 * One value of one field with where it came from. `[value]` means "written by the slot holding it"; otherwise
 * `[value, device, counter, by, at]` (`by`/`at` may be left out in a base: unknown). Device `@` with counter 0 is
 * the epoch base, which every slot has seen.
 */
export type Pair = [unknown] | [unknown, string, number] | [unknown, string, number, string, number];

/** One device's view of one cell after its latest write to it. Stored as plain JSON under `item\0user\0device`. */
export interface GradeSlot {
  /** Device id. */
  d: string;
  /** This device's write counter for this cell; the slot's own writes are origin (d, c). */
  c: number;
  /** Highest counter seen per other device (or base origin) for this cell when written. */
  vv: Record<string, number>;
  by: string;
  at: number;
  src: string;
  /** Field values as this device saw them after its write; a missing field means "the base value". */
  f: Partial<Record<GradeField, Pair[]>>;
}

/** A fully-qualified value of a field. */
export interface Candidate {
  value: unknown;
  /** Origin `device:counter` (unique per cell). */
  origin: string;
  dev: string;
  c: number;
  by: string;
  at: number;
}

export interface MergedCell {
  /** Value per field: the single live value, or under conflict the first candidate (by at, device, counter). */
  record: CellRecord;
  /** Fields with more than one live value, with every live candidate in deterministic order. */
  conflicts: Partial<Record<GradeField, Candidate[]>>;
  /** Live candidates for every set field (length 1 unless in conflict). */
  live: Partial<Record<GradeField, Candidate[]>>;
}

export const BASE_DEVICE = '@';

/** Canonical JSON for value equality (keys sorted; values here are small). */
export function canonical(v: unknown): string {
  if (v === undefined) return 'u';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

function expand(slot: GradeSlot, p: Pair): Candidate {
  if (p.length === 1)
    return { value: p[0], origin: `${slot.d}:${slot.c}`, dev: slot.d, c: slot.c, by: slot.by, at: slot.at };
  const q = p as unknown[];
  return {
    value: p[0],
    origin: `${p[1]}:${p[2]}`,
    dev: p[1],
    c: p[2],
    by: String(q[3] ?? ''),
    at: Number(q[4] ?? 0),
  };
}

function expandBase(p: Pair): Candidate {
  if (p.length === 1)
    return { value: p[0], origin: `${BASE_DEVICE}:0`, dev: BASE_DEVICE, c: 0, by: '', at: 0 };
  const q = p as unknown[];
  return {
    value: p[0],
    origin: `${p[1]}:${p[2]}`,
    dev: p[1],
    c: p[2],
    by: String(q[3] ?? ''),
    at: Number(q[4] ?? 0),
  };
}

/** The base pairs of a field (from the epoch base record and its stored conflicts). */
export type BaseCell = { record: CellRecord; pairs?: Partial<Record<GradeField, Pair[]>> } | undefined;

function basePairs(base: BaseCell, f: GradeField): Candidate[] {
  if (!base) return [];
  const stored = base.pairs?.[f];
  if (stored) return stored.map(expandBase);
  const v = base.record[f];
  return v === undefined ? [] : [expandBase([v])];
}

function slotCandidates(slot: GradeSlot, base: BaseCell, f: GradeField): Candidate[] {
  const ps = slot.f[f];
  return ps ? ps.map((p) => expand(slot, p)) : basePairs(base, f);
}

function covers(slot: GradeSlot, dev: string, c: number): boolean {
  const seen = dev === slot.d ? slot.c : (slot.vv[dev] ?? (dev === BASE_DEVICE ? 0 : -1));
  return seen >= c;
}

function order(a: Candidate, b: Candidate): number {
  return a.at - b.at || (a.dev < b.dev ? -1 : a.dev > b.dev ? 1 : 0) || a.c - b.c;
}

/**
 * Merges a cell: a candidate survives unless some slot has seen its origin and holds a different value-origin
 * for that field. The result depends only on the set of slots, so every replica derives the same cell.
 */
export function mergeCell(base: BaseCell, slots: readonly GradeSlot[]): MergedCell {
  const record: CellRecord = {};
  const conflicts: MergedCell['conflicts'] = {};
  const live: MergedCell['live'] = {};
  for (const f of GRADE_FIELDS) {
    const byOrigin = new Map<string, Candidate>();
    const held: Set<string>[] = [];
    for (const c of basePairs(base, f)) byOrigin.set(c.origin, c);
    for (const s of slots) {
      const cs = slotCandidates(s, base, f);
      const set = new Set<string>();
      for (const c of cs) {
        set.add(c.origin);
        if (!byOrigin.has(c.origin)) byOrigin.set(c.origin, c);
      }
      held.push(set);
    }
    const alive: Candidate[] = [];
    for (const cand of byOrigin.values()) {
      let stale = false;
      for (let i = 0; i < slots.length && !stale; i++) {
        const s = slots[i]!;
        if (covers(s, cand.dev, cand.c) && !held[i]!.has(cand.origin)) stale = true;
      }
      if (!stale) alive.push(cand);
    }
    if (alive.length === 0) continue;
    alive.sort(order);
    live[f] = alive;
    (record as Record<string, unknown>)[f] = alive[0]!.value;
    // Two graders who wrote the same value concurrently agree: both writes stay live (and in the history), but
    // there is nothing for a person to settle, so only differing values make a conflict.
    if (alive.length > 1 && new Set(alive.map((c) => canonical(c.value))).size > 1) conflicts[f] = alive;
  }
  return { record, conflicts, live };
}

/**
 * The slot a device writes when it changes `patch` on a cell: it has seen every origin present in any slot or the
 * base, keeps unresolved conflicts of the fields it does not touch, and writes its own value for the touched ones.
 */
export function writeSlot(
  base: BaseCell,
  slots: readonly GradeSlot[],
  dev: string,
  patch: CellRecord,
  meta: { by: string; at: number; src: string },
): GradeSlot {
  const own = slots.find((s) => s.d === dev);
  const c = (own?.c ?? 0) + 1;
  const vv: Record<string, number> = {};
  const see = (d: string, n: number) => {
    // Every slot has seen the base (`@`), so it is never recorded.
    if (d === dev || d === BASE_DEVICE) return;
    if ((vv[d] ?? -1) < n) vv[d] = n;
  };
  for (const s of slots) {
    see(s.d, s.c);
    for (const [d, n] of Object.entries(s.vv)) see(d, n);
  }
  const merged = mergeCell(base, slots);
  for (const f of GRADE_FIELDS) for (const cand of merged.live[f] ?? []) see(cand.dev, cand.c);
  const f: GradeSlot['f'] = {};
  for (const field of GRADE_FIELDS) {
    if (Object.prototype.hasOwnProperty.call(patch, field) && patch[field] !== undefined) {
      f[field] = [[patch[field]]];
      continue;
    }
    const cands = merged.live[field];
    if (!cands) continue;
    // Keep the base implicitly when this field still holds exactly the base value(s): smaller slots.
    const bp = basePairs(base, field);
    if (bp.length === cands.length && bp.every((b, i) => b.origin === cands[i]!.origin)) continue;
    f[field] = cands.map((k): Pair => [k.value, k.dev, k.c, k.by, k.at]);
  }
  // A field cleared by the patch (explicit undefined is not allowed): callers pass null to clear.
  return { d: dev, c, vv, by: meta.by, at: meta.at, src: meta.src, f };
}

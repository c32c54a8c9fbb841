// Growth control: re-base a course document into a fresh epoch (so Yjs can GC every overwritten entry at once),
// and rescue offline writes that reached an epoch after it was folded. Never drops a write it has not folded.
import * as Y from 'yjs';
import type { Clock } from '../domain/shared/clock.ts';
import { ValidationError } from '../domain/shared/errors.ts';
import { applyCommand, type Command, type CommandContext } from './commands.ts';
import { GRADE_FIELDS, mergeCell, type CellRecord, type GradeField, type Pair } from './grade-register.ts';
import {
  SEP,
  appendHistory,
  entrySlot,
  BaseBuilder,
  historySize,
  readHistory,
  currentEpoch,
  epochBase,
  epochFrom,
  epochsMap,
  newEpochMap,
  newId,
  requireEpoch,
  setupRows,
  slotsByCell,
  toBaseCell,
  type Actor,
  type HistoryEntry,
  type PackedCell,
} from './course-doc.ts';
import type { HistoryArchive } from './history.ts';

/** How big the live part of the current epoch is: what a re-base would shed. */
export interface GrowthStats {
  epoch: string;
  /** Grade slots written since the epoch started (each overwrite of one leaves a tombstone). */
  slots: number;
  historyEntries: number;
  /** Encoded v1 size of the whole document in bytes. */
  bytes: number;
}

export function growthStats(doc: Y.Doc): GrowthStats {
  const e = requireEpoch(doc);
  return {
    epoch: e.id,
    slots: e.grades.size,
    historyEntries: readHistory(e).length,
    bytes: Y.encodeStateAsUpdate(doc).length,
  };
}

/**
 * Whether a re-base is due: by default once the epoch holds 50 000 log entries. Measured on a 2 000 x 300 course
 * (test/bench/crdt.bench.ts): at 100 000 an epoch took 1.6-2.4 s to cold-load (about 390 bytes per overwrite),
 * over the 2 s goal on a loaded machine; half that keeps the worst case near 1 s.
 */
export function shouldRebase(doc: Y.Doc, maxEntries = 50_000): boolean {
  const e = currentEpoch(doc);
  return !!e && historySize(e) >= maxEntries;
}

/**
 * Folds the current epoch into a new one as ONE transaction whose origin is the actor: the new base holds every
 * cell's merged state (open conflicts keep all their candidates), setup is copied, and every older epoch is
 * deleted so Yjs garbage-collects its entries and tombstones. Returns the folded log for cold storage.
 * Writes made offline against the old epoch are replayed by their own device (see bindCourseDoc).
 */
export function rebaseCourseDoc(doc: Y.Doc, ctx: { actor: Actor; clock: Clock }): HistoryArchive {
  const e = requireEpoch(doc);
  if (!isCausallyComplete(doc))
    throw new ValidationError([
      { at: 'doc', message: 'updates are still pending (received out of order); re-base after they arrive' },
    ]);
  const now = ctx.clock.now();
  const { cells } = epochBase(e);
  const bySlots = slotsByCell(e);
  // Origins keep the epoch they were written in: `device#n` (already tagged ones keep their tag).
  const rename = (dev: string) => (dev === '@' || dev.includes('#') ? dev : `${dev}#${e.n}`);
  const fold = (merged: ReturnType<typeof mergeCell>): PackedCell | null => {
    const r: CellRecord = {};
    let p: PackedCell['p'];
    for (const f of GRADE_FIELDS) {
      const live = merged.live[f];
      if (!live) continue;
      if (live.length > 1) {
        p ??= {};
        p[f] = live.map((k): Pair => [k.value, rename(k.dev), k.c, k.by, k.at]);
      } else if (live[0]!.dev !== '@') {
        // A single value keeps only its origin (who/when are in the archived log): ~15 bytes per written cell.
        p ??= {};
        p[f] = [[live[0]!.value, rename(live[0]!.dev), live[0]!.c]];
      }
      if (live[0]!.value !== null) (r as Record<string, unknown>)[f] = live[0]!.value;
    }
    if (!Object.keys(r).length && !p) return null;
    return p ? { r, p } : { r };
  };
  const rows = setupRows(e);
  // Cells nobody wrote in this epoch are copied as they are; only written cells are merged and packed again.
  const builder = new BaseBuilder(
    {
      settings: rows.settings,
      categories: [...rows.categories.values()] as never,
      items: [...rows.items.values()] as never,
      users: [...rows.users.values()] as never,
    },
    cells,
  );
  for (const [key, slots] of bySlots) {
    const [item, user] = key.split(SEP) as [string, string];
    builder.set(item, user, fold(mergeCell(toBaseCell(cells.get(key)), slots)));
  }
  // Grades of deleted items and categories do not survive a re-base.
  builder.keepColumns((item) => item === 'course' || rows.items.has(item) || rows.categories.has(item));
  const base = builder.finish();
  if (!rows.users.size) delete base.users;
  const sv: Record<string, number> = {};
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) sv[String(client)] = clock;
  const archive: HistoryArchive = {
    epoch: e.id,
    from: Number(e.map.get('at') ?? 0),
    to: now,
    base: e.map.get('base') as string,
    entries: readHistory(e).slice(),
  };
  doc.transact(() => {
    const id = newId(doc);
    const epochId = `${e.n + 1}.${id}`;
    const m = newEpochMap(
      epochId,
      e.n + 1,
      base,
      { at: now, by: ctx.actor.userId, dev: ctx.actor.deviceId },
      { epoch: e.id, sv: JSON.stringify(sv) },
    );
    const epochs = epochsMap(doc);
    // What this fold saw, kept outside the epochs so a device that comes back much later can still tell which of
    // its writes to the folded epoch made it in (the next epochs may be gone by then).
    foldsMap(doc).set(e.id, JSON.stringify(sv));
    for (const k of [...epochs.keys()]) epochs.delete(k);
    epochs.set(epochId, m);
    appendHistory(epochFrom(m), [
      {
        k: 'rebase',
        from: e.id,
        id,
        by: ctx.actor.userId,
        dev: ctx.actor.deviceId,
        at: now,
        src: 'rebase',
      },
    ]);
  }, ctx.actor);
  return archive;
}

/**
 * Whether every received update is integrated. Yjs applies the deletions of a pending update at once, so a doc
 * with pending updates can show an old value deleted before its replacement arrived; folding such a state would
 * drop that value, so a re-base waits for a complete state.
 */
export function isCausallyComplete(doc: Y.Doc): boolean {
  return doc.store.pendingStructs === null && doc.store.pendingDs === null;
}

// ---------------------------------------------------------------------------------------------------------------
// Rescue of offline writes

/** The value stored under `key` even if the map (or entry) is deleted but not yet garbage-collected. */
function rawGet(map: Y.Map<unknown>, key: string): unknown {
  const item = map._map.get(key);
  if (!item) return undefined;
  const c = item.content.getContent();
  return c[c.length - 1];
}

/** Log entries of an epoch map with the Yjs id of each (works on a deleted, not yet collected epoch). */
function entriesWithIds(arr: Y.Array<string>): { entry: HistoryEntry; client: number; clock: number }[] {
  const out: { entry: HistoryEntry; client: number; clock: number }[] = [];
  for (let n = arr._start; n; n = n.right) {
    // One element per command; every entry of a command shares that element's Yjs id.
    const vals = n.content.getContent() as string[];
    vals.forEach((text, k) => {
      for (const entry of JSON.parse(text) as HistoryEntry[])
        out.push({ entry, client: n!.id.client, clock: n!.id.clock + k });
    });
  }
  return out;
}

/** Root map `folds`: folded epoch id -> JSON state vector the re-base had seen (one small entry per re-base). */
export function foldsMap(doc: Y.Doc): Y.Map<string> {
  return doc.getMap('folds');
}

/** What the re-base that folded `epoch` had seen; empty (nothing folded) when unknown, so every write is replayed. */
function foldedState(doc: Y.Doc, epoch: string): Record<string, number> {
  const sv = foldsMap(doc).get(epoch);
  return sv ? (JSON.parse(sv) as Record<string, number>) : {};
}

interface Collected {
  epoch: string;
  n: number;
  entries: { entry: HistoryEntry; client: number; clock: number }[];
}

/** This device's change entries in an epoch map (readable even while it is deleted but not yet collected). */
function collectOwn(old: Y.Map<unknown>, deviceId: string): Collected | null {
  const hist = rawGet(old, 'history');
  if (!(hist instanceof Y.Array)) return null;
  const entries = entriesWithIds(hist as Y.Array<string>).filter(
    ({ entry }) =>
      entry.dev === deviceId && (entry.k === 'grade' || entry.k === 'row' || entry.k === 'settings'),
  );
  return { epoch: String(rawGet(old, 'id') ?? ''), n: Number(rawGet(old, 'n') ?? 0), entries };
}

/**
 * Replays collected writes that the current epoch's re-base had not seen, as new changes with source
 * `rescue:<epoch>`. Cells changed meanwhile become conflicts holding both values. Idempotent per device and
 * epoch. Returns the number of entries replayed, or null when there is no current epoch yet (try again later).
 */
function replayCollected(doc: Y.Doc, col: Collected, ctx: CommandContext): number | null {
  const cur = currentEpoch(doc);
  if (!cur) return null;
  if (cur.id === col.epoch) return 0;
  const src = `rescue:${col.epoch}`;
  if (readHistory(cur).some((h) => h.dev === ctx.actor.deviceId && h.src === src)) return 0;
  const sv = foldedState(doc, col.epoch);
  const mine = col.entries.filter(({ client, clock }) => clock >= (sv[String(client)] ?? 0));
  if (!mine.length) return 0;
  const cmds: Command[] = [];
  const cells = new Map<
    string,
    {
      old: CellRecord;
      fields: CellRecord;
      seen: Record<string, number>;
      held: Partial<Record<GradeField, string[]>>;
    }
  >();
  for (const { entry } of mine) {
    if (entry.k === 'grade') {
      const key = entry.item + SEP + entry.user;
      let c = cells.get(key);
      if (!c) {
        c = { old: {}, fields: {}, seen: {}, held: {} };
        cells.set(key, c);
        cmds.push({
          type: 'rescueCell',
          item: entry.item,
          user: entry.user,
          old: c.old,
          fields: c.fields,
          from: col.epoch,
          epoch: col.n,
          seen: c.seen,
          held: c.held,
        });
      }
      // Values the writer kept beside its own (an open conflict it had not settled), as origins tagged by epoch.
      const slot = entrySlot(entry);
      for (const [f, pairs] of Object.entries(slot.f) as [GradeField, Pair[]][]) {
        c.held[f] = pairs
          .filter((p) => p.length > 1)
          .map((p) => {
            const d = p[1] as string;
            return `${d === '@' || d.includes('#') ? d : `${d}#${col.n}`}:${p[2] as number}`;
          });
      }
      // What the writer had seen, in its epoch's counters (the last write of a cell has seen the most).
      for (const [d, n] of Object.entries(slot.vv)) if ((c.seen[d] ?? -1) < n) c.seen[d] = n;
      if ((c.seen[entry.dev] ?? -1) < entry.c) c.seen[entry.dev] = entry.c;
      for (const f of Object.keys(entry.new) as GradeField[]) {
        if (!(f in c.old)) (c.old as Record<string, unknown>)[f] = entry.old[f] ?? null;
        (c.fields as Record<string, unknown>)[f] = entry.new[f] ?? null;
      }
    } else if (entry.k === 'row') {
      if (entry.new === null)
        cmds.push({ type: 'restoreRow', coll: entry.coll, id: entry.row, fields: null });
      else if (entry.old === null)
        cmds.push({ type: 'restoreRow', coll: entry.coll, id: entry.row, fields: entry.new });
      else
        cmds.push({
          type: 'restoreRow',
          coll: entry.coll,
          id: entry.row,
          fields: entry.new,
          mustExist: true,
        });
    } else if (entry.k === 'settings') {
      cmds.push({ type: 'restoreSettings', fields: entry.new });
    }
  }
  const r = applyCommand(doc, { type: 'bulk', commands: cmds }, { ...ctx, src });
  return r.ok ? mine.length : 0;
}

/** Replays this device's unfolded writes in `old`, an epoch that is no longer current (see replayCollected). */
export function rescueEpoch(doc: Y.Doc, old: Y.Map<unknown>, ctx: CommandContext): number {
  const col = collectOwn(old, ctx.actor.deviceId);
  return col && col.entries.length ? (replayCollected(doc, col, ctx) ?? 0) : 0;
}

/**
 * Keeps a course document safe across re-bases for one device: whenever an epoch stops being current (deleted by
 * a re-base, or superseded by a concurrent one), replays this device's unfolded writes into the current epoch.
 * If no epoch is complete yet (its update still pending), the writes are kept in memory until one is.
 * Call before connecting a provider. Returns an unbind function.
 */
export function bindCourseDoc(doc: Y.Doc, ctx: CommandContext): () => void {
  const epochs = epochsMap(doc);
  const pending: Collected[] = [];
  const flush = () => {
    for (let i = 0; i < pending.length;) {
      if (replayCollected(doc, pending[i]!, ctx) === null) return;
      pending.splice(i, 1);
    }
  };
  const consider = (m: Y.Map<unknown>) => {
    const col = collectOwn(m, ctx.actor.deviceId);
    if (col && col.entries.length && !pending.some((p) => p.epoch === col.epoch)) pending.push(col);
  };
  // Runs during the observer calls of the transaction that removed or superseded an epoch: the removed epoch's
  // content is still readable then (Yjs collects it only after the observers); the replay is a new transaction.
  const onChange = (ev: Y.YMapEvent<Y.Map<unknown>>) => {
    ev.changes.keys.forEach((change) => {
      if (change.action === 'delete' && change.oldValue instanceof Y.Map)
        consider(change.oldValue as Y.Map<unknown>);
    });
    const cur = currentEpoch(doc);
    for (const m of epochs.values()) if (m instanceof Y.Map && cur && m !== cur.map) consider(m);
    flush();
  };
  epochs.observe(onChange);
  // Epochs already superseded when bound (e.g. loaded from storage).
  const cur = currentEpoch(doc);
  for (const m of epochs.values()) if (m instanceof Y.Map && cur && m !== cur.map) consider(m);
  flush();
  return () => epochs.unobserve(onChange);
}

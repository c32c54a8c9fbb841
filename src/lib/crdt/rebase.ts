// Growth control: re-base a course document into a fresh epoch (so Yjs can GC every overwritten entry at once),
// and rescue offline writes that reached an epoch after it was folded. Never drops a write it has not folded.
import * as Y from 'yjs';
import type { Clock } from '../domain/shared/clock.ts';
import { applyCommand, type Command, type CommandContext } from './commands.ts';
import {
  GRADE_FIELDS,
  mergeCell,
  type CellRecord,
  type GradeField,
  type Pair,
} from './grade-register.ts';
import {
  SEP,
  buildBase,
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
  return { epoch: e.id, slots: e.grades.size, historyEntries: e.history.length, bytes: Y.encodeStateAsUpdate(doc).length };
}

/**
 * Whether a re-base is due: by default once the epoch holds 50 000 log entries (about one full regrade of a
 * 500 x 100 course; past that, load time is dominated by the log and tombstones rather than the base).
 */
export function shouldRebase(doc: Y.Doc, maxEntries = 50_000): boolean {
  const e = currentEpoch(doc);
  return !!e && e.history.length >= maxEntries;
}

/**
 * Folds the current epoch into a new one as ONE transaction whose origin is the actor: the new base holds every
 * cell's merged state (open conflicts keep all their candidates), setup is copied, and every older epoch is
 * deleted so Yjs garbage-collects its entries and tombstones. Returns the folded log for cold storage.
 * Writes made offline against the old epoch are replayed by their own device (see bindCourseDoc).
 */
export function rebaseCourseDoc(doc: Y.Doc, ctx: { actor: Actor; clock: Clock }): HistoryArchive {
  const e = requireEpoch(doc);
  const now = ctx.clock.now();
  const { cells } = epochBase(e);
  const bySlots = slotsByCell(e);
  const rename = (dev: string) => `${dev}#${e.n}`;
  const packed: [string, string, PackedCell][] = [];
  const fold = (key: string, merged: ReturnType<typeof mergeCell>) => {
    const r: CellRecord = {};
    let p: PackedCell['p'];
    for (const f of GRADE_FIELDS) {
      const live = merged.live[f];
      if (!live) continue;
      if (live.length > 1) {
        p ??= {};
        p[f] = live.map((k): Pair => [k.value, k.dev === '@' ? '@' : rename(k.dev), k.c, k.by, k.at]);
      }
      if (live[0]!.value !== null) (r as Record<string, unknown>)[f] = live[0]!.value;
    }
    if (!Object.keys(r).length && !p) return;
    const [item, user] = key.split(SEP) as [string, string];
    packed.push([item, user, p ? { r, p } : { r }]);
  };
  for (const [key, cell] of cells) fold(key, bySlots.has(key) ? mergeCell(toBaseCell(cell), bySlots.get(key)!) : mergeCell(toBaseCell(cell), []));
  for (const [key, slots] of bySlots) if (!cells.has(key)) fold(key, mergeCell(undefined, slots));
  const rows = setupRows(e);
  const base = buildBase(
    {
      settings: rows.settings,
      categories: [...rows.categories.values()] as never,
      items: [...rows.items.values()] as never,
      users: [...rows.users.values()] as never,
    },
    packed,
  );
  if (!rows.users.size) delete base.users;
  const sv: Record<string, number> = {};
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) sv[String(client)] = clock;
  const archive: HistoryArchive = {
    epoch: e.id,
    from: Number(e.map.get('at') ?? 0),
    to: now,
    base: e.map.get('base') as string,
    entries: e.history.toArray(),
  };
  doc.transact(() => {
    const id = newId(doc);
    const epochId = `${e.n + 1}.${id}`;
    const m = newEpochMap(epochId, e.n + 1, base, { at: now, by: ctx.actor.userId, dev: ctx.actor.deviceId }, { epoch: e.id, sv: JSON.stringify(sv) });
    const epochs = epochsMap(doc);
    for (const k of [...epochs.keys()]) epochs.delete(k);
    epochs.set(epochId, m);
    epochFrom(m).history.push([{ k: 'rebase', from: e.id, id, tx: id, by: ctx.actor.userId, dev: ctx.actor.deviceId, at: now, src: 'rebase' }]);
  }, ctx.actor);
  return archive;
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
function entriesWithIds(arr: Y.Array<HistoryEntry>): { entry: HistoryEntry; client: number; clock: number }[] {
  const out: { entry: HistoryEntry; client: number; clock: number }[] = [];
  for (let n = arr._start; n; n = n.right) {
    const vals = n.content.getContent() as HistoryEntry[];
    vals.forEach((entry, k) => out.push({ entry, client: n!.id.client, clock: n!.id.clock + k }));
  }
  return out;
}

function foldedState(doc: Y.Doc): Record<string, number> {
  const e = currentEpoch(doc);
  const from = e?.map.get('from') as { sv: string } | null | undefined;
  return from ? (JSON.parse(from.sv) as Record<string, number>) : {};
}

/**
 * Replays this device's writes in `old` (an epoch that is no longer current) that the current epoch's re-base had
 * not seen, as new changes with source `rescue:<epoch>`. Cells changed meanwhile become conflicts holding both
 * values. Idempotent per device and epoch. Returns the number of history entries replayed.
 */
export function rescueEpoch(doc: Y.Doc, old: Y.Map<unknown>, ctx: CommandContext): number {
  const cur = currentEpoch(doc);
  const oldId = String(rawGet(old, 'id') ?? '');
  if (!cur || cur.id === oldId) return 0;
  const src = `rescue:${oldId}`;
  if (cur.history.toArray().some((h) => h.dev === ctx.actor.deviceId && h.src === src)) return 0;
  const hist = rawGet(old, 'history');
  if (!(hist instanceof Y.Array)) return 0;
  const sv = foldedState(doc);
  const mine = entriesWithIds(hist as Y.Array<HistoryEntry>).filter(
    ({ entry, client, clock }) => entry.dev === ctx.actor.deviceId && entry.k !== 'load' && entry.k !== 'rebase' && clock >= (sv[String(client)] ?? 0),
  );
  if (!mine.length) return 0;
  const cmds: Command[] = [];
  const cells = new Map<string, { item: string; user: string; old: CellRecord; fields: CellRecord }>();
  for (const { entry } of mine) {
    if (entry.k === 'grade') {
      const key = entry.item + SEP + entry.user;
      let c = cells.get(key);
      if (!c) {
        c = { item: entry.item, user: entry.user, old: {}, fields: {} };
        cells.set(key, c);
        cmds.push({ type: 'rescueCell', item: entry.item, user: entry.user, old: c.old, fields: c.fields, from: oldId });
      }
      for (const f of Object.keys(entry.new) as GradeField[]) {
        if (!(f in c.old)) (c.old as Record<string, unknown>)[f] = entry.old[f] ?? null;
        (c.fields as Record<string, unknown>)[f] = entry.new[f] ?? null;
      }
    } else if (entry.k === 'row') {
      if (entry.new === null) cmds.push({ type: 'restoreRow', coll: entry.coll, id: entry.row, fields: null });
      else if (entry.old === null) cmds.push({ type: 'restoreRow', coll: entry.coll, id: entry.row, fields: entry.new });
      else cmds.push({ type: 'restoreRow', coll: entry.coll, id: entry.row, fields: entry.new, mustExist: true });
    } else if (entry.k === 'settings') {
      cmds.push({ type: 'restoreSettings', fields: entry.new });
    }
  }
  const r = applyCommand(doc, { type: 'bulk', commands: cmds }, { ...ctx, src });
  return r.ok ? mine.length : 0;
}

/**
 * Keeps a course document safe across re-bases for one device: whenever an epoch stops being current (deleted by
 * a re-base, or superseded by a concurrent one), replays this device's unfolded writes into the current epoch.
 * Call before connecting a provider. Returns an unbind function.
 */
export function bindCourseDoc(doc: Y.Doc, ctx: CommandContext): () => void {
  const epochs = epochsMap(doc);
  // Runs during the observer calls of the transaction that removed or superseded an epoch: the removed epoch's
  // content is still readable then (Yjs collects it only after the observers); the replay is a new transaction.
  const onChange = (ev: Y.YMapEvent<Y.Map<unknown>>) => {
    const olds: Y.Map<unknown>[] = [];
    ev.changes.keys.forEach((change) => {
      if (change.action === 'delete' && change.oldValue instanceof Y.Map) olds.push(change.oldValue as Y.Map<unknown>);
    });
    for (const m of epochs.values()) if (m instanceof Y.Map) olds.push(m);
    for (const m of olds) rescueEpoch(doc, m, ctx);
  };
  epochs.observe(onChange);
  // Epochs already superseded when bound (e.g. loaded from storage).
  for (const m of epochs.values()) if (m instanceof Y.Map) rescueEpoch(doc, m, ctx);
  return () => epochs.unobserve(onChange);
}

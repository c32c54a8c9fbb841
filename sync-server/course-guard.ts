// Checks what an incoming Yjs update would change in a course gradebook before the server stores it: the capability
// each change needs (via the CRDT module's entryCapabilities), locked grades, authorship and the append-only log.
// Reads the live document only; never applies or stores anything.
import * as Y from 'yjs';
import { SEP, currentEpoch, type Epoch, type HistoryEntry, readCell } from '../src/lib/crdt/course-doc.ts';
import { entryCapabilities } from '../src/lib/crdt/commands.ts';
import { isLockedAt } from '../src/lib/domain/gradebook/flags.ts';
import type { Capability } from '../src/lib/domain/shared/capabilities.ts';
import type { UpdateGuard, UpdateGuardContext, UpdateGuardResult } from './access.ts';

type Where = 'grades' | 'history' | 'other';

interface Decoded {
  items: Y.Item[];
  /** Per client, in ascending clock order (as the update lists them). */
  byClient: Map<number, Y.Item[]>;
  own: Set<Y.Item>;
  /** locate() results, so long chains (a bulk import's log) resolve in linear time. */
  memo: Map<Y.Item, { where: Where; key: string | null }>;
}

function decode(update: Uint8Array): { decoded: Decoded; ds: ReturnType<typeof Y.decodeUpdate>['ds'] } {
  const { structs, ds } = Y.decodeUpdate(update);
  const items = structs.filter((s): s is Y.Item => s instanceof Y.Item);
  const byClient = new Map<number, Y.Item[]>();
  for (const it of items) {
    const list = byClient.get(it.id.client);
    if (list) list.push(it);
    else byClient.set(it.id.client, [it]);
  }
  return { decoded: { items, byClient, own: new Set(items), memo: new Map() }, ds };
}

/** The struct (from the update or the document) that contains `id`. */
function findStruct(doc: Y.Doc, d: Decoded, id: Y.ID): Y.Item | null {
  const list = d.byClient.get(id.client);
  if (list) {
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const it = list[mid]!;
      if (id.clock < it.id.clock) hi = mid - 1;
      else if (id.clock >= it.id.clock + it.length) lo = mid + 1;
      else return it;
    }
  }
  if (Y.getState(doc.store, id.client) <= id.clock) return null;
  const s = Y.getItem(doc.store, id);
  return s instanceof Y.Item ? s : null;
}

/**
 * Which collection of the current epoch an item lives in, and its map key. Decoded items carry parent and key only
 * when they have no neighbours; otherwise both are inherited from the origin, which we follow (update or document).
 */
function locateRaw(
  doc: Y.Doc,
  d: Decoded,
  item: Y.Item,
  e: Epoch | null,
  depth = 0,
): { where: Where; key: string | null } {
  const key = item.parentSub ?? null;
  if (!e || depth > 10_000) return { where: 'other', key };
  const parent = item.parent as unknown;
  const classify = (t: unknown): Where => (t === e.grades ? 'grades' : t === e.history ? 'history' : 'other');
  if (parent instanceof Y.AbstractType) return { where: classify(parent), key };
  if (parent instanceof Y.ID) {
    const p = findStruct(doc, d, parent);
    if (!p || !(p.content instanceof Y.ContentType)) return { where: 'other', key };
    // The log of an epoch created by this very update (a re-base or a load): its entries are checked like any.
    if (d.own.has(p) && p.parentSub === 'history') return { where: 'history', key };
    return { where: classify(p.content.type), key };
  }
  if (typeof parent === 'string') return { where: 'other', key };
  const next = item.origin ?? item.rightOrigin;
  if (!next) return { where: 'other', key };
  const o = findStruct(doc, d, next);
  if (!o) return { where: 'other', key };
  const found = locate(doc, d, o, e, depth + 1);
  return { where: found.where, key: key ?? found.key };
}

function locate(
  doc: Y.Doc,
  d: Decoded,
  item: Y.Item,
  e: Epoch | null,
  depth = 0,
): { where: Where; key: string | null } {
  const hit = d.memo.get(item);
  if (hit) return hit;
  const r = locateRaw(doc, d, item, e, depth);
  d.memo.set(item, r);
  return r;
}

function anyStrings(item: Y.Item): string[] {
  return item.content instanceof Y.ContentAny
    ? item.content.arr.filter((x): x is string => typeof x === 'string')
    : [];
}

const deny = (reason: string, capability?: Capability): UpdateGuardResult => ({
  ok: false,
  reason,
  ...(capability ? { capability } : {}),
});

/** The course-room guard. `now` is unix seconds (lock times). */
export function courseUpdateGuard(now: () => number = () => Math.floor(Date.now() / 1000)): UpdateGuard {
  return (ctx: UpdateGuardContext): UpdateGuardResult => {
    if (ctx.room.kind !== 'course') return { ok: true };
    const caps = new Set(ctx.capabilities);
    const need = (c: Capability, why: string): UpdateGuardResult | null =>
      caps.has(c) ? null : deny(`${why} needs ${c}`, c);
    const { decoded, ds } = decode(ctx.update);
    const e = currentEpoch(ctx.doc);
    const entries: HistoryEntry[] = [];
    const slots: Array<{ key: string; by: unknown }> = [];
    let setupTouched = false;

    for (const item of decoded.items) {
      if (item.content instanceof Y.ContentDeleted) continue;
      const { where, key } = locate(ctx.doc, decoded, item, e);
      if (where === 'history') {
        for (const text of anyStrings(item)) {
          const parsed = JSON.parse(text) as unknown;
          if (!Array.isArray(parsed)) return deny('history element is not a list of entries');
          entries.push(...(parsed as HistoryEntry[]));
        }
      } else if (where === 'grades') {
        for (const text of anyStrings(item))
          slots.push({ key: key ?? '', by: (JSON.parse(text) as { by?: unknown }).by });
      } else setupTouched = true;
    }

    // Deletions: the log is append-only within an epoch; only a re-base (a new epoch) removes old ones.
    let deletesHistory = false;
    let deletesOther = false;
    for (const [client, ranges] of ds.clients)
      for (const r of ranges) {
        // Walk every struct the range covers (a deleted epoch covers its whole log in one range).
        const known = Y.getState(ctx.doc.store, client);
        for (let k = r.clock; k < Math.min(r.clock + r.len, known);) {
          const s = Y.getItem(ctx.doc.store, new Y.ID(client, k));
          const where = s instanceof Y.Item ? locate(ctx.doc, decoded, s, e).where : 'other';
          if (where === 'history') deletesHistory = true;
          else if (where !== 'grades') deletesOther = true;
          k = s.id.clock + s.length;
        }
      }
    const rebase = entries.some((x) => x.k === 'rebase');
    if (deletesHistory && !rebase) return deny('the change log is append-only');

    for (const x of entries) {
      if (x.by !== ctx.userId) return deny(`a change is signed by "${String(x.by)}", not by you`);
      for (const c of entryCapabilities(x)) {
        const r = need(c, x.k === 'grade' ? `changing ${x.item}/${x.user}` : `a ${x.k} change`);
        if (r) return r;
      }
      if (x.k === 'grade' && e) {
        const changesValue = Object.keys(x.new).some((f) => f !== 'locked');
        if (changesValue) {
          const itemLocked = e.items.get(x.item)?.get('locked') as boolean | number | undefined;
          const cellLocked = readCell(ctx.doc, x.item, x.user).record.locked as boolean | number | undefined;
          if (isLockedAt(itemLocked, now()) || isLockedAt(cellLocked, now()))
            return deny(`grade ${x.item}/${x.user} is locked; unlock it first`, 'grade:unlock');
        }
      }
    }
    for (const sl of slots) {
      if (sl.by !== ctx.userId) return deny(`a grade is signed by "${String(sl.by)}", not by you`);
      const [item, user] = sl.key.split(SEP);
      if (!entries.some((x) => x.k === 'grade' && x.item === item && x.user === user))
        return deny(`grade ${item}/${user} changed without a history entry`);
    }
    if ((setupTouched || deletesOther) && !entries.some((x) => x.k !== 'grade')) {
      // Setup, settings, rows or epochs changed: that is gradebook management whatever the log says.
      const r = need('grade:manage', 'changing the gradebook setup');
      if (r) return r;
    }
    return { ok: true };
  };
}

// The ONE convergence checker and simulated network for every randomised CRDT test: several clients, random
// commands, offline periods and random delivery order. Never uses wall time or Math.random (seeded RNG only).
import * as Y from 'yjs';
import { seededRng, type Rng } from '../../src/lib/domain/shared/clock.ts';
import { applyCommand, type Command } from '../../src/lib/crdt/commands.ts';
import {
  readHistory,
  currentEpoch,
  courseJsonToDoc,
  docToCourseJson,
  listConflicts,
  readCell,
  type Actor,
} from '../../src/lib/crdt/course-doc.ts';
import { canonical, type GradeField, type GradeSlot } from '../../src/lib/crdt/grade-register.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import { bindCourseDoc, isCausallyComplete, rebaseCourseDoc } from '../../src/lib/crdt/rebase.ts';

const NET = Symbol('net');

export interface Client {
  actor: Actor;
  doc: Y.Doc;
  online: boolean;
  /** Updates waiting to reach this client: [fromIndex, update]. */
  inbox: [number, Uint8Array][];
  time: number;
  /** Every log entry id this client has ever held (log entries leave the doc when a re-base archives them). */
  seen: Set<string>;
}

/** One accepted grade write, with every log entry its writer had seen: the oracle for "nothing silently lost". */
interface Write {
  dev: string;
  item: string;
  user: string;
  fields: Partial<Record<GradeField, unknown>>;
  id: string;
  /** This write's counter in its device's slot for the cell. */
  c: number;
  known: Set<string>;
  /** Per device, the highest slot counter of this cell the writer could see (its screen, incl. what those slots carried). */
  saw: Map<string, number>;
  /** The epoch the write was made in (slot counters are per epoch). */
  epoch: string;
}

export interface FuzzOptions {
  clients: number;
  steps: number;
  items: number;
  users: number;
  /** Allow re-bases (the exact oracle then weakens to "every unsuperseded value is still a candidate"). */
  rebase?: boolean;
}

export interface FuzzReport {
  seed: number;
  writes: number;
  conflicts: number;
  rebases: number;
  rejected: number;
}

export class ConvergenceError extends Error {
  constructor(seed: number, message: string) {
    super(`seed ${seed}: ${message}`);
  }
}

function historyIds(doc: Y.Doc): string[] {
  // Between a re-base's deletion and its new epoch arriving (pending update) there may be no epoch at all.
  const e = currentEpoch(doc);
  return e ? readHistory(e).map((h) => h.id) : [];
}

/**
 * The checker: every replica has the same snapshot, the same conflicts (values, authors, order) and the same log;
 * and for each grade field, the live candidates are exactly the writes no later write (that had seen them)
 * replaced — compared by device and value. Throws ConvergenceError naming what differs.
 */
export function checkConvergence(
  seed: number,
  clients: readonly Client[],
  writes: readonly Write[],
  exact: boolean,
  rescues: readonly { id: string; dev: string; item: string; user: string }[] = [],
): void {
  const [first, ...rest] = clients;
  if (!first) return;
  const snap = JSON.stringify(docToCourseJson(first.doc));
  const conf = JSON.stringify(listConflicts(first.doc));
  const hist = JSON.stringify(historyIds(first.doc).sort());
  for (const c of rest) {
    if (JSON.stringify(docToCourseJson(c.doc)) !== snap)
      throw new ConvergenceError(seed, `snapshot of ${c.actor.deviceId} differs`);
    if (JSON.stringify(listConflicts(c.doc)) !== conf)
      throw new ConvergenceError(seed, `conflicts of ${c.actor.deviceId} differ`);
    if (JSON.stringify(historyIds(c.doc).sort()) !== hist)
      throw new ConvergenceError(seed, `history of ${c.actor.deviceId} differs`);
  }
  // Oracle: per (cell, field) the unsuperseded writes.
  const byCellField = new Map<string, Write[]>();
  for (const w of writes)
    for (const f of Object.keys(w.fields)) {
      const k = `${w.item}|${w.user}|${f}`;
      const list = byCellField.get(k);
      if (list) list.push(w);
      else byCellField.set(k, [w]);
    }
  for (const [k, ws] of byCellField) {
    const [item, user, f] = k.split('|') as [string, string, GradeField];
    // o knew w if it had seen w's entry, or the entry that replayed w after a re-base (same device and cell).
    // Exact mode: o knew w if the writer's visible cell held w's slot or a later one of the same device. (Yjs can
    // show a non-causal cut while updates are pending — an old slot deleted, its replacement not yet applied — and
    // a write made on such a screen did not see that value, so it rightly stays concurrent with it.)
    // With re-bases: o knew w if it had seen w's log entry, or w's slot in the same epoch (a slot can arrive while
    // the log element of its command still waits for an earlier one), or the entry that replayed w.
    const knew = (o: Write, w: Write) =>
      (!exact && o.epoch === w.epoch && (o.saw.get(w.dev) ?? 0) >= w.c) || exact
        ? (o.saw.get(w.dev) ?? 0) >= w.c
        : o.known.has(w.id) ||
          rescues.some(
            (r) =>
              r.dev === w.dev && r.item === w.item && r.user === w.user && o.known.has(r.id) && r.id !== o.id,
          );
    const alive = ws.filter((w) => !ws.some((o) => o !== w && knew(o, w)));
    const expected = new Set(alive.map((w) => `${w.dev}=${canonical(w.fields[f] ?? null)}`));
    const cell = readCell(first.doc, item, user);
    const live = (cell.live[f] ?? []).map(
      (c) => `${c.dev.replace(/#\d+$/, '')}=${canonical(c.value ?? null)}`,
    );
    const got = new Set(live);
    if (exact) {
      if ([...expected].sort().join(' ') !== [...got].sort().join(' '))
        throw new ConvergenceError(
          seed,
          `${k}: live ${[...got].join(', ')} but expected ${[...expected].join(', ')}`,
        );
    } else {
      const values = new Set((cell.live[f] ?? []).map((c) => canonical(c.value ?? null)));
      for (const w of alive)
        if (!values.has(canonical(w.fields[f] ?? null)) && !(w.fields[f] === null && values.size === 0)) {
          throw new ConvergenceError(seed, `${k}: the value ${canonical(w.fields[f])} of ${w.dev} was lost`);
        }
    }
  }
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng.next() * xs.length)]!;
}

function randomCommand(rng: Rng, c: Client, o: FuzzOptions): Command {
  const item = `i${Math.floor(rng.next() * o.items)}`;
  const user = `u${Math.floor(rng.next() * o.users)}`;
  const r = rng.next();
  if (r < 0.45) return { type: 'setGrade', item, user, raw: Math.floor(rng.next() * 10) };
  if (r < 0.55)
    return { type: 'setFeedback', item, user, feedback: pick(rng, ['good', 'redo', 'see me', null]) };
  if (r < 0.6) return { type: 'excludeGrade', item, user, excluded: rng.next() < 0.5 };
  if (r < 0.64) return { type: 'overrideGrade', item: 'course', user, value: Math.floor(rng.next() * 100) };
  if (r < 0.67)
    return rng.next() < 0.5 ? { type: 'lockGrade', item, user } : { type: 'unlockGrade', item, user };
  if (r < 0.7) return { type: 'setItem', item: { id: item, name: `N${Math.floor(rng.next() * 5)}` } };
  if (r < 0.73)
    return {
      type: 'moveItem',
      id: item,
      before: rng.next() < 0.5 ? null : `i${Math.floor(rng.next() * o.items)}`,
    };
  if (r < 0.85) {
    const conflicts = currentEpoch(c.doc) ? listConflicts(c.doc) : [];
    if (conflicts.length) {
      const k = pick(rng, conflicts);
      return {
        type: 'resolveConflict',
        item: k.item,
        user: k.user,
        field: k.field,
        value: pick(rng, k.candidates).value,
      };
    }
    return { type: 'setGrade', item, user, raw: Math.floor(rng.next() * 10) };
  }
  return {
    type: 'bulk',
    commands: [
      { type: 'setGrade', item, user, raw: Math.floor(rng.next() * 10) },
      { type: 'setFeedback', item: `i${Math.floor(rng.next() * o.items)}`, user, feedback: 'bulk' },
    ],
  };
}

/** Runs one seeded scenario and checks convergence at the end (after delivering every message). */
export function runFuzz(seed: number, o: FuzzOptions): FuzzReport {
  const rng = seededRng(seed);
  const clients: Client[] = [];
  const writes: Write[] = [];
  const report: FuzzReport = { seed, writes: 0, conflicts: 0, rebases: 0, rejected: 0 };
  const rebaseKnown = new Map<string, Set<string>>();
  const rescues: { id: string; dev: string; item: string; user: string }[] = [];
  const refresh = (c: Client) => {
    for (const id of historyIds(c.doc)) {
      if (c.seen.has(id)) continue;
      c.seen.add(id);
      for (const k of rebaseKnown.get(id) ?? []) c.seen.add(k);
    }
  };
  const origin = new Y.Doc();
  courseJsonToDoc(
    makeCourse(o.items, o.users, seed),
    origin,
    { userId: 'setup', deviceId: 'setup' },
    { at: 1 },
  );
  const initial = Y.encodeStateAsUpdate(origin);
  for (let i = 0; i < o.clients; i++) {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, initial, NET);
    const client: Client = {
      actor: { userId: `user${i % 2}`, deviceId: `dev${i}` },
      doc,
      online: true,
      inbox: [],
      time: 10,
      seen: new Set(),
    };
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.origin === NET || !o.rebase) return;
      // Rescues replay offline writes under new ids: remember which cells they stand for.
      for (const h of currentEpoch(doc) ? readHistory(currentEpoch(doc)!) : [])
        if (h.k === 'grade' && h.src.startsWith('rescue') && !rescues.some((r) => r.id === h.id))
          rescues.push({ id: h.id, dev: h.dev, item: h.item, user: h.user });
    });
    doc.on('update', (u: Uint8Array) => {
      // Broadcast every local change (including rescues made while applying a remote update).
      for (let j = 0; j < clients.length; j++) if (j !== i) clients[j]!.inbox.push([i, u]);
    });
    clients.push(client);
  }
  clients.forEach((c) =>
    bindCourseDoc(c.doc, { actor: c.actor, clock: { now: () => c.time }, src: 'rescue' }),
  );

  const deliver = (c: Client, max: number) => {
    for (let n = 0; n < max && c.inbox.length; n++) {
      let idx = Math.floor(rng.next() * c.inbox.length);
      // The server (client 0 when re-basing) gets each sender's messages in order, as over one websocket.
      if (o.rebase && c === clients[0]) {
        const from = c.inbox[idx]![0];
        idx = c.inbox.findIndex((m) => m[0] === from);
      }
      const [from, u] = c.inbox[idx]!;
      if (!clients[from]!.online || !c.online) continue;
      c.inbox.splice(idx, 1);
      Y.applyUpdate(c.doc, u, NET);
      refresh(c);
    }
  };

  for (let step = 0; step < o.steps; step++) {
    const c = pick(rng, clients);
    c.time += 1 + Math.floor(rng.next() * 3);
    const r = rng.next();
    // Client 0 plays the sync server: the one authority that re-bases, always connected.
    if (r < 0.08 && !(o.rebase && c === clients[0])) {
      c.online = !c.online;
      continue;
    }
    if (r < 0.3) {
      deliver(c, 1 + Math.floor(rng.next() * 6));
      continue;
    }
    if (o.rebase && r < 0.4 && c === clients[0] && isCausallyComplete(c.doc)) {
      refresh(c);
      rebaseCourseDoc(c.doc, { actor: c.actor, clock: { now: () => c.time } });
      const head = readHistory(currentEpoch(c.doc)!)[0]!;
      rebaseKnown.set(head.id, new Set(c.seen));
      refresh(c);
      report.rebases++;
      continue;
    }
    refresh(c);
    const known = new Set(c.seen);
    const visible = new Map<string, Map<string, number>>();
    for (const [key, text] of currentEpoch(c.doc)?.grades.entries() ?? []) {
      const slot = JSON.parse(text) as GradeSlot;
      const cell = key.slice(0, key.lastIndexOf('\u0000'));
      let m = visible.get(cell);
      if (!m) visible.set(cell, (m = new Map()));
      // A visible slot shows its own value and everything its writer had seen (which it still carries).
      for (const [d, n] of [[slot.d, slot.c] as const, ...Object.entries(slot.vv)])
        if ((m.get(d) ?? 0) < n) m.set(d, n);
    }
    const cmd = randomCommand(rng, c, o);
    const res = applyCommand(c.doc, cmd, { actor: c.actor, clock: { now: () => c.time }, src: 'fuzz' });
    if (!res.ok) {
      report.rejected++;
      continue;
    }
    refresh(c);
    for (const e of res.entries)
      if (e.k === 'grade') {
        writes.push({
          dev: c.actor.deviceId,
          item: e.item,
          user: e.user,
          fields: { ...e.new },
          id: e.id,
          c: e.c,
          known,
          saw: visible.get(`${e.item}\u0000${e.user}`) ?? new Map(),
          epoch: currentEpoch(c.doc)?.id ?? '',
        });
        report.writes++;
      }
  }
  for (const c of clients) c.online = true;
  // Deliver everything, in random order, until quiet (rescues may add messages).
  for (let guard = 0; guard < 1000 && clients.some((c) => c.inbox.length); guard++)
    for (const c of clients) deliver(c, c.inbox.length);
  report.conflicts = listConflicts(clients[0]!.doc).length;
  checkConvergence(seed, clients, writes, !o.rebase, rescues);
  return report;
}

// RegradeLink where there is no Worker (Node, old browsers): the leading tab runs the regrade host on its own thread,
// and a second link on the same room follows it over the real BroadcastChannel. Real Yjs documents; no mocks.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand } from '../crdt/commands';
import { courseJsonToDoc, docToCourseJson } from '../crdt/course-doc';
import { Gradebook } from '../domain/gradebook/index';
import { buildDemoSite } from '../domain/interchange/demo';
import { viewFromSnapshot, type GridSnapshot } from './grid-model';
import { RegradeLink } from './regrade-link';
import type { RegradeStatus } from './regrade-replica';

const NOW = 1_700_000_000;
const ctx = { actor: { userId: 't1', deviceId: 'd1' }, clock: { now: () => NOW } };

const open: RegradeLink[] = [];
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const l of open.splice(0)) l.destroy();
});

/** A link on `room` that records every grid and status it is given. */
function link(room: string, doc: Y.Doc) {
  const grids: { snapshot: GridSnapshot; full: boolean }[] = [];
  const statuses: RegradeStatus[] = [];
  const errors: string[] = [];
  const l = new RegradeLink({
    room,
    doc,
    // the link hands over its replica's snapshot, which later patches change in place: keep a copy of each
    onGrid: (snapshot, full) => grids.push({ snapshot: structuredClone(snapshot), full }),
    onStatus: (s) => statuses.push(s),
    onError: (m) => errors.push(m),
  });
  open.push(l);
  return { l, grids, statuses, errors };
}

/** Waits (in real time: the host answers on timers, the channel on its own) until `pred` holds. */
async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function demoDoc(): Y.Doc {
  const doc = new Y.Doc();
  courseJsonToDoc(buildDemoSite().courses[0]!.gradebook, doc, ctx.actor, { src: 'test' });
  return doc;
}

/** The course total a grid shows for `user`. */
function courseTotal(s: GridSnapshot, user: string): number | null {
  const col = s.columns.find((c) => c.isCourse)!;
  const row = s.rows.find((r) => r.id === user)!;
  return viewFromSnapshot(s).final(col, row);
}

/** Each room gets its own channel name, so tests never hear each other. */
let rooms = 0;
const roomName = () => `course/link-test-${process.pid}-${++rooms}`;

describe('RegradeLink without a Worker', () => {
  it('[REG-2][REG-3] leading runs the host on this thread: a full grid, then a patch whose course total equals a fresh engine', async () => {
    expect(typeof Worker).toBe('undefined'); // the path under test: no Worker in this runtime
    const doc = demoDoc();
    const a = link(roomName(), doc);
    stops.push(a.l.lead());
    expect(a.l.leading).toBe(true);
    await until(() => a.grids.length === 1, 'the first full grid');
    expect(a.grids[0]!.full).toBe(true);
    expect(a.errors).toEqual([]);
    const fresh0 = new Gradebook(docToCourseJson(doc), { now: NOW });
    expect(courseTotal(a.grids[0]!.snapshot, 's3')).toBe(fresh0.final('course', 's3'));

    const r = applyCommand(doc, { type: 'setGrade', item: 'i-mid', user: 's3', raw: 12 }, ctx);
    expect(r.ok).toBe(true);
    await until(() => a.grids.length === 2, 'a patch after the grade change');
    const after = a.grids[1]!;
    expect(after.full).toBe(false); // a patch, not a rebuild
    const fresh = new Gradebook(docToCourseJson(doc), { now: NOW });
    expect(fresh.final('course', 's3')).not.toBe(fresh0.final('course', 's3')); // the grade moved the total
    expect(courseTotal(after.snapshot, 's3')).toBe(fresh.final('course', 's3'));
    // the replica the page draws from holds the same patched grid
    expect(courseTotal(a.l.grid.snapshot!, 's3')).toBe(fresh.final('course', 's3'));
    expect(a.statuses.at(-1)).toEqual({ running: false, stage: null, fraction: 0, stale: false });
  });

  it('[REG-2] a second link on the room (not leading) receives the leader\'s grid and its patches over the channel', async () => {
    const room = roomName();
    const doc = demoDoc();
    const leader = link(room, doc);
    stops.push(leader.l.lead());
    await until(() => leader.grids.length === 1, "the leader's first grid");
    // another tab of the device: it has its own copy of the document, but never regrades it
    const follower = link(room, new Y.Doc());
    expect(follower.l.leading).toBe(false);
    await until(() => follower.grids.length === 1, "the follower receives the leader's grid");
    expect(follower.grids[0]!.full).toBe(true);
    expect(follower.grids[0]!.snapshot.finals).toEqual(leader.l.grid.snapshot!.finals);
    expect(follower.l.grid.id).toBe(leader.l.grid.id);

    const r = applyCommand(doc, { type: 'setGrade', item: 'i-mid', user: 's4', raw: 41 }, ctx);
    expect(r.ok).toBe(true);
    await until(() => follower.grids.length === 2, "the follower receives the leader's patch");
    expect(follower.grids[1]!.full).toBe(false);
    const fresh = new Gradebook(docToCourseJson(doc), { now: NOW });
    expect(courseTotal(follower.grids[1]!.snapshot, 's4')).toBe(fresh.final('course', 's4'));
    expect(follower.errors).toEqual([]);
  });
});

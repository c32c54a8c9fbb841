// Benchmark of the course CRDT on a 2 000 x 300 course: size, cold load to first grid data, edit propagation,
// and growth under 1 million overwrites with the re-base policy. Measures and prints; never asserts on speed.
import * as Y from 'yjs';
import { applyCommand, type Command } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc, docToCourseJson, readCell, type Actor } from '../../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import { growthStats, rebaseCourseDoc, shouldRebase } from '../../src/lib/crdt/rebase.ts';
import { seededRng } from '../../src/lib/domain/shared/clock.ts';
import { fmt, heapMB, percentile, report, timeRuns } from './util.ts';

const USERS = 2_000;
const ITEMS = 300;
const OVERWRITES = 1_000_000;
/** The default re-base policy (shouldRebase): an epoch is folded once it holds this many log entries. */
const REBASE_EVERY = 50_000;
const BULK = 1_000;

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

/** Cold start: bytes from storage/network into a fresh doc, then the CourseJson the grid and engine read. */
function coldLoad(update: Uint8Array): { ms: number; grades: number } {
  const t0 = performance.now();
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  const json = docToCourseJson(doc);
  return { ms: performance.now() - t0, grades: json.grades.length };
}

export async function run(): Promise<void> {
  const alice: Actor = { userId: 'alice', deviceId: 'tablet-a' };
  const bob: Actor = { userId: 'bob', deviceId: 'laptop-b' };
  let now = 1_790_000_000;
  const clock = { now: () => now };

  const json = makeCourse(ITEMS, USERS, 7);
  const doc = new Y.Doc();
  let t0 = performance.now();
  courseJsonToDoc(json, doc, alice, { at: now });
  report(`import ${USERS} x ${ITEMS} course (one transaction)`, performance.now() - t0);
  const v1 = Y.encodeStateAsUpdate(doc);
  const v2 = Y.encodeStateAsUpdateV2(doc);
  console.log(
    `encoded size: v1 ${mb(v1.length)}, v2 ${mb(v2.length)}, CourseJson ${mb(JSON.stringify(json).length)}`,
  );

  const loads = await timeRuns(3, () => coldLoad(v1));
  report('cold load -> first grid data (p50 of 3)', percentile(loads, 50), 1_000);

  // Edit on one replica -> visible on a second one (in-process, update passed directly).
  const other = new Y.Doc();
  Y.applyUpdate(other, v1);
  const relay = (u: Uint8Array, origin: unknown) => {
    if (origin !== 'relay') Y.applyUpdate(other, u, 'relay');
  };
  doc.on('update', relay);
  const rng = seededRng(11);
  const lat: number[] = [];
  for (let i = 0; i < 400; i++) {
    const item = `i${Math.floor(rng.next() * ITEMS)}`;
    const user = `u${Math.floor(rng.next() * USERS)}`;
    const raw = Math.round(rng.next() * 1000) / 10;
    now += 1;
    const s = performance.now();
    const r = applyCommand(doc, { type: 'setGrade', item, user, raw }, { actor: alice, clock, src: 'grid' });
    if (!r.ok) throw new Error(r.error.message);
    const seen = readCell(other, item, user).record.grade;
    lat.push(performance.now() - s);
    if (!seen || seen.raw !== raw) throw new Error('edit not visible on the second replica');
  }
  doc.off('update', relay);
  lat.sort((a, b) => a - b);
  report('edit -> visible on 2nd doc, p50', percentile(lat, 50));
  report('edit -> visible on 2nd doc, p99', percentile(lat, 99));

  // 1 million overwrites (bulks of 1 000 random cells, two devices), re-basing every REBASE_EVERY log entries.
  let written = 0;
  let rebases = 0;
  let rebaseMs = 0;
  let worst = { bytes: 0, loadMs: 0 };
  t0 = performance.now();
  while (written < OVERWRITES) {
    const cmds: Command[] = [];
    for (let i = 0; i < BULK; i++)
      cmds.push({
        type: 'setGrade',
        item: `i${Math.floor(rng.next() * ITEMS)}`,
        user: `u${Math.floor(rng.next() * USERS)}`,
        raw: Math.round(rng.next() * 1000) / 10,
      });
    now += 1;
    const r = applyCommand(
      doc,
      { type: 'bulk', commands: cmds },
      { actor: written % 2 ? bob : alice, clock, src: 'bench' },
    );
    if (!r.ok) throw new Error(r.error.message);
    written += r.entries.length;
    if (shouldRebase(doc, REBASE_EVERY)) {
      if (rebases === 0) {
        // The worst case the policy allows: a full epoch just before its re-base.
        const u = Y.encodeStateAsUpdate(doc);
        worst = { bytes: u.length, loadMs: percentile(await timeRuns(3, () => coldLoad(u)), 50) };
      }
      const s = performance.now();
      rebaseCourseDoc(doc, { actor: alice, clock });
      rebaseMs += performance.now() - s;
      rebases++;
    }
  }
  const writeMs = performance.now() - t0 - rebaseMs;
  report(`${written} overwrites written (excl. re-bases)`, writeMs);
  report(`per overwrite`, writeMs / written);
  report(`re-base (x${rebases}), mean`, rebaseMs / Math.max(1, rebases));
  console.log(
    `just before a re-base (${REBASE_EVERY} overwrites in the epoch): ${mb(worst.bytes)} v1, cold load ${fmt(worst.loadMs)}` +
      ` (without re-basing, 1M overwrites would grow about ${(OVERWRITES / REBASE_EVERY).toFixed(0)}x that: ~${mb((worst.bytes - v1.length) * (OVERWRITES / REBASE_EVERY) + v1.length)})`,
  );
  const final = Y.encodeStateAsUpdate(doc);
  const stats = growthStats(doc);
  console.log(
    `after ${written} overwrites: ${mb(final.length)} v1 (${(final.length / v1.length).toFixed(2)}x the fresh import), epoch log ${stats.historyEntries} entries`,
  );
  const after = await timeRuns(3, () => coldLoad(final));
  report('cold load after 1M overwrites (p50 of 3)', percentile(after, 50), 2_000);
  const s = performance.now();
  rebaseCourseDoc(doc, { actor: alice, clock });
  report('one more re-base', performance.now() - s);
  const rebased = Y.encodeStateAsUpdate(doc);
  console.log(
    `right after a re-base: ${mb(rebased.length)} v1 (${(rebased.length / v1.length).toFixed(2)}x the fresh import)`,
  );
  const afterRebase = await timeRuns(3, () => coldLoad(rebased));
  report('cold load right after a re-base (p50 of 3)', percentile(afterRebase, 50), 2_000);
  report('cold load just before a re-base (p50 of 3)', worst.loadMs, 2_000);
  console.log(`heap ${heapMB().toFixed(0)} MB`);
}

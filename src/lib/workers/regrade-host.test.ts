// The regrade worker's logic in Node: a leader document forwards its updates; the host's grid (snapshot + patches)
// must always equal a fresh main-thread build of the same document. Real Yjs documents, no mocks.
import { describe, expect, it } from 'vitest';
import { applyCommand, type Command } from '../crdt/commands';
import { docToCourseJson } from '../crdt/course-doc';
import { applyGridPatch, buildGridModel, viewFromSnapshot, type GridSnapshot } from '../state/grid-model';
import type { RegradeOut } from './regrade-host';
import { demoCourseWithHost } from '../../../test/fixtures/regrade-host';

const NOW = 1_700_000_000;
const ctx = { actor: { userId: 't1', deviceId: 'd1' }, clock: { now: () => NOW } };

function setup() {
  const { doc: leader, host, out } = demoCourseWithHost(NOW, ctx.actor);
  let grid: GridSnapshot | null = null;
  let seen = 0;
  /** Applies what the host sent since the last call, as the page does. */
  const drain = (): void => {
    for (; seen < out.length; seen++) {
      const m = out[seen]!;
      if (m.t === 'snapshot') grid = m.snapshot;
      else if (m.t === 'patch') expect(applyGridPatch(grid!, m.patch)).toBe(true);
    }
  };
  const run = (cmd: Command): void => {
    const r = applyCommand(leader, cmd, ctx);
    if (!r.ok) throw new Error(r.error.message);
  };
  /** Lets the host work until `pred` holds (bounded by turns of the event loop, not by time). */
  const until = async (pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 0));
    expect(pred()).toBe(true);
    drain();
  };
  const count = (t: RegradeOut['t']) => out.filter((m) => m.t === t).length;
  /** The grid shown equals a fresh build from the leader's document: every final, marker and feedback. */
  const matchesFreshBuild = (): void => {
    const fresh = buildGridModel(docToCourseJson(leader), NOW);
    const view = viewFromSnapshot(grid!);
    expect(grid!.columns.map((c) => c.id)).toEqual(fresh.columns.map((c) => c.id));
    for (const col of fresh.columns)
      for (const row of fresh.rows) {
        const got = [view.final(col, row), view.overridden(col, row), view.excluded(col, row), view.lockedCell(col, row), view.hiddenCell(col, row), view.feedback(col, row)];
        const want = [fresh.final(col, row), fresh.overridden(col, row), fresh.excluded(col, row), fresh.lockedCell(col, row), fresh.hiddenCell(col, row), fresh.feedback(col, row)];
        expect(got, `${col.id} / ${row.id}`).toEqual(want);
      }
  };
  return { leader, host, out, run, until, count, matchesFreshBuild, grid: () => grid };
}

describe('regrade host', () => {
  it('[REG-2] starts from the document state with a full rebuild: progress through every stage, then the whole grid', async () => {
    const h = setup();
    await h.until(() => h.count('snapshot') === 1);
    const stages = h.out.filter((m) => m.t === 'progress').map((m) => (m.t === 'progress' ? m.stage : ''));
    expect([...new Set(stages)]).toEqual(['read', 'build', 'regrade', 'snapshot']);
    const fractions = h.out.flatMap((m) => (m.t === 'progress' ? [m.fraction] : []));
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBeCloseTo(1, 9);
    h.matchesFreshBuild();
  });

  it('[REG-3] a grade typed sends a small patch (no rebuild) that brings the grid to a fresh build, totals included', async () => {
    const h = setup();
    await h.until(() => h.count('snapshot') === 1);
    h.run({ type: 'setGrade', item: 'i-mid', user: 's3', raw: 12 });
    h.run({ type: 'setFeedback', item: 'i-lab1', user: 's4', feedback: 'Good pendulum' });
    await h.until(() => h.count('patch') === 1); // one transaction burst, one patch
    expect(h.count('snapshot')).toBe(1);
    expect(h.host.rebuilds).toBe(1);
    const p = h.out.find((m) => m.t === 'patch');
    expect(p?.t === 'patch' && p.patch.c.length).toBeLessThan(10); // the cell and its totals, not the grid
    h.matchesFreshBuild();
  });

  it('[REG-2] a setup change rebuilds the whole grid', async () => {
    const h = setup();
    await h.until(() => h.count('snapshot') === 1);
    h.run({ type: 'setCategory', category: { id: 'c-tests', aggregation: 'highest' } });
    await h.until(() => h.count('snapshot') === 2);
    h.matchesFreshBuild();
  });

  it('[REG-2] a newer setup change supersedes a running rebuild; grades typed meanwhile arrive as a patch after it', async () => {
    const h = setup();
    await h.until(() => h.count('snapshot') === 1);
    h.run({ type: 'setCategory', category: { id: 'c-tests', aggregation: 'highest' } });
    await h.until(() => h.count('started') === 2);
    h.run({ type: 'setGrade', item: 'i-q1', user: 's5', raw: 3 });
    h.run({ type: 'setCategory', category: { id: 'c-labs', aggregation: 'median' } });
    await h.until(() => h.count('snapshot') === 2 && h.count('cancelled') === 1);
    const c = h.out.find((m) => m.t === 'cancelled');
    expect(c?.t === 'cancelled' && c.superseded).toBe(true);
    h.matchesFreshBuild();
    expect(h.count('snapshot')).toBe(2); // the superseded rebuild sent nothing
  });

  it('[REG-2] cancel keeps the old grid (grades still patched into it); "regrade now" brings the new totals', async () => {
    const h = setup();
    await h.until(() => h.count('snapshot') === 1);
    const before = structuredClone(h.grid()!);
    h.run({ type: 'setCategory', category: { id: 'c-tests', aggregation: 'highest' } });
    await h.until(() => h.count('started') === 2);
    h.host.handle({ t: 'cancel' });
    await h.until(() => h.count('cancelled') === 1);
    const c = h.out.find((m) => m.t === 'cancelled');
    expect(c?.t === 'cancelled' && c.superseded).toBe(false);
    // nothing else rebuilds on its own
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
    expect(h.count('started')).toBe(2);
    expect(h.grid()!.finals).toEqual(before.finals);
    // a grade typed now still shows (patched into the old grid)
    h.run({ type: 'setGrade', item: 'i-mid', user: 's3', raw: 7 });
    await h.until(() => h.count('patch') === 1);
    const view = viewFromSnapshot(h.grid()!);
    const mid = h.grid()!.columns.find((x) => x.id === 'i-mid')!;
    expect(view.final(mid, h.grid()!.rows.find((r) => r.id === 's3')!)).toBe(7);
    h.host.handle({ t: 'regrade' });
    await h.until(() => h.count('snapshot') === 2);
    h.matchesFreshBuild();
  });
});

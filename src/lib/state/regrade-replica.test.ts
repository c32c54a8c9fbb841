// A tab's copy of the grid and the rebuild status it shows, folded from the regrade worker's messages.
import { describe, expect, it } from 'vitest';
import { buildDemoSite } from '../domain/interchange/demo';
import { buildGridModel, snapshotGrid, viewFromSnapshot } from './grid-model';
import { GridReplica, IDLE, nextStatus, type RegradeStatus } from './regrade-replica';
import type { RegradeOut } from '../workers/regrade-host';

const json = buildDemoSite().courses[0]!.gradebook;

describe('regrade replica', () => {
  it('[REG-3] a patch applies only to the snapshot it was made against (a tab that missed one waits for the next)', () => {
    const model = buildGridModel(json, 0);
    const tab = new GridReplica();
    const patch = { c: [0], u: [model.rows[0]!.u], final: [42], flags: [0], feedback: [] };
    expect(tab.patch('leader:1', patch)).toBe(false); // nothing yet
    tab.set('leader:2', snapshotGrid(model));
    expect(tab.patch('leader:1', patch)).toBe(false); // made against an older grid
    const col = tab.snapshot!.columns[0]!;
    expect(viewFromSnapshot(tab.snapshot!).final(col, model.rows[0]!)).toBe(model.final(col, model.rows[0]!));
    expect(tab.patch('leader:2', patch)).toBe(true);
    expect(viewFromSnapshot(tab.snapshot!).final(col, model.rows[0]!)).toBe(42);
  });

  it('[REG-3] remembers which cells its latest patches changed, and says so no further back than it knows', () => {
    const model = buildGridModel(json, 0);
    const tab = new GridReplica();
    tab.set('leader:1', snapshotGrid(model));
    const u = model.rows[0]!.u;
    tab.patch('leader:1', { c: [0, 3], u: [u, u], final: [1, 2], flags: [0, 0], feedback: [] });
    tab.patch('leader:1', { c: [1], u: [u], final: [5], flags: [0], feedback: [{ c: 2, u, text: 'ok' }] });
    expect(tab.seq).toBe(2);
    expect(tab.changedSince(1)).toEqual([{ c: 1, u }, { c: 2, u }]);
    expect(tab.changedSince(0)).toEqual([{ c: 0, u }, { c: 3, u }, { c: 1, u }, { c: 2, u }]);
    expect(tab.changedSince(2)).toEqual([]);
    expect(tab.changedSince(3)).toBe(null); // ahead of it: not this grid
    const log = tab.logForView();
    for (let k = 0; k < 70; k++) tab.patch('leader:1', { c: [0], u: [u], final: [k], flags: [0], feedback: [] });
    expect(tab.changedSince(1)).toBe(null); // fell out of the log
    tab.set('leader:2', snapshotGrid(model));
    expect(log.changedSince(0)).toBe(null); // a view of the old snapshot learns nothing from the new one's log
  });

  it('[REG-2] status: running with growing progress, idle after the snapshot, out of date after a cancel (not after a supersede)', () => {
    const fold = (msgs: RegradeOut[], from: RegradeStatus = IDLE) => msgs.reduce(nextStatus, from);
    const running = fold([{ t: 'started', run: 1 }, { t: 'progress', run: 1, stage: 'build', fraction: 0.5 }]);
    expect(running).toMatchObject({ running: true, stage: 'build', fraction: 0.5, stale: false });
    const snap = snapshotGrid(buildGridModel(json, 0));
    expect(fold([{ t: 'snapshot', run: 1, snapshot: snap, ms: 1 }], running)).toEqual(IDLE);
    const cancelled = fold([{ t: 'cancelled', run: 1, superseded: false }], running);
    expect(cancelled).toMatchObject({ running: false, stale: true });
    expect(fold([{ t: 'cancelled', run: 1, superseded: true }], running)).toEqual(running);
    // "Regrade now" after a cancel: the next full snapshot clears the mark
    expect(fold([{ t: 'started', run: 2 }, { t: 'snapshot', run: 2, snapshot: snap, ms: 1 }], cancelled)).toEqual(IDLE);
    expect(fold([{ t: 'error', message: 'broken' }], running)).toMatchObject({ running: false, stale: true });
  });
});

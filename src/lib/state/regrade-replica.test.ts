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

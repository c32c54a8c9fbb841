// The grid as one tab holds it (a snapshot from the regrade worker, patched in place) and the regrade status the
// views show, folded from the worker's messages. Pure: no Svelte, no storage, no channels; every tab runs the same code.
import type { RebuildStage, RegradeOut } from '../workers/regrade-host';
import { applyGridPatch, type GridPatch, type GridSnapshot } from './grid-model';

/** What the page shows about full rebuilds. */
export interface RegradeStatus {
  /** A full rebuild is running (in this tab's worker or in the leading tab's). */
  running: boolean;
  stage: RebuildStage | null;
  /** 0..1 over all stages. */
  fraction: number;
  /** The totals shown are older than the course's setup (a rebuild was cancelled or failed): "Regrade now". */
  stale: boolean;
}

export const IDLE: RegradeStatus = { running: false, stage: null, fraction: 0, stale: false };

/** The status after one message from the worker (messages that are not about rebuilds leave it as it is). */
export function nextStatus(st: RegradeStatus, m: RegradeOut): RegradeStatus {
  switch (m.t) {
    case 'started':
      return { running: true, stage: 'read', fraction: 0, stale: st.stale };
    case 'progress':
      return { ...st, running: true, stage: m.stage, fraction: Math.max(st.running ? st.fraction : 0, m.fraction) };
    case 'snapshot':
      return IDLE;
    case 'cancelled':
      // superseded: the newer rebuild starts at once and sends its own 'started'
      return m.superseded ? st : { running: false, stage: null, fraction: 0, stale: true };
    case 'error':
      return { running: false, stage: null, fraction: 0, stale: true };
    case 'patch':
      return st;
  }
}

/**
 * One tab's copy of the grid. Snapshots are named (`id`) by the leading tab; a patch names the snapshot it applies
 * to, so a tab that missed a snapshot (it joined late, the leader changed) ignores patches until it gets one.
 */
export class GridReplica {
  snapshot: GridSnapshot | null = null;
  id: string | null = null;

  set(id: string, s: GridSnapshot): void {
    this.id = id;
    this.snapshot = s;
  }

  /** Applies a patch made against snapshot `base`; false (nothing changed) when this tab holds another grid. */
  patch(base: string, p: GridPatch): boolean {
    if (!this.snapshot || base !== this.id) return false;
    return applyGridPatch(this.snapshot, p);
  }
}

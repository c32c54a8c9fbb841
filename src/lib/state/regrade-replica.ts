// The grid as one tab holds it (a snapshot from the regrade worker, patched in place) and the regrade status the
// views show, folded from the worker's messages. Pure: no Svelte, no storage, no channels; every tab runs the same code.
import type { RebuildStage, RegradeOut } from '../workers/regrade-host';
import { applyGridPatch, type GridPatch, type GridSnapshot, type PatchLog } from './grid-model';

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

/** Patches a replica remembers, so a view several patches behind can still redraw only the cells they changed. */
const PATCH_LOG = 64;

/**
 * One tab's copy of the grid. Snapshots are named (`id`) by the leading tab; a patch names the snapshot it applies
 * to, so a tab that missed a snapshot (it joined late, the leader changed) ignores patches until it gets one.
 */
export class GridReplica {
  snapshot: GridSnapshot | null = null;
  id: string | null = null;
  /** Patches applied to the current snapshot (0 right after a snapshot). */
  seq = 0;
  /** The latest patches: after applying the one at index k, seq was `logFrom + k + 1`. */
  private log: GridPatch[] = [];
  private logFrom = 0;

  set(id: string, s: GridSnapshot): void {
    this.id = id;
    this.snapshot = s;
    this.seq = 0;
    this.log = [];
    this.logFrom = 0;
  }

  /** Applies a patch made against snapshot `base`; false (nothing changed) when this tab holds another grid. */
  patch(base: string, p: GridPatch): boolean {
    if (!this.snapshot || base !== this.id) return false;
    if (!applyGridPatch(this.snapshot, p)) return false;
    this.seq++;
    this.log.push(p);
    if (this.log.length > PATCH_LOG) {
      this.log.shift();
      this.logFrom++;
    }
    return true;
  }

  /**
   * The cells (column position, user index) patched since the snapshot stood at `seq`, or null when that is
   * further back than the log reaches (the caller then treats every cell as changed).
   */
  changedSince(seq: number): { c: number; u: number }[] | null {
    if (seq < this.logFrom || seq > this.seq) return null;
    const out: { c: number; u: number }[] = [];
    for (let k = seq - this.logFrom; k < this.log.length; k++) {
      const p = this.log[k]!;
      for (let i = 0; i < p.c.length; i++) out.push({ c: p.c[i]!, u: p.u[i]! });
      for (const f of p.feedback) out.push({ c: f.c, u: f.u });
    }
    return out;
  }

  /** The patch log as a view of the current snapshot sees it (it answers null once another snapshot replaced it). */
  logForView(): PatchLog {
    const snapshot = this.snapshot;
    return { seq: this.seq, changedSince: (seq) => (this.snapshot === snapshot ? this.changedSince(seq) : null) };
  }
}

// A student's own grades in one course: the read-only projection the sync server writes into
// `student/<course>/<user>` (released grades and feedback only), kept in IndexedDB for offline reading.
import * as Y from 'yjs';
import type { ReportRow } from '../domain/gradebook/report';
import { database } from '../persistence/db';
import { YStore } from '../persistence/y-store';
import { RoomConnection } from '../sync/room-connection';
import type { ReportLineModel } from './report-lines';
import { session } from './session.svelte';
import { syncStatus } from './sync-status.svelte';

/** One row as the server projects it (sync-server/projections.ts, PROJECTION_VERSION 1). */
interface ProjectedRow extends Omit<ReportRow, 'user'> {
  name: string;
  order: number;
  feedback: string | null;
}

function isRow(x: unknown): x is ProjectedRow {
  const r = x as ProjectedRow;
  return typeof r === 'object' && r !== null && typeof r.item === 'string' && typeof r.order === 'number' && Array.isArray(r.range);
}

export class StudentReport {
  readonly room: string;
  readonly doc = new Y.Doc();
  lines = $state.raw<ReportLineModel[]>([]);
  loaded = $state(false);
  private store: YStore;
  private conn: RoomConnection | null = null;

  constructor(
    readonly courseId: string,
    readonly userId: string,
  ) {
    this.room = `student/${courseId}/${userId}`;
    this.store = new YStore(database(), this.room, this.doc);
    const report = this.doc.getMap<string>('report');
    report.observe(() => this.read());
    void this.store.whenLoaded.then(() => {
      this.read();
      this.loaded = true;
      this.conn = new RoomConnection({
        serverUrl: session.syncUrl,
        room: this.room,
        doc: this.doc,
        getToken: () => session.token(),
        refreshToken: () => session.refresh(),
        onState: (s, detail) => syncStatus.report(this.room, s, detail),
      });
    });
  }

  private read(): void {
    const rows: ProjectedRow[] = [];
    for (const text of this.doc.getMap<string>('report').values()) {
      try {
        const r: unknown = JSON.parse(text);
        if (isRow(r)) rows.push(r);
      } catch {
        /* a row this version cannot read is skipped */
      }
    }
    rows.sort((a, b) => a.order - b.order);
    this.lines = rows.map((r) => {
      const line: ReportLineModel = {
        row: { user: this.userId, item: r.item, final: r.final, range: r.range, percentage: r.percentage, weightPct: r.weightPct, contributionPct: r.contributionPct, letter: r.letter },
        name: r.name,
        depth: 0,
        kind: r.item === 'course' ? 'course' : 'item',
        scale: null,
        rank: null,
      };
      if (r.feedback) line.feedback = r.feedback;
      return line;
    });
  }

  destroy(): void {
    this.conn?.destroy();
    this.store.destroy();
    syncStatus.forget(this.room);
    this.doc.destroy();
  }
}

// Builds the user report's lines from the engine: names, depth in the tree, feedback and rank among the
// course's users. Pure presentation model over the engine (no Svelte, no storage).
import type { ReportRow, Viewer } from '../domain/gradebook/report';
import type { CourseJson } from '../domain/interchange/course-types';
import type { GridModel } from './grid-model';

export interface ReportLineModel {
  row: ReportRow;
  name: string;
  depth: number;
  kind: 'item' | 'category' | 'course';
  scale: readonly string[] | null;
  feedback?: string;
  rank?: { rank: number; of: number } | null;
}

/** The lines of one user's report; rank is over users with a grade in that column (Moodle's user report rank). */
export function userReportLines(model: GridModel, json: CourseJson, userId: string, viewer: Viewer, now: number): ReportLineModel[] {
  const rows = model.gradebook.userReport(userId, { viewer, now });
  const byId = new Map(model.columns.map((c) => [c.id, c]));
  const feedback = new Map<string, string>();
  for (const g of json.grades) if (g.user === userId && g.feedback) feedback.set(g.item, g.feedback);
  const engine = model.engine;
  const u = engine.userIndex.get(userId);
  return rows.map((row) => {
    const col = byId.get(row.item);
    let rank: { rank: number; of: number } | null = null;
    if (col && u !== undefined && row.final !== null && viewer === 'teacher') {
      const finals = engine.derived.final[col.q]!;
      let higher = 0;
      let of = 0;
      for (let k = 0; k < finals.length; k++) {
        const v = finals[k]!;
        if (Number.isNaN(v)) continue;
        of++;
        if (v > finals[u]!) higher++;
      }
      rank = { rank: higher + 1, of };
    }
    const line: ReportLineModel = {
      row,
      name: col?.name ?? row.item,
      depth: col ? Math.max(0, col.depth - 1) : 0,
      kind: row.item === 'course' ? 'course' : col?.kind === 'category' ? 'category' : 'item',
      scale: col?.scale ?? null,
      rank,
    };
    const fb = feedback.get(row.item);
    if (fb) line.feedback = fb;
    return line;
  });
}

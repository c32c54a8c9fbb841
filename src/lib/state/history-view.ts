// Turns the course's change log into rows a person can read: when, who, from where, what, old -> new.
// Pure presentation (no Svelte, no storage).
import type { HistoryEntry } from '../crdt/course-doc';
import type { CellRecord } from '../crdt/grade-register';

export interface HistoryRow {
  id: string;
  at: number;
  by: string;
  dev: string;
  src: string;
  what: string;
  item: string | null;
  user: string | null;
  old: string;
  new: string;
  revertible: boolean;
}

function describeRecord(r: CellRecord | null | undefined): string {
  if (!r) return '-';
  const parts: string[] = [];
  if (r.grade !== undefined) {
    const g = r.grade;
    parts.push(g === null ? 'no grade' : String(g.final ?? g.raw ?? 'no grade'));
  }
  if (r.overridden !== undefined) parts.push(r.overridden === null ? 'not overridden' : `overridden ${r.overridden}`);
  if (r.excluded !== undefined) parts.push(r.excluded ? 'excluded' : 'included');
  if (r.locked !== undefined) parts.push(r.locked === true ? 'locked' : r.locked ? `locked from ${new Date(Number(r.locked) * 1000).toLocaleString()}` : 'unlocked');
  if (r.hidden !== undefined) parts.push(r.hidden === true ? 'hidden' : r.hidden ? `hidden until ${new Date(Number(r.hidden) * 1000).toLocaleString()}` : 'shown');
  if (r.feedback !== undefined) parts.push(r.feedback ? `feedback “${r.feedback}”` : 'no feedback');
  return parts.join(', ') || '-';
}

function describeFields(f: Record<string, unknown> | null): string {
  if (f === null) return '(none)';
  return Object.entries(f)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

export function historyRows(entries: readonly HistoryEntry[], names: (kind: 'item' | 'user', id: string) => string): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (const e of entries) {
    const head = { id: e.id, at: e.at, by: e.by, dev: e.dev, src: e.src };
    switch (e.k) {
      case 'grade':
        rows.push({ ...head, what: `${names('item', e.item)} · ${names('user', e.user)}`, item: e.item, user: e.user, old: describeRecord(e.old), new: describeRecord(e.new), revertible: true });
        break;
      case 'row':
        rows.push({
          ...head,
          what: `${e.coll === 'items' ? 'Grade item' : e.coll === 'categories' ? 'Category' : 'Participant'} ${names('item', e.row)}${e.old === null ? ' created' : e.new === null ? ' deleted' : ' changed'}`,
          item: e.row,
          user: null,
          old: describeFields(e.old),
          new: describeFields(e.new),
          revertible: true,
        });
        break;
      case 'settings':
        rows.push({ ...head, what: 'Course settings', item: null, user: null, old: describeFields(e.old), new: describeFields(e.new), revertible: true });
        break;
      case 'load':
        rows.push({ ...head, what: 'Gradebook loaded', item: null, user: null, old: '-', new: '-', revertible: false });
        break;
      case 'rebase':
        rows.push({ ...head, what: 'History compacted (re-base)', item: null, user: null, old: '-', new: '-', revertible: false });
        break;
    }
  }
  return rows.reverse(); // newest first
}

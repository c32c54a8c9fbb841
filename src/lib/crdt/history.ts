// The per-course change log: listing, rebuilding the gradebook as it was at a time, and reverting a change.
// Reads the log the commands write; never edits or deletes a log entry (a revert is a new change).
import type * as Y from 'yjs';
import type { CourseJson } from '../domain/interchange/course-types.ts';
import { ValidationError } from '../domain/shared/errors.ts';
import { applyCommand, type Command, type CommandContext, type CommandResult } from './commands.ts';
import {
  BaseCells,
  readHistory,
  SEP,
  entrySlot,
  entryTx,
  assembleCourse,
  epochBase,
  requireEpoch,
  setupFromRows,
  type BaseHead,
  type BaseSnapshot,
  type HistoryEntry,
  type SetupRows,
} from './course-doc.ts';
import type { GradeField, GradeSlot } from './grade-register.ts';

/**
 * What a re-base moved out of the live document: the epoch's base and its full log. Kept by the persistence
 * layer or the server (cold storage) and passed back to `courseJsonAt` for times before the current epoch.
 */
export interface HistoryArchive {
  epoch: string;
  /** Unix seconds the epoch started (its base is the course as it was then). */
  from: number;
  /** Unix seconds it was folded into the next epoch. */
  to: number;
  base: string;
  entries: HistoryEntry[];
}

/** The log of the current epoch in document order; filter by cell or row if asked. */
export function listHistory(
  doc: Y.Doc,
  filter: { item?: string; user?: string; since?: number } = {},
): HistoryEntry[] {
  const e = requireEpoch(doc);
  return readHistory(e).filter((h) => {
    if (filter.since !== undefined && h.at < filter.since) return false;
    if (
      filter.item !== undefined &&
      !(h.k === 'grade' ? h.item === filter.item : h.k === 'row' && h.row === filter.item)
    )
      return false;
    if (filter.user !== undefined && !(h.k === 'grade' && h.user === filter.user)) return false;
    return true;
  });
}

function rowsFromBase(base: BaseHead): SetupRows {
  return {
    settings: { ...base.settings } as Record<string, unknown>,
    categories: new Map(base.categories.map((c) => [c.id, { ...c } as Record<string, unknown>])),
    items: new Map(base.items.map((c) => [c.id, { ...c } as Record<string, unknown>])),
    users: new Map((base.users ?? []).map((u) => [u.id, { ...u } as Record<string, unknown>])),
  };
}

function replay(
  base: BaseHead,
  cells: BaseCells,
  entries: readonly HistoryEntry[],
  time: number,
): CourseJson {
  const rows = rowsFromBase(base);
  // Stable by time, then log order: entries of one device are in log order already.
  const upto = entries.map((h, i) => [h, i] as const).filter(([h]) => h.at <= time);
  upto.sort((a, b) => a[0].at - b[0].at || a[1] - b[1]);
  const slots = new Map<string, GradeSlot>();
  for (const [h] of upto) {
    if (h.k === 'grade') {
      const key = h.item + SEP + h.user + SEP + h.dev;
      const prev = slots.get(key);
      if (!prev || prev.c < h.c) slots.set(key, entrySlot(h));
    } else if (h.k === 'row') {
      const coll = rows[h.coll];
      if (h.new === null) coll.delete(h.row);
      else if (h.old === null) coll.set(h.row, { ...h.new });
      else {
        const r = { ...(coll.get(h.row) ?? { id: h.row }) };
        for (const [k, v] of Object.entries(h.new)) {
          if (v === null || v === undefined) delete r[k];
          else r[k] = v;
        }
        coll.set(h.row, r);
      }
    } else if (h.k === 'settings') {
      for (const [k, v] of Object.entries(h.new)) {
        if (v === null || v === undefined) delete rows.settings[k];
        else rows.settings[k] = v;
      }
    }
  }
  const bySlots = new Map<string, GradeSlot[]>();
  for (const [key, slot] of slots) {
    const cell = key.slice(0, key.lastIndexOf(SEP));
    const list = bySlots.get(cell);
    if (list) list.push(slot);
    else bySlots.set(cell, [slot]);
  }
  return assembleCourse(cells, setupFromRows(rows), bySlots);
}

/**
 * The gradebook as it was at `time` (unix seconds, the writers' clocks): the epoch base plus every logged change
 * made at or before `time`, merged exactly as live cells are (conflicts of that moment included). Times before the
 * current epoch need the archive a re-base produced; without it this throws a ValidationError naming `time`.
 */
export function courseJsonAt(doc: Y.Doc, time: number, archives: readonly HistoryArchive[] = []): CourseJson {
  const e = requireEpoch(doc);
  const started = Number(e.map.get('at') ?? 0);
  if (time >= started || (e.n === 0 && archives.length === 0)) {
    const { base, cells } = epochBase(e);
    return replay(base, cells, readHistory(e), time);
  }
  const arch =
    archives.find((a) => a.from <= time && time < a.to) ?? archives.find((a) => time < a.to && a.from > time);
  if (!arch || time < arch.from)
    throw new ValidationError([
      { at: 'time', message: `changes before ${started} were archived by a re-base; pass that archive` },
    ]);
  const base = JSON.parse(arch.base) as BaseSnapshot;
  const cells = new BaseCells(base);
  return replay(base, cells, arch.entries, time);
}

/** The command that puts back what one logged change replaced (no expectation: an explicit revert wins). */
export function revertCommand(entry: HistoryEntry): Command | null {
  switch (entry.k) {
    case 'grade': {
      // A settled conflict is not reverted to one of its old candidates (that would drop the others silently).
      const fields = Object.fromEntries(
        Object.entries(entry.old).filter(([f]) => !entry.settled?.includes(f as GradeField)),
      );
      return Object.keys(fields).length
        ? { type: 'restoreCell', item: entry.item, user: entry.user, fields }
        : null;
    }
    case 'row':
      return {
        type: 'restoreRow',
        coll: entry.coll,
        id: entry.row,
        fields: entry.old === null ? null : entry.old,
      };
    case 'settings':
      return { type: 'restoreSettings', fields: entry.old };
    default:
      return null;
  }
}

/**
 * Reverts one logged change (by entry id) or a whole command (by its `tx`) as a NEW change with source `revert`.
 * Cells in conflict are skipped (reported in `skipped`); an unknown id is an error naming `entryId`.
 */
export function revertChange(doc: Y.Doc, entryId: string, ctx: CommandContext): CommandResult {
  const e = requireEpoch(doc);
  const all = readHistory(e);
  let picked = all.filter((h) => h.id === entryId);
  if (!picked.length) picked = all.filter((h) => entryTx(h) === entryId);
  const cmds = picked
    .map(revertCommand)
    .filter((c): c is Command => c !== null)
    .reverse();
  if (!cmds.length)
    return {
      ok: false,
      error: {
        code: 'not_found',
        message: `entryId: no revertible change "${entryId}"`,
        problems: [{ at: 'entryId', message: `no revertible change "${entryId}"` }],
      },
    };
  return applyCommand(doc, cmds.length === 1 ? cmds[0]! : { type: 'bulk', commands: cmds }, {
    ...ctx,
    src: 'revert',
  });
}

/** Fields a grade entry changed, for display: `[field, old, new]`. */
export function changedFields(
  entry: Extract<HistoryEntry, { k: 'grade' }>,
): [GradeField, unknown, unknown][] {
  return (Object.keys(entry.new) as GradeField[]).map((f) => [f, entry.old[f] ?? null, entry.new[f] ?? null]);
}

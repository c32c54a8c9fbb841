// Hidden and locked flags with times: `true`/`false`, or unix seconds ([FLAG-1], [FLAG-2]).
// Pure: the evaluation time is always a parameter, never read from a clock.
import type { FlagOrTime } from '../interchange/course-types.ts';

/** grade_object::is_hidden: 1/true hidden; a number > 1 is "hidden until" that time. */
export function isHiddenAt(flag: FlagOrTime | undefined, now: number): boolean {
  if (flag === undefined || flag === false || flag === 0) return false;
  if (flag === true || flag === 1) return true;
  return flag > now;
}

/** True for a hidden-until flag (a time), whether or not it has passed. */
export function isHiddenUntil(flag: FlagOrTime | undefined): boolean {
  return typeof flag === 'number' && flag > 1;
}

/** Locked, or a lock time that has passed (check_locktime locks once locktime < now). */
export function isLockedAt(flag: FlagOrTime | undefined, now: number): boolean {
  if (flag === undefined || flag === false || flag === 0) return false;
  if (flag === true || flag === 1) return true;
  return flag < now;
}

/** Cell flag bits kept per (item, user) in a Uint8Array column. */
export const CELL_ROW = 1; // a grade row exists for the cell
export const CELL_EXCLUDED = 2;
export const CELL_HIDDEN = 4; // hidden: true
export const CELL_LOCKED = 8; // locked: true
export const CELL_TIMED = 16; // hidden-until or lock time kept in a sparse map
export const CELL_STORED_FINAL = 32; // `input` holds a stored final, not a raw grade

/** Aggregation status of a child grade (grade_grades.aggregationstatus). */
export const ST_UNKNOWN = 0;
export const ST_USED = 1;
export const ST_NOVALUE = 2;
export const ST_DROPPED = 3;
export const ST_EXTRA = 4;
export const ST_EXCLUDED = 5;
export const STATUS_NAMES = ['unknown', 'used', 'novalue', 'dropped', 'extra', 'excluded'] as const;
export type AggregationStatus = (typeof STATUS_NAMES)[number];

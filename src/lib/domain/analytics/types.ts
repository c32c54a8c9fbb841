// Row types for learning-analytics data (courses, activities, logs, submissions, enrolments) and the
// Dexie table schema they are stored in. Pure types and constants: never touches IndexedDB or the clock.
import type { UnixSeconds } from '../shared/clock.ts';

export type Crud = 'c' | 'r' | 'u' | 'd';
/** Moodle's event education levels (`\core\event\base::LEVEL_*`). */
export type EduLevel = 'teaching' | 'participating' | 'other';
export type Role = 'student' | 'teacher' | 'editingteacher' | 'manager';
/** Final outcome of an enrolment, when known (OULAD `final_result`, or a Moodle completion/grade). */
export type Outcome = 'distinction' | 'pass' | 'fail' | 'withdrawn';

/** An analysable course (Moodle `course`; OULAD presentation). Times in unix seconds. */
export interface CourseRow {
  readonly id: string;
  readonly shortname: string;
  readonly fullname: string;
  readonly startdate: UnixSeconds;
  /** 0/null = no end date set. */
  readonly enddate: UnixSeconds | null;
  readonly visible: boolean;
  /** Moodle course format ('topics', 'weeks', ...); OULAD presentations are weekly. */
  readonly format: string;
  /** Course completion enabled with criteria (used by `completion_enabled` and course_completion target). */
  readonly completionEnabled: boolean;
  /** Grade needed to pass, 0..1 of the course maximum; null = not set. */
  readonly gradePass: number | null;
  /** Where the row came from, e.g. 'oulad' (the app must show the OULAD citation for such rows). */
  readonly source: string;
  /**
   * Runs of the same course share a family (Moodle: a course idnumber stem or category; OULAD: code_module);
   * history indicators learn from earlier, finished runs of the family. Optional.
   */
  readonly family?: string | null;
}

/** A course module (activity or resource). */
export interface ActivityRow {
  readonly id: string;
  readonly courseId: string;
  /** Moodle module name: assign, quiz, forum, resource, page, url, ... */
  readonly modname: string;
  readonly name: string;
  readonly visible: boolean;
  /** Due / close date, null when the activity has none. */
  readonly due: UnixSeconds | null;
  /** Weight in the final grade, percent; 0 when not graded. */
  readonly weight: number;
  /** True for a final exam (OULAD `Exam`): not counted by "share of due assessments submitted". */
  readonly isExam: boolean;
  /** Moodle-style planned section (week) index, null if unknown. */
  readonly section: number | null;
}

/** One activity-log event (Moodle `logstore_standard_log`). Append-only, never kept in a CRDT */
export interface LogEventRow {
  /** Monotonic sequence number assigned on import (the Dexie primary key). */
  readonly seq: number;
  readonly userId: string;
  readonly courseId: string;
  /** Course module id, or null for course-level events. */
  readonly activityId: string | null;
  readonly eventName: string;
  readonly action: string;
  readonly crud: Crud;
  readonly eduLevel: EduLevel;
  readonly time: UnixSeconds;
}

/** A submission (and its grade) of one activity by one user. */
export interface SubmissionRow {
  readonly id: string;
  readonly courseId: string;
  readonly activityId: string;
  readonly userId: string;
  readonly submitted: UnixSeconds;
  /** Score as a fraction 0..1 of the maximum; null when not graded. */
  readonly score: number | null;
  /** Mark carried over from an earlier attempt (OULAD `is_banked`). */
  readonly banked: boolean;
}

/** A user's enrolment in a course (Moodle `user_enrolments` + role). */
export interface EnrolmentRow {
  readonly id: string;
  readonly courseId: string;
  readonly userId: string;
  readonly role: Role;
  /** Enrolment start (OULAD registration date); null = unknown. */
  readonly start: UnixSeconds | null;
  /** Enrolment end (OULAD unregistration date); null = still enrolled. */
  readonly end: UnixSeconds | null;
  /** Earlier attempts at the same course (OULAD `num_of_prev_attempts`). */
  readonly previousAttempts: number;
  /** Credits the student is studying at the same time (OULAD `studied_credits`); 0 if unknown. */
  readonly studiedCredits: number;
  readonly outcome: Outcome | null;
  /** Final course grade 0..1, null if unknown. */
  readonly finalGrade: number | null;
  /** Course completed (Moodle course completion); null if not tracked. */
  readonly completed: boolean | null;
  /** Free profile fields (OULAD demographics) used by profile indicators. */
  readonly profile: Readonly<Record<string, string>>;
}

export interface UserRow {
  readonly id: string;
  readonly name: string;
}

/** Everything analytics reads, as plain arrays of rows (what the tables hold). */
export interface ActivityDataRows {
  readonly courses: readonly CourseRow[];
  readonly activities: readonly ActivityRow[];
  readonly logs: readonly LogEventRow[];
  readonly submissions: readonly SubmissionRow[];
  readonly enrolments: readonly EnrolmentRow[];
  readonly users: readonly UserRow[];
}

/**
 * [ANA-1] Dexie store declarations for the analytics tables (IndexedDB, not CRDT documents).
 * The Dexie adapter calls `db.version(n).stores(ANALYTICS_TABLES)`; logs are written and read in
 * batches of ANALYTICS_BATCH_SIZE rows.
 */
export const ANALYTICS_TABLES = {
  analyticsCourses: 'id, startdate',
  analyticsActivities: 'id, courseId',
  analyticsLogs: 'seq, [courseId+userId], [courseId+time], time',
  analyticsSubmissions: 'id, [courseId+userId], activityId',
  analyticsEnrolments: 'id, courseId, userId',
  analyticsUsers: 'id',
  analyticsModels: 'id',
  analyticsTrainedModels: 'modelId',
  analyticsIndicatorCache: '[indicator+sampleId+start+end]',
  analyticsUsedSamples: '[modelId+sampleId+rangeIndex]',
  analyticsPredictions: 'id, modelId, courseId, [modelId+courseId]',
  analyticsPredictionActions: 'id, predictionId, userId',
} as const;

/** Rows per batch when moving logs between IndexedDB, the worker and the network (keeps messages < ~10 MB). */
export const ANALYTICS_BATCH_SIZE = 5000;

/** Splits rows into batches of `size` for transfer. */
export function toBatches<T>(rows: readonly T[], size: number = ANALYTICS_BATCH_SIZE): T[][] {
  if (!(size >= 1)) throw new RangeError('batch size must be >= 1');
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

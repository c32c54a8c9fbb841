// In-memory indexes over analytics rows (per course, per course+user, time-sorted) so indicators run
// in O(log n) per sample and range. Pure: built from plain rows, never reads storage itself.
import type {
  ActivityDataRows,
  ActivityRow,
  CourseRow,
  EnrolmentRow,
  LogEventRow,
  SubmissionRow,
  UserRow,
} from './types.ts';

/** Logs of one user in one course, sorted by time, with parallel typed arrays for fast range counts. */
export interface UserLogs {
  readonly rows: readonly LogEventRow[];
  readonly times: Float64Array;
  /** Prefix counts: reads[i] = number of crud 'r' rows among rows[0..i). */
  readonly readPrefix: Int32Array;
  /** Prefix counts of create/update rows. */
  readonly writePrefix: Int32Array;
}

export interface CourseIndex {
  readonly course: CourseRow;
  readonly activities: readonly ActivityRow[];
  /** Graded, non-exam activities with a due date, sorted by due date. */
  readonly dueAssessments: readonly ActivityRow[];
  readonly enrolments: readonly EnrolmentRow[];
  readonly students: readonly EnrolmentRow[];
  readonly teachers: readonly EnrolmentRow[];
  /** Total log rows in the course (for the "enough logs per student" training rule). */
  readonly logCount: number;
  /** Times of every log in the course, sorted. */
  readonly logTimes: Float64Array;
}

export interface ActivityData {
  readonly courses: ReadonlyMap<string, CourseIndex>;
  readonly users: ReadonlyMap<string, UserRow>;
  readonly activities: ReadonlyMap<string, ActivityRow>;
  logsOf(courseId: string, userId: string): UserLogs;
  submissionsOf(courseId: string, userId: string): readonly SubmissionRow[];
  enrolment(id: string): EnrolmentRow | undefined;
}

const EMPTY_LOGS: UserLogs = {
  rows: [],
  times: new Float64Array(0),
  readPrefix: new Int32Array(1),
  writePrefix: new Int32Array(1),
};

const key = (courseId: string, userId: string): string => `${courseId}\u0000${userId}`;

function groupBy<T>(rows: readonly T[], k: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const kk = k(r);
    const list = m.get(kk);
    if (list) list.push(r);
    else m.set(kk, [r]);
  }
  return m;
}

function indexLogs(rows: LogEventRow[]): UserLogs {
  rows.sort((a, b) => a.time - b.time || a.seq - b.seq);
  const n = rows.length;
  const times = new Float64Array(n);
  const readPrefix = new Int32Array(n + 1);
  const writePrefix = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    times[i] = r.time;
    readPrefix[i + 1] = readPrefix[i]! + (r.crud === 'r' ? 1 : 0);
    writePrefix[i + 1] = writePrefix[i]! + (r.crud === 'c' || r.crud === 'u' ? 1 : 0);
  }
  return { rows, times, readPrefix, writePrefix };
}

/** First index i with times[i] > t (upper bound). */
export function upperBound(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index range [from, to) of logs with start < time <= end (Moodle's "within (start, end]"). */
export function logsBetween(logs: UserLogs, start: number, end: number): [number, number] {
  return [upperBound(logs.times, start), upperBound(logs.times, end)];
}

/** Builds the indexes. Rows referring to unknown courses are kept out of course indexes but not rejected. */
export function buildActivityData(rows: ActivityDataRows): ActivityData {
  const activitiesByCourse = groupBy(rows.activities, (a) => a.courseId);
  const enrolByCourse = groupBy(rows.enrolments, (e) => e.courseId);
  const logsByCourse = groupBy(rows.logs, (l) => l.courseId);
  const courses = new Map<string, CourseIndex>();
  for (const course of rows.courses) {
    const activities = activitiesByCourse.get(course.id) ?? [];
    const enrolments = enrolByCourse.get(course.id) ?? [];
    const courseLogs = logsByCourse.get(course.id) ?? [];
    const logTimes = Float64Array.from(courseLogs, (l) => l.time).sort();
    courses.set(course.id, {
      course,
      activities,
      dueAssessments: activities
        .filter((a) => a.due !== null && !a.isExam && a.weight >= 0 && a.visible)
        .sort((a, b) => a.due! - b.due!),
      enrolments,
      students: enrolments.filter((e) => e.role === 'student'),
      teachers: enrolments.filter((e) => e.role === 'teacher' || e.role === 'editingteacher'),
      logCount: courseLogs.length,
      logTimes,
    });
  }
  const logIndex = new Map<string, UserLogs>();
  for (const [k, list] of groupBy(rows.logs, (l) => key(l.courseId, l.userId)))
    logIndex.set(k, indexLogs(list));
  const subIndex = groupBy(rows.submissions, (s) => key(s.courseId, s.userId));
  for (const list of subIndex.values()) list.sort((a, b) => a.submitted - b.submitted);
  const enrolById = new Map(rows.enrolments.map((e) => [e.id, e] as const));
  return {
    courses,
    users: new Map(rows.users.map((u) => [u.id, u] as const)),
    activities: new Map(rows.activities.map((a) => [a.id, a] as const)),
    logsOf: (c, u) => logIndex.get(key(c, u)) ?? EMPTY_LOGS,
    submissionsOf: (c, u) => subIndex.get(key(c, u)) ?? [],
    enrolment: (id) => enrolById.get(id),
  };
}

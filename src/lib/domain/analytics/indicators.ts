// Indicators: per (sample, time range) values in [-1, 1] or null, each declaring the data it needs.
// Pure: reads only the ActivityData indexes it is given; never storage, clocks or randomness.
import { logsBetween, upperBound, type ActivityData, type CourseIndex } from './data.ts';
import type { ActivityRow, CourseRow, EnrolmentRow, SubmissionRow } from './types.ts';
import type { TimeRange } from './time-splitting.ts';

export type SampleKind = 'enrolment' | 'course' | 'user';
/** Data an indicator reads; a model whose data source lacks one of these warns before training. */
export type DataNeed = 'logs' | 'activities' | 'submissions' | 'enrolments' | 'profile' | 'course';

/** One sample (Moodle: sample id within an analysable). */
export interface Sample {
  readonly id: string;
  readonly kind: SampleKind;
  /** The analysable this sample belongs to (course id, or 'site'). */
  readonly analysableId: string;
  readonly courseId: string | null;
  readonly userId: string | null;
  readonly enrolment: EnrolmentRow | null;
}

export interface IndicatorContext {
  readonly data: ActivityData;
  /** The course of the sample's analysable, when there is one. */
  readonly course: CourseIndex | null;
}

export type IndicatorKind = 'binary' | 'linear';

export interface Indicator {
  readonly id: string;
  readonly name: string;
  readonly kind: IndicatorKind;
  readonly needs: readonly DataNeed[];
  readonly sampleKinds: readonly SampleKind[];
  /** Linear indicators also get a per-analysable mean column (Moodle `linear::include_averages`). */
  readonly includeAverage: boolean;
  /** Value in [-1, 1], or null when the indicator does not apply to this sample in this range. */
  calculate(ctx: IndicatorContext, sample: Sample, range: TimeRange): number | null;
}

const DAY = 86400;
const WEEK = 7 * DAY;

/** [ANA-4] Every calculation is null or inside [-1, 1] (`analytics/classes/local/indicator/base.php`). */
export function checkValue(indicatorId: string, v: number | null): number | null {
  if (v === null) return null;
  if (!(v >= -1 && v <= 1)) throw new RangeError(`indicator ${indicatorId} returned ${v}, outside [-1, 1]`);
  return v;
}

const clamp1 = (v: number): number => (v < -1 ? -1 : v > 1 ? 1 : v);
const round2 = (v: number): number => Math.round(v * 100) / 100;
/** Maps a share in [0, 1] onto [-1, 1]. */
const share = (x: number): number => clamp1(2 * x - 1);
const bin = (b: boolean): number => (b ? 1 : -1);

/**
 * Moodle `base::classify_value`: `value` against ascending bucket limits -> K ordered buckets evenly
 * spread over [-1, 1], rounded to 2 dp.
 */
export function classifyValue(value: number, limits: readonly number[]): number {
  const k = limits.length + 1;
  let bucket = limits.length;
  for (let i = 0; i < limits.length; i++) {
    if (value <= limits[i]!) {
      bucket = i;
      break;
    }
  }
  return round2(-1 + (2 * bucket) / (k - 1));
}

function binary(
  id: string,
  name: string,
  needs: DataNeed[],
  kinds: SampleKind[],
  calc: (ctx: IndicatorContext, s: Sample, r: TimeRange) => boolean | null,
): Indicator {
  return {
    id,
    name,
    kind: 'binary',
    needs,
    sampleKinds: kinds,
    includeAverage: false,
    calculate: (ctx, s, r) => {
      const b = calc(ctx, s, r);
      return b === null ? null : bin(b);
    },
  };
}

function linear(
  id: string,
  name: string,
  needs: DataNeed[],
  kinds: SampleKind[],
  calc: (ctx: IndicatorContext, s: Sample, r: TimeRange) => number | null,
  includeAverage = true,
): Indicator {
  return { id, name, kind: 'linear', needs, sampleKinds: kinds, includeAverage, calculate: calc };
}

const userLogs = (ctx: IndicatorContext, s: Sample) =>
  s.courseId !== null && s.userId !== null ? ctx.data.logsOf(s.courseId, s.userId) : null;

// ---------------------------------------------------------------------------------------------
// Moodle built-ins that need click logs (lib/classes/analytics/indicator/*, course/classes/analytics/indicator/*)
// ---------------------------------------------------------------------------------------------

/** `any_access_after_end`: any log by the user in the course after the course end date. */
const anyAccessAfterEnd = binary(
  'any_access_after_end',
  'Any access after the course end',
  ['logs', 'course'],
  ['enrolment'],
  (ctx, s) => {
    const logs = userLogs(ctx, s);
    const end = ctx.course?.course.enddate;
    if (!logs || end === null || end === undefined) return null;
    const t = logs.times;
    return t.length > 0 && t[t.length - 1]! > end;
  },
);

/** `any_access_before_start`: any log by the user in the course before the course start date. */
const anyAccessBeforeStart = binary(
  'any_access_before_start',
  'Any access before the course start',
  ['logs', 'course'],
  ['enrolment'],
  (ctx, s) => {
    const logs = userLogs(ctx, s);
    if (!logs || !ctx.course) return null;
    return logs.times.length > 0 && logs.times[0]! < ctx.course.course.startdate;
  },
);

/** `any_write_action_in_course`: any create/update log by the user in the course within (start, end]. */
const anyWriteAction = binary(
  'any_write_action_in_course',
  'Any write action in the course',
  ['logs'],
  ['enrolment'],
  (ctx, s, r) => {
    const logs = userLogs(ctx, s);
    if (!logs) return null;
    const [a, b] = logsBetween(logs, r.start, r.end);
    return logs.writePrefix[b]! - logs.writePrefix[a]! > 0;
  },
);

/** `any_course_access`: the user accessed the course within (start, end]. */
const anyCourseAccess = binary(
  'any_course_access',
  'Any course access',
  ['logs'],
  ['enrolment'],
  (ctx, s, r) => {
    const logs = userLogs(ctx, s);
    if (!logs) return null;
    const [a, b] = logsBetween(logs, r.start, r.end);
    return b > a;
  },
);

/**
 * `read_actions` (`lib/classes/analytics/indicator/read_actions.php`): n read logs in (start, end], w weeks;
 * n = 0 -> -1, n <= 3w -> -0.33, n <= 30w -> 0.33, else 1.
 */
const readActions = linear('read_actions', 'Read actions amount', ['logs'], ['enrolment'], (ctx, s, r) => {
  const logs = userLogs(ctx, s);
  if (!logs) return null;
  const [a, b] = logsBetween(logs, r.start, r.end);
  const n = logs.readPrefix[b]! - logs.readPrefix[a]!;
  const w = (r.end - r.start) / WEEK;
  if (n === 0) return -1;
  if (n <= 3 * w) return -0.33;
  if (n <= 30 * w) return 0.33;
  return 1;
});

/** `completion_enabled` (course-level): completion enabled with criteria. */
const completionEnabled = binary(
  'completion_enabled',
  'Course completion enabled',
  ['course'],
  ['enrolment', 'course'],
  (ctx) => (ctx.course ? ctx.course.course.completionEnabled : null),
);

/** `no_teacher` (`course/classes/analytics/indicator/no_teacher.php`): +1 when the course has a teacher. */
const noTeacher = binary('no_teacher', 'There are no teachers', ['enrolments'], ['course'], (ctx) =>
  ctx.course ? ctx.course.teachers.length > 0 : null,
);
/** `no_student`: +1 when the course has a student. */
const noStudent = binary('no_student', 'There are no students', ['enrolments'], ['course'], (ctx) =>
  ctx.course ? ctx.course.students.length > 0 : null,
);

/** `activities_due`: +1 when the user has activities due within (start, end). */
const activitiesDue = binary(
  'activities_due',
  'Activities due',
  ['activities', 'enrolments'],
  ['user', 'enrolment'],
  (ctx, s, r) => {
    const courses: CourseIndex[] = [];
    if (ctx.course) courses.push(ctx.course);
    else if (s.userId !== null) {
      for (const c of ctx.data.courses.values())
        if (c.students.some((e) => e.userId === s.userId)) courses.push(c);
    }
    return courses.some((c) =>
      c.activities.some((a) => a.visible && a.due !== null && a.due > r.start && a.due < r.end),
    );
  },
);

// ---------------------------------------------------------------------------------------------
// Community-of-inquiry indicators per activity type (analytics/classes/local/indicator/community_of_inquiry_activity.php,
// mod/*/classes/analytics/indicator/{cognitive_depth,social_breadth}.php)
// ---------------------------------------------------------------------------------------------

/** Potential levels per module (cognitive, social) from the newest mod/* classes. */
export const POTENTIAL_LEVELS: Readonly<Record<string, readonly [number, number]>> = {
  assign: [5, 2],
  book: [1, 1],
  choice: [2, 2],
  data: [2, 1],
  feedback: [2, 2],
  folder: [1, 1],
  forum: [4, 2],
  glossary: [2, 1],
  imscp: [1, 1],
  label: [1, 1],
  lesson: [5, 2],
  lti: [3, 2],
  page: [1, 1],
  quiz: [5, 2],
  resource: [1, 1],
  scorm: [3, 2],
  url: [1, 1],
  wiki: [2, 1],
  workshop: [5, 2],
};

/**
 * Due date of an activity for CoI purposes: its own due/close date; else, in a weekly course, the end of its
 * section's week; else null (Moodle's even split of the course among sections is not modelled; section 0 never due).
 */
function coiDue(course: CourseIndex, a: { due: number | null; section: number | null }): number | null {
  if (a.due !== null) return a.due;
  if (a.section !== null && a.section > 0 && course.course.format === 'weeks')
    return course.course.startdate + a.section * WEEK - 2 * 3600;
  return null;
}

/**
 * The level a user reached in one activity within a range, approximated from logs and submissions:
 * 1 any log; 2 any create/update or a submission; 3 viewed the activity after submitting (feedback viewed);
 * 4 wrote again after submitting (replied to feedback); 5 submitted again (resubmission after feedback).
 */
function reachedLevel(ctx: IndicatorContext, s: Sample, activityId: string, r: TimeRange): number {
  const logs = userLogs(ctx, s);
  const subs = s.courseId !== null && s.userId !== null ? ctx.data.submissionsOf(s.courseId, s.userId) : [];
  let firstSub = Infinity;
  let nSubs = 0;
  for (const x of subs) {
    if (x.activityId === activityId && x.submitted <= r.end) {
      nSubs++;
      if (x.submitted < firstSub) firstSub = x.submitted;
    }
  }
  let any = false;
  let write = nSubs > 0;
  let viewedAfter = false;
  let wroteAfter = false;
  if (logs) {
    const [a, b] = logsBetween(logs, r.start, r.end);
    for (let i = a; i < b; i++) {
      const l = logs.rows[i]!;
      if (l.activityId !== activityId) continue;
      any = true;
      const w = l.crud === 'c' || l.crud === 'u';
      if (w) write = true;
      if (l.time > firstSub) {
        if (w) wroteAfter = true;
        else viewedAfter = true;
      }
    }
  }
  if (nSubs >= 2) return 5;
  if (wroteAfter) return 4;
  if (viewedAfter) return 3;
  if (write) return 2;
  return any ? 1 : 0;
}

function coiIndicator(modname: string, which: 'cognitive' | 'social'): Indicator {
  const potential = POTENTIAL_LEVELS[modname]![which === 'cognitive' ? 0 : 1];
  return {
    id: `${which === 'cognitive' ? 'cognitive_depth' : 'social_breadth'}:${modname}`,
    name: `${modname} ${which === 'cognitive' ? 'cognitive depth' : 'social breadth'}`,
    kind: 'linear',
    needs: ['logs', 'activities'],
    sampleKinds: ['enrolment'],
    includeAverage: true,
    calculate(ctx, s, r) {
      const c = ctx.course;
      if (!c) return null;
      const due = c.activities.filter((a) => {
        if (a.modname !== modname || !a.visible) return false;
        const d = coiDue(c, a);
        return d !== null && d > r.start && d <= r.end;
      });
      if (due.length === 0) return null;
      const perActivity = 2 / due.length;
      let score = -1;
      for (const a of due) {
        let level = reachedLevel(ctx, s, a.id, r);
        // Social breadth: level 1 is access; anything above counts as the second (and last core) level.
        if (which === 'social') level = Math.min(level, 2);
        score += (perActivity / potential) * Math.min(level, potential);
      }
      return round2(clamp1(score));
    },
  };
}

/** `potential_cognitive_depth`: max potential level over the course's activities -> -1 + 0.5(L-1). */
const potentialCognitive = linear(
  'potential_cognitive_depth',
  'Potential cognitive depth',
  ['activities'],
  ['enrolment', 'course'],
  (ctx) => {
    if (!ctx.course) return null;
    let max = 0;
    for (const a of ctx.course.activities) max = Math.max(max, POTENTIAL_LEVELS[a.modname]?.[0] ?? 0);
    return max === 0 ? null : -1 + 0.5 * (max - 1);
  },
  false,
);

/** `potential_social_breadth`: level 1 -> -1, level 2 -> +1. */
const potentialSocial = linear(
  'potential_social_breadth',
  'Potential social breadth',
  ['activities'],
  ['enrolment', 'course'],
  (ctx) => {
    if (!ctx.course) return null;
    let max = 0;
    for (const a of ctx.course.activities) max = Math.max(max, POTENTIAL_LEVELS[a.modname]?.[1] ?? 0);
    return max === 0 ? null : max >= 2 ? 1 : -1;
  },
  false,
);

// ---------------------------------------------------------------------------------------------
// Indicators that work without click logs (assessments, submissions, enrolment) — not in Moodle.
// ---------------------------------------------------------------------------------------------

/**
 * One-entry memos: a dataset computes every indicator of one (sample, range) in a row, so the last answer is
 * usually the one asked for again. Keyed by array identity and time; results are never mutated.
 */
let dueMemo: { list: readonly ActivityRow[]; t: number; out: ActivityRow[] } | null = null;
let subsMemo: { list: readonly SubmissionRow[]; t: number; out: SubmissionRow[] } | null = null;

/** Due assessments of the sample's course with due date in (course start, range end]. */
function dueByEnd(ctx: IndicatorContext, r: TimeRange): readonly ActivityRow[] {
  const c = ctx.course;
  if (!c) return [];
  const list = c.dueAssessments;
  if (dueMemo && dueMemo.list === list && dueMemo.t === r.end) return dueMemo.out;
  const out: ActivityRow[] = [];
  for (const a of list) {
    if (a.due! > r.end) break;
    out.push(a);
  }
  dueMemo = { list, t: r.end, out };
  return out;
}

function subsUntil(ctx: IndicatorContext, s: Sample, t: number): readonly SubmissionRow[] {
  if (s.courseId === null || s.userId === null) return [];
  const all = ctx.data.submissionsOf(s.courseId, s.userId);
  if (subsMemo && subsMemo.list === all && subsMemo.t === t) return subsMemo.out;
  let n = 0;
  while (n < all.length && all[n]!.submitted <= t) n++;
  const out = n === all.length ? (all as SubmissionRow[]) : all.slice(0, n);
  subsMemo = { list: all, t, out };
  return out;
}

/** Share of the assessments due so far that the student has submitted. */
const dueSubmittedShare = linear(
  'due_submitted_share',
  'Share of due assessments submitted',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const due = dueByEnd(ctx, r);
    if (due.length === 0) return null;
    const subs = subsUntil(ctx, s, r.end);
    let n = 0;
    for (const a of due) if (subs.some((x) => x.activityId === a.id)) n++;
    return share(n / due.length);
  },
);

/** Share of the due assessments' weight submitted so far (a missed heavy assessment counts more). */
const dueWeightSubmitted = linear(
  'due_weight_submitted',
  'Weighted share of due assessments submitted',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const due = dueByEnd(ctx, r);
    let total = 0;
    let got = 0;
    const subs = subsUntil(ctx, s, r.end);
    for (const a of due) {
      total += a.weight;
      if (subs.some((x) => x.activityId === a.id)) got += a.weight;
    }
    return total > 0 ? share(got / total) : null;
  },
);

/** Share of the due assessments submitted on or before their due date. */
const onTimeShare = linear(
  'on_time_share',
  'Share of due assessments submitted on time',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const due = dueByEnd(ctx, r);
    if (due.length === 0) return null;
    const subs = subsUntil(ctx, s, r.end);
    let n = 0;
    for (const a of due) if (subs.some((x) => x.activityId === a.id && x.submitted <= a.due!)) n++;
    return share(n / due.length);
  },
);

/** Mean score (0..1 -> -1..1) of graded submissions so far; null before any graded work. */
const meanScore = linear('mean_score', 'Mean score so far', ['submissions'], ['enrolment'], (ctx, s, r) => {
  let sum = 0;
  let n = 0;
  for (const x of subsUntil(ctx, s, r.end)) {
    if (x.score !== null) {
      sum += x.score;
      n++;
    }
  }
  return n === 0 ? null : share(sum / n);
});

/** Score of the most recent graded submission (a falling last mark is an early warning). */
const lastScore = linear('last_score', 'Most recent score', ['submissions'], ['enrolment'], (ctx, s, r) => {
  const subs = subsUntil(ctx, s, r.end);
  for (let i = subs.length - 1; i >= 0; i--) if (subs[i]!.score !== null) return share(subs[i]!.score!);
  return null;
});

/** Mean days a due assessment was handed in before its due date (late counts negative), over +-14 days. */
const EARLINESS_HORIZON_DAYS = 14;
const submissionEarliness = linear(
  'submission_earliness',
  'Submitting ahead of due dates',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    let sum = 0;
    let n = 0;
    for (const x of subsUntil(ctx, s, r.end)) {
      const a = ctx.data.activities.get(x.activityId);
      if (!a || a.due === null || x.banked) continue;
      sum += Math.max(-EARLINESS_HORIZON_DAYS, Math.min(EARLINESS_HORIZON_DAYS, (a.due - x.submitted) / DAY));
      n++;
    }
    return n === 0 ? null : round2(sum / n / EARLINESS_HORIZON_DAYS);
  },
);

/** Share of the assessments not yet due that the student has already submitted (working ahead). */
const workAhead = linear(
  'work_ahead',
  'Work handed in before it is due',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const c = ctx.course;
    if (!c) return null;
    let notDue = 0;
    for (const a of c.dueAssessments) if (a.due! > r.end) notDue++;
    if (notDue === 0) return null;
    let ahead = 0;
    for (const x of subsUntil(ctx, s, r.end)) {
      const a = ctx.data.activities.get(x.activityId);
      if (a && a.due !== null && a.due > r.end && !a.isExam) ahead++;
    }
    return share(Math.min(1, ahead / notDue));
  },
);

/** Weighted score over everything due so far, a missed assessment counting as 0 (the mark the student is on course for). */
const weightedScoreSoFar = linear(
  'weighted_score_so_far',
  'Weighted score on work due so far',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const due = dueByEnd(ctx, r);
    const subs = subsUntil(ctx, s, r.end);
    let total = 0;
    let got = 0;
    for (const a of due) {
      // Zero-weight practice assessments still count a little so early ranges are not empty.
      const w = a.weight > 0 ? a.weight : 1;
      total += w;
      const x = subs.find((y) => y.activityId === a.id);
      if (x && x.score !== null) got += w * x.score;
    }
    return total > 0 ? share(got / total) : null;
  },
);

/** Per activity: graded submissions sorted by time with prefix sums of scores (built once per data set). */
interface ScoreTimeline {
  readonly times: Float64Array;
  readonly prefix: Float64Array;
}
const timelines = new WeakMap<ActivityData, Map<string, ScoreTimeline>>();
function scoreTimelines(data: ActivityData): Map<string, ScoreTimeline> {
  let m = timelines.get(data);
  if (m) return m;
  const raw = new Map<string, { t: number; s: number }[]>();
  for (const c of data.courses.values())
    for (const e of c.students)
      for (const x of data.submissionsOf(c.course.id, e.userId)) {
        if (x.score === null) continue;
        const list = raw.get(x.activityId);
        if (list) list.push({ t: x.submitted, s: x.score });
        else raw.set(x.activityId, [{ t: x.submitted, s: x.score }]);
      }
  m = new Map();
  for (const [id, list] of raw) {
    list.sort((a, b) => a.t - b.t);
    const prefix = new Float64Array(list.length + 1);
    list.forEach((v, i) => (prefix[i + 1] = prefix[i]! + v.s));
    m.set(id, { times: Float64Array.from(list, (v) => v.t), prefix });
  }
  timelines.set(data, m);
  return m;
}

/** Mean score of the activity's graded submissions up to time t. */
function activityMeanScore(ctx: IndicatorContext, activityId: string, t: number): number | null {
  const tl = scoreTimelines(ctx.data).get(activityId);
  if (!tl) return null;
  const n = upperBound(tl.times, t);
  return n === 0 ? null : tl.prefix[n]! / n;
}

/** Mean difference between the student's scores and each assessment's mean score so far (x2, clamped). */
const relativeScore = linear(
  'relative_score',
  'Score relative to peers',
  ['submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    let sum = 0;
    let n = 0;
    for (const x of subsUntil(ctx, s, r.end)) {
      if (x.score === null) continue;
      const m = activityMeanScore(ctx, x.activityId, r.end);
      if (m === null) continue;
      sum += x.score - m;
      n++;
    }
    return n === 0 ? null : round2(clamp1((2 * sum) / n));
  },
);

/** Late submissions so far: 0 -> -1, 1 -> 0, 2+ -> +1 (three buckets, Moodle-style). */
const lateSubmissions = linear(
  'late_submissions',
  'Late submissions',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    let late = 0;
    for (const x of subsUntil(ctx, s, r.end)) {
      const a = ctx.data.activities.get(x.activityId);
      if (a && a.due !== null && x.submitted > a.due && !x.banked) late++;
    }
    return classifyValue(late, [0, 1]);
  },
);

/** Whether the most recently due assessment has been handed in (disengagement shows there first). */
const lastDueSubmitted = binary(
  'last_due_submitted',
  'Latest due assessment submitted',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const due = dueByEnd(ctx, r);
    const last = due[due.length - 1];
    if (!last) return null;
    return subsUntil(ctx, s, r.end).some((x) => x.activityId === last.id);
  },
);

/** Due assessments missed in a row, counting back from the latest: 0 -> -1, 1 -> 0, 2+ -> +1. */
const missedInARow = linear(
  'missed_in_a_row',
  'Due assessments missed in a row',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const due = dueByEnd(ctx, r);
    if (due.length === 0) return null;
    const done = new Set(subsUntil(ctx, s, r.end).map((x) => x.activityId));
    let n = 0;
    for (let i = due.length - 1; i >= 0 && !done.has(due[i]!.id); i--) n++;
    return classifyValue(n, [0, 1]);
  },
);

/**
 * Score trend: the latest graded score minus the mean of the earlier graded ones (x2, clamped); a falling mark
 * is a warning the mean hides. Null before two graded submissions.
 */
const scoreTrend = linear('score_trend', 'Score trend', ['submissions'], ['enrolment'], (ctx, s, r) => {
  let sum = 0;
  let n = 0;
  let last: number | null = null;
  for (const x of subsUntil(ctx, s, r.end)) {
    if (x.score === null) continue;
    if (last !== null) {
      sum += last;
      n++;
    }
    last = x.score;
  }
  return n === 0 || last === null ? null : round2(clamp1(2 * (last - sum / n)));
});

/** Whether the course's first due assessment was handed in by its due date (null until it is due). */
const firstDueOnTime = binary(
  'first_due_on_time',
  'First assessment submitted on time',
  ['activities', 'submissions'],
  ['enrolment'],
  (ctx, s, r) => {
    const first = dueByEnd(ctx, r)[0];
    if (!first) return null;
    return subsUntil(ctx, s, r.end).some((x) => x.activityId === first.id && x.submitted <= first.due!);
  },
);

/** Every student enrolment of each user across courses (built once per data set). */
const userEnrolmentCache = new WeakMap<ActivityData, Map<string, EnrolmentRow[]>>();
function enrolmentsOfUser(data: ActivityData, userId: string): readonly EnrolmentRow[] {
  let m = userEnrolmentCache.get(data);
  if (!m) {
    m = new Map();
    for (const c of data.courses.values())
      for (const e of c.students) {
        const list = m.get(e.userId);
        if (list) list.push(e);
        else m.set(e.userId, [e]);
      }
    userEnrolmentCache.set(data, m);
  }
  return m.get(userId) ?? [];
}

/**
 * The student has already left another course (enrolment ended before that course's end) by the range end: a
 * withdrawal elsewhere is known now and often precedes one here. Not in Moodle (cross-course, as OU Analyse).
 */
const withdrawnElsewhere = binary(
  'withdrawn_elsewhere',
  'Already left another course',
  ['enrolments', 'course'],
  ['enrolment'],
  (ctx, s, r) => {
    if (s.userId === null) return null;
    for (const e of enrolmentsOfUser(ctx.data, s.userId)) {
      if (e.courseId === s.courseId || e.end === null || e.end > r.end) continue;
      const c = ctx.data.courses.get(e.courseId)?.course;
      if (c && c.enddate !== null && e.end < c.enddate) return true;
    }
    return false;
  },
);

/**
 * Share of the student's other courses that had finished by the range end and ended withdrawn or failed
 * (x2 - 1); null when none had finished. Uses only outcomes of courses already over, so nothing from the future.
 */
const earlierCoursesNotPassed = linear(
  'earlier_courses_not_passed',
  'Earlier courses not passed',
  ['enrolments', 'course'],
  ['enrolment'],
  (ctx, s, r) => {
    if (s.userId === null) return null;
    let n = 0;
    let k = 0;
    for (const e of enrolmentsOfUser(ctx.data, s.userId)) {
      if (e.courseId === s.courseId || e.outcome === null) continue;
      const c = ctx.data.courses.get(e.courseId)?.course;
      if (!c || c.enddate === null || c.enddate > r.end) continue;
      n++;
      if (e.outcome === 'withdrawn' || e.outcome === 'fail') k++;
    }
    return n === 0 ? null : share(k / n);
  },
);

/** Any submission at all so far. */
const anySubmission = binary(
  'any_submission',
  'Any submission so far',
  ['submissions'],
  ['enrolment'],
  (ctx, s, r) => subsUntil(ctx, s, r.end).length > 0,
);

/**
 * Days since the student's last sign of activity (log or submission) at the range end, over the 8 weeks
 * that separate a typical assessment cycle: 0 days -> +1 (recent), >= 56 days or never -> -1.
 */
const RECENCY_HORIZON_DAYS = 56;
const daysSinceLastActivity = linear(
  'recent_activity',
  'Recent activity (days since last activity)',
  ['submissions', 'logs', 'enrolments'],
  ['enrolment'],
  (ctx, s, r) => {
    let last = -Infinity;
    for (const x of subsUntil(ctx, s, r.end)) last = Math.max(last, x.submitted);
    const logs = userLogs(ctx, s);
    if (logs) {
      const [, b] = logsBetween(logs, -Infinity, r.end);
      if (b > 0) last = Math.max(last, logs.times[b - 1]!);
    }
    if (s.enrolment?.start != null && s.enrolment.start <= r.end) last = Math.max(last, s.enrolment.start);
    if (last === -Infinity) return -1;
    const days = (r.end - last) / DAY;
    return round2(1 - (2 * Math.min(Math.max(days, 0), RECENCY_HORIZON_DAYS)) / RECENCY_HORIZON_DAYS);
  },
);

/** How long before the course start the student enrolled: 0 or later -> -1, >= 180 days early -> +1. */
const LEAD_HORIZON_DAYS = 180;
const registrationLead = linear(
  'registration_lead',
  'Registration lead time',
  ['enrolments', 'course'],
  ['enrolment'],
  (ctx, s) => {
    const e = s.enrolment;
    if (!e || e.start === null || !ctx.course) return null;
    const days = (ctx.course.course.startdate - e.start) / DAY;
    return round2(-1 + (2 * Math.min(Math.max(days, 0), LEAD_HORIZON_DAYS)) / LEAD_HORIZON_DAYS);
  },
);

/** Enrolled after the course had started. */
const lateRegistration = binary(
  'late_registration',
  'Enrolled after the course start',
  ['enrolments', 'course'],
  ['enrolment'],
  (ctx, s) => {
    const e = s.enrolment;
    if (!e || e.start === null || !ctx.course) return null;
    return e.start > ctx.course.course.startdate;
  },
);

/** Previous attempts at this course: 0 -> -1, 1 -> 0, 2+ -> +1. */
const previousAttempts = linear(
  'previous_attempts',
  'Previous attempts',
  ['enrolments'],
  ['enrolment'],
  (_ctx, s) => (s.enrolment ? classifyValue(s.enrolment.previousAttempts, [0, 1]) : null),
);

/** Credits studied at the same time: 0..240+ -> -1..+1 (240 credits = two full-time years' load at the OU). */
const studiedCredits = linear(
  'studied_credits',
  'Credits studied at the same time',
  ['enrolments'],
  ['enrolment'],
  (_ctx, s) =>
    s.enrolment && s.enrolment.studiedCredits > 0
      ? round2(-1 + (2 * Math.min(s.enrolment.studiedCredits, 240)) / 240)
      : null,
);

/** Ordered profile field mapped onto [-1, 1] by its position in `levels`; unknown values -> null. */
function profileOrdinal(id: string, name: string, field: string, levels: readonly string[]): Indicator {
  const pos = new Map(levels.map((l, i) => [l, i] as const));
  return linear(
    id,
    name,
    ['profile'],
    ['enrolment'],
    (_ctx, s) => {
      const v = s.enrolment?.profile[field];
      const i = v === undefined ? undefined : pos.get(v);
      return i === undefined ? null : round2(-1 + (2 * i) / (levels.length - 1));
    },
    false,
  );
}

const education = profileOrdinal('profile_education', 'Highest previous education', 'highest_education', [
  'No Formal quals',
  'Lower Than A Level',
  'A Level or Equivalent',
  'HE Qualification',
  'Post Graduate Qualification',
]);
const deprivation = profileOrdinal('profile_imd', 'Area deprivation band (IMD)', 'imd_band', [
  '0-10%',
  '10-20%',
  '20-30%',
  '30-40%',
  '40-50%',
  '50-60%',
  '60-70%',
  '70-80%',
  '80-90%',
  '90-100%',
]);
const ageBand = profileOrdinal('profile_age', 'Age band', 'age_band', ['0-35', '35-55', '55<=']);
const disability = binary(
  'profile_disability',
  'Declared disability',
  ['profile'],
  ['enrolment'],
  (_ctx, s) => {
    const v = s.enrolment?.profile['disability'];
    return v === 'Y' ? true : v === 'N' ? false : null;
  },
);

/**
 * Legacy-data indicators (not in Moodle; the OU Analyse approach): among earlier runs of the same course family
 * that had finished by the range end, the share of students still enrolled at the same point of their course who
 * ended with one of `outcomes`. Course-level, so no average column. Null without a finished earlier run, unless
 * `siteFallback`: then every earlier course of the site that had finished by the range end counts instead (a
 * site-wide prior for a course's first run).
 */
const historyCache = new WeakMap<ActivityData, Map<string, number | null>>();
function historyIndicator(
  id: string,
  name: string,
  outcomes: readonly string[],
  siteFallback = false,
): Indicator {
  /** Share (x2 - 1) with one of `outcomes` over earlier, finished courses passing `pick`, at the same fraction of each. */
  const rate = (
    data: ActivityData,
    c: CourseRow,
    fraction: number,
    end: number,
    pick: (o: CourseRow) => boolean,
  ): number | null => {
    let n = 0;
    let k = 0;
    for (const other of data.courses.values()) {
      const o = other.course;
      if (!pick(o) || o.id === c.id || o.enddate === null || o.enddate > end || o.startdate >= c.startdate)
        continue;
      const at = o.startdate + fraction * (o.enddate - o.startdate);
      for (const e of other.students) {
        if (e.outcome === null || (e.end !== null && e.end <= at)) continue;
        n++;
        if (outcomes.includes(e.outcome)) k++;
      }
    }
    return n === 0 ? null : round2(share(k / n));
  };
  return {
    id,
    name,
    kind: 'linear',
    needs: ['course', 'enrolments'],
    sampleKinds: ['enrolment', 'course'],
    includeAverage: false,
    calculate(ctx, _s, r) {
      const c = ctx.course?.course;
      if (!c || c.enddate === null || c.enddate <= c.startdate) return null;
      if (!c.family && !siteFallback) return null;
      const fraction = Math.round(((r.end - c.startdate) / (c.enddate - c.startdate)) * 1000) / 1000;
      let m = historyCache.get(ctx.data);
      if (!m) historyCache.set(ctx.data, (m = new Map()));
      const key = `${id}|${c.id}|${r.end}|${fraction}`;
      const hit = m.get(key);
      if (hit !== undefined) return hit;
      let v = c.family ? rate(ctx.data, c, fraction, r.end, (o) => o.family === c.family) : null;
      if (v === null && siteFallback) v = rate(ctx.data, c, fraction, r.end, () => true);
      m.set(key, v);
      return v;
    },
  };
}
const historyWithdrawn = historyIndicator('history_withdrawn', 'Withdrawals in earlier runs of the course', [
  'withdrawn',
]);
const historyNotPassed = historyIndicator(
  'history_not_passed',
  'Withdrawals or fails in earlier runs of the course',
  ['withdrawn', 'fail'],
);
const priorWithdrawn = historyIndicator(
  'prior_withdrawn',
  'Withdrawals in earlier runs of the course (else in earlier courses of the site)',
  ['withdrawn'],
  true,
);
const priorNotPassed = historyIndicator(
  'prior_not_passed',
  'Withdrawals or fails in earlier runs of the course (else in earlier courses of the site)',
  ['withdrawn', 'fail'],
  true,
);

/**
 * Share of the course's students (enrolled by the range end) whose enrolment had already ended by the range end:
 * how fast this run is losing students, known now and available for a course's first run (not in Moodle).
 * Course-level; cached per course and range end.
 */
const leftCache = new WeakMap<ActivityData, Map<string, number | null>>();
const courseLeftSoFar = linear(
  'course_left_so_far',
  "Share of the course's students who have already left",
  ['enrolments', 'course'],
  ['enrolment', 'course'],
  (ctx, _s, r) => {
    const c = ctx.course;
    if (!c) return null;
    let m = leftCache.get(ctx.data);
    if (!m) leftCache.set(ctx.data, (m = new Map()));
    const key = `${c.course.id}|${r.end}`;
    const hit = m.get(key);
    if (hit !== undefined) return hit;
    let n = 0;
    let k = 0;
    for (const e of c.students) {
      if (e.start !== null && e.start > r.end) continue;
      n++;
      if (e.end !== null && e.end <= r.end) k++;
    }
    const v = n === 0 ? null : round2(share(k / n));
    m.set(key, v);
    return v;
  },
  false,
);

/** Share of the course's assessment weight that falls due in this range (how demanding the period was). */
const dueLoad = linear(
  'course_due_load',
  'Assessment weight due in the range',
  ['activities'],
  ['enrolment', 'course'],
  (ctx, _s, r) => {
    const c = ctx.course;
    if (!c) return null;
    let total = 0;
    let inRange = 0;
    for (const a of c.dueAssessments) {
      total += a.weight;
      if (a.due! > r.start && a.due! <= r.end) inRange += a.weight;
    }
    return total > 0 ? share(inRange / total) : null;
  },
  false,
);

export const COI_MODULES = Object.keys(POTENTIAL_LEVELS);

/** Every built-in indicator. */
export const INDICATORS: readonly Indicator[] = [
  anyAccessAfterEnd,
  anyAccessBeforeStart,
  anyWriteAction,
  anyCourseAccess,
  readActions,
  completionEnabled,
  potentialCognitive,
  potentialSocial,
  noTeacher,
  noStudent,
  activitiesDue,
  ...COI_MODULES.flatMap((m) => [coiIndicator(m, 'cognitive'), coiIndicator(m, 'social')]),
  dueSubmittedShare,
  dueWeightSubmitted,
  onTimeShare,
  meanScore,
  lastScore,
  lateSubmissions,
  submissionEarliness,
  workAhead,
  weightedScoreSoFar,
  relativeScore,
  lastDueSubmitted,
  missedInARow,
  anySubmission,
  scoreTrend,
  firstDueOnTime,
  withdrawnElsewhere,
  earlierCoursesNotPassed,
  daysSinceLastActivity,
  registrationLead,
  lateRegistration,
  previousAttempts,
  studiedCredits,
  education,
  deprivation,
  ageBand,
  disability,
  dueLoad,
  historyWithdrawn,
  historyNotPassed,
  priorWithdrawn,
  priorNotPassed,
  courseLeftSoFar,
];

/** Moodle's default dropout indicator set (`lib/db/analytics.php`), as far as our data model supports it. */
export const MOODLE_DROPOUT_INDICATORS: readonly string[] = [
  'any_access_after_end',
  'any_access_before_start',
  'any_write_action_in_course',
  'read_actions',
  'completion_enabled',
  'potential_cognitive_depth',
  'potential_social_breadth',
  ...COI_MODULES.flatMap((m) => [`cognitive_depth:${m}`, `social_breadth:${m}`]),
];

/** Indicators that need no click logs: the default for OULAD-style data (assessments + registrations). */
export const NO_LOG_INDICATORS: readonly string[] = [
  'due_submitted_share',
  'due_weight_submitted',
  'on_time_share',
  'mean_score',
  'last_score',
  'late_submissions',
  'submission_earliness',
  'work_ahead',
  'weighted_score_so_far',
  'relative_score',
  'any_submission',
  'recent_activity',
  'registration_lead',
  'late_registration',
  'previous_attempts',
  'studied_credits',
  'course_due_load',
];

/** Optional demographic indicators (off by default; a model must opt in explicitly). */
export const PROFILE_INDICATORS: readonly string[] = [
  'profile_education',
  'profile_imd',
  'profile_age',
  'profile_disability',
];

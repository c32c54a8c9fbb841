// Targets: what a model predicts (binary, multiclass or linear), which analysables and samples are valid
// for training and prediction, and which insight actions they offer. Pure: `now` is always passed in.
import type { UnixSeconds } from '../shared/clock.ts';
import { isFinished, logsPerStudent, type Analysable } from './analysers.ts';
import { logsBetween, type ActivityData } from './data.ts';
import type { IndicatorContext, Sample } from './indicators.ts';
import type { TimeRange, TimeSplitting } from './time-splitting.ts';
import type { Outcome } from './types.ts';

export type TargetType = 'binary' | 'multiclass' | 'linear';
export type SuggestedAction =
  'message_student' | 'view_report' | 'view_course' | 'view_participants' | 'view_upcoming';
export type FeedbackAction = 'fixed' | 'notapplicable' | 'incorrectlyflagged' | 'useful' | 'notuseful';

/** Why something is not valid, or true. */
export type Validity = true | string;

export interface Target {
  readonly id: string;
  readonly name: string;
  readonly type: TargetType;
  /** Class values (binary [0, 1]; multiclass 0..k-1); empty for linear targets. */
  readonly classes: readonly number[];
  readonly classLabels: readonly string[];
  /** Static (assumption-based) targets need no training: the label at prediction time is the prediction. */
  readonly isStatic: boolean;
  readonly analyser: string;
  /** Indicators a static target reads (it computes its label from them). */
  readonly requiredIndicators: readonly string[];
  /** Classes that never produce an insight (binary: class 0). */
  readonly ignoredClasses: readonly number[];
  /** Predictions below this confidence are dropped (Moodle PREDICTION_MIN_SCORE). */
  readonly minPredictionScore: number;
  readonly suggestedActions: readonly SuggestedAction[];
  readonly feedbackActions: readonly FeedbackAction[];
  /** One insight per analysable (feedback useful/not useful) rather than per sample. */
  readonly onePerAnalysable: boolean;
  canUseTimeSplitting(ts: TimeSplitting): boolean;
  isValidAnalysable(data: ActivityData, a: Analysable, forTraining: boolean, now: UnixSeconds): Validity;
  /** Per-range sample validity: samples that already ended at the range's prediction time are dropped. */
  isValidSample(
    ctx: IndicatorContext,
    s: Sample,
    a: Analysable,
    forTraining: boolean,
    range: TimeRange,
    now: UnixSeconds,
  ): boolean;
  /** Label; null = skip the sample. `values` are the static target's required indicator values in the range. */
  calculate(
    ctx: IndicatorContext,
    s: Sample,
    a: Analysable,
    range: TimeRange,
    values: ReadonlyMap<string, number | null>,
  ): number | null;
}

/** Moodle `model::PREDICTION_MIN_SCORE`. */
export const PREDICTION_MIN_SCORE = 0.6;
/** Moodle course_enrolments: courses longer than one year plus four weeks are not analysed. */
const MAX_COURSE_SECONDS = (365 + 28) * 86400;
/** Moodle course_enrolments: minimum average log rows per student to train a log-labelled target. */
const MIN_LOGS_PER_STUDENT = 10;
/** Moodle no_recent_accesses `ENROL_ACTIVE_PERCENT_REQUIRED`. */
const ENROL_ACTIVE_PERCENT_REQUIRED = 0.7;

const ML_FEEDBACK: FeedbackAction[] = ['fixed', 'notapplicable', 'incorrectlyflagged'];
const STATIC_FEEDBACK: FeedbackAction[] = ['useful', 'notuseful'];

const BEFORE_NOW_NON_PERIODIC = (ts: TimeSplitting): boolean => ts.family === 'before_now';

/**
 * [ANA-5.1] Course-enrolment analysable rules (`course/classes/analytics/target/course_enrolments.php`):
 * started, has students, has an end >= start, lasts <= 1 year + 4 weeks; training needs a finished course;
 * prediction needs an unfinished, visible one.
 */
function courseEnrolmentsValidity(
  data: ActivityData,
  a: Analysable,
  forTraining: boolean,
  now: UnixSeconds,
  needsLogs: boolean,
): Validity {
  const c = a.course;
  if (!c) return 'not a course';
  if (c.course.startdate > now) return 'course not started';
  if (c.students.length === 0) return 'no students';
  if (c.course.enddate === null) return 'no end date';
  if (c.course.enddate < c.course.startdate) return 'end before start';
  if (c.course.enddate - c.course.startdate > MAX_COURSE_SECONDS) return 'course longer than a year';
  if (forTraining) {
    if (!isFinished(a.span, now)) return 'course not finished';
    if (needsLogs && logsPerStudent(c) < MIN_LOGS_PER_STUDENT) return 'not enough logs per student';
  } else {
    if (isFinished(a.span, now)) return 'course finished';
    if (!c.course.visible) return 'course hidden';
  }
  void data;
  return true;
}

/**
 * [ANA-5.2] Enrolment sample rules (`course_enrolments::is_valid_sample`): not ended before the course start,
 * not started > 1 year + 4 weeks before it, not starting after the course end or in the future.
 * Not in Moodle ([ANA-5.3], honest evaluation): an enrolment that ended at or before the range's prediction
 * time is dropped for that range in training and prediction alike (it would "predict" the past).
 */
function enrolmentSampleValid(ctx: IndicatorContext, s: Sample, range: TimeRange): boolean {
  const e = s.enrolment;
  const c = ctx.course;
  if (!e || !c) return false;
  const cs = c.course.startdate;
  if (e.end !== null && e.end < cs) return false;
  if (e.start !== null && e.start < cs - MAX_COURSE_SECONDS) return false;
  if (e.start !== null && c.course.enddate !== null && e.start > c.course.enddate) return false;
  if (e.start !== null && e.start > range.time) return false;
  if (e.end !== null && e.end <= range.time) return false;
  return true;
}

interface EnrolmentTargetSpec {
  id: string;
  name: string;
  type: TargetType;
  classes: number[];
  classLabels: string[];
  needsLogs: (data: ActivityData, a: Analysable) => boolean;
  label: (ctx: IndicatorContext, s: Sample, a: Analysable) => number | null;
}

function enrolmentTarget(spec: EnrolmentTargetSpec): Target {
  return {
    id: spec.id,
    name: spec.name,
    type: spec.type,
    classes: spec.classes,
    classLabels: spec.classLabels,
    isStatic: false,
    analyser: 'student_enrolments',
    requiredIndicators: [],
    ignoredClasses: spec.type === 'binary' ? [0] : [],
    minPredictionScore: PREDICTION_MIN_SCORE,
    suggestedActions: ['message_student', 'view_report'],
    feedbackActions: ML_FEEDBACK,
    onePerAnalysable: false,
    canUseTimeSplitting: BEFORE_NOW_NON_PERIODIC,
    isValidAnalysable: (data, a, forTraining, now) =>
      courseEnrolmentsValidity(data, a, forTraining, now, spec.needsLogs(data, a)),
    isValidSample: (ctx, s, _a, _t, range) => enrolmentSampleValid(ctx, s, range),
    calculate: (ctx, s, a) => spec.label(ctx, s, a),
  };
}

/** Outcomes known for every student of the course: the label comes from them, logs are not needed. */
const outcomesKnown = (_d: ActivityData, a: Analysable): boolean =>
  (a.course?.students ?? []).every((e) => e.outcome !== null);

/** Moodle's dropout label without completion: no log entries at all in the last quarter of the course. */
function noLogsInLastQuarter(ctx: IndicatorContext, s: Sample): number | null {
  const c = ctx.course;
  if (!c || c.course.enddate === null || s.userId === null) return null;
  const start = c.course.enddate - (c.course.enddate - c.course.startdate) / 4;
  const logs = ctx.data.logsOf(c.course.id, s.userId);
  const [from, to] = logsBetween(logs, start, c.course.enddate);
  return to > from ? 0 : 1;
}

/**
 * [ANA-5.4] Students at risk of dropping out (`course/classes/analytics/target/course_dropout.php`):
 * a known outcome "withdrawn" -> 1; otherwise Moodle's rule (completion enabled: not completed; else no logs
 * in the last quarter).
 */
export const courseDropout = enrolmentTarget({
  id: 'course_dropout',
  name: 'Students at risk of dropping out',
  type: 'binary',
  classes: [0, 1],
  classLabels: ['Not at risk', 'At risk of dropping out'],
  needsLogs: (d, a) => !outcomesKnown(d, a),
  label(ctx, s) {
    const e = s.enrolment;
    if (e?.outcome) return e.outcome === 'withdrawn' ? 1 : 0;
    if (ctx.course?.course.completionEnabled && e?.completed != null) return e.completed ? 0 : 1;
    return noLogsInLastQuarter(ctx, s);
  },
});

/**
 * [ANA-5.5] At risk of not passing (withdrawn or failed). Follows `course_gradetopass.php` when only a final
 * grade and a grade to pass are known.
 */
export const atRisk = enrolmentTarget({
  id: 'at_risk',
  name: 'Students at risk of not passing (withdrawn or failed)',
  type: 'binary',
  classes: [0, 1],
  classLabels: ['Not at risk', 'At risk of not passing'],
  needsLogs: () => false,
  label(ctx, s) {
    const e = s.enrolment;
    if (e?.outcome) return e.outcome === 'withdrawn' || e.outcome === 'fail' ? 1 : 0;
    const pass = ctx.course?.course.gradePass;
    if (e?.finalGrade != null && pass != null) return e.finalGrade < pass ? 1 : 0;
    return null;
  },
});

/** Course completion (`course_completion.php`): not completed -> 1. */
export const courseCompletion = enrolmentTarget({
  id: 'course_completion',
  name: 'Students at risk of not meeting the course completion conditions',
  type: 'binary',
  classes: [0, 1],
  classLabels: ['Completed', 'Not completed'],
  needsLogs: () => false,
  label: (ctx, s) =>
    ctx.course?.course.completionEnabled && s.enrolment?.completed != null
      ? s.enrolment.completed
        ? 0
        : 1
      : null,
});

const OUTCOME_CLASSES: readonly Outcome[] = ['distinction', 'pass', 'fail', 'withdrawn'];

/** [ANA-5.6] Not in Moodle: multiclass final result (distinction, pass, fail, withdrawn). */
export const finalResult = enrolmentTarget({
  id: 'final_result',
  name: 'Final result',
  type: 'multiclass',
  classes: [0, 1, 2, 3],
  classLabels: ['Distinction', 'Pass', 'Fail', 'Withdrawn'],
  needsLogs: () => false,
  label: (_ctx, s) => (s.enrolment?.outcome ? OUTCOME_CLASSES.indexOf(s.enrolment.outcome) : null),
});

/** [ANA-5.7] Not in Moodle: linear final grade (0..1). */
export const finalGrade = enrolmentTarget({
  id: 'final_grade',
  name: 'Final grade',
  type: 'linear',
  classes: [],
  classLabels: [],
  needsLogs: () => false,
  label: (_ctx, s) => s.enrolment?.finalGrade ?? null,
});

interface StaticSpec {
  id: string;
  name: string;
  analyser: string;
  requiredIndicators: string[];
  canUse: (ts: TimeSplitting) => boolean;
  suggested: SuggestedAction[];
  onePerAnalysable: boolean;
  analysableValid?: (a: Analysable, now: UnixSeconds) => Validity;
  sampleValid?: (ctx: IndicatorContext, s: Sample, a: Analysable, r: TimeRange, now: UnixSeconds) => boolean;
  label: (values: ReadonlyMap<string, number | null>) => number | null;
}

function staticTarget(spec: StaticSpec): Target {
  return {
    id: spec.id,
    name: spec.name,
    type: 'binary',
    classes: [0, 1],
    classLabels: ['No', 'Yes'],
    isStatic: true,
    analyser: spec.analyser,
    requiredIndicators: spec.requiredIndicators,
    ignoredClasses: [0],
    minPredictionScore: PREDICTION_MIN_SCORE,
    suggestedActions: spec.suggested,
    feedbackActions: spec.onePerAnalysable ? STATIC_FEEDBACK : ML_FEEDBACK,
    onePerAnalysable: spec.onePerAnalysable,
    canUseTimeSplitting: spec.canUse,
    // Static targets are never trained; they only predict.
    isValidAnalysable: (_d, a, forTraining, now) =>
      forTraining ? 'static targets are not trained' : (spec.analysableValid?.(a, now) ?? true),
    isValidSample: (ctx, s, a, _t, r, now) => spec.sampleValid?.(ctx, s, a, r, now) ?? true,
    calculate: (_ctx, _s, _a, _r, values) => spec.label(values),
  };
}

const WEEK = 7 * 86400;

/**
 * [ANA-5.8] No teaching (`course/classes/analytics/target/no_teaching.php`): a course starting within a week
 * either way has no teacher or no student.
 */
export const noTeaching = staticTarget({
  id: 'no_teaching',
  name: 'No teaching',
  analyser: 'site_courses',
  requiredIndicators: ['no_teacher', 'no_student'],
  canUse: (ts) => ts.id === 'single_range',
  suggested: ['view_course', 'view_participants'],
  onePerAnalysable: true,
  sampleValid: (ctx, _s, _a, _r, now) => {
    const c = ctx.course?.course;
    if (!c) return false;
    if (c.enddate !== null && c.enddate <= now) return false;
    return Math.abs(c.startdate - now) <= WEEK;
  },
  label: (v) => (v.get('no_teacher') === -1 || v.get('no_student') === -1 ? 1 : 0),
});

/** [ANA-5.9] Not a separate Moodle target: a course with teachers but no students. */
export const noStudents = staticTarget({
  id: 'no_students',
  name: 'No students',
  analyser: 'site_courses',
  requiredIndicators: ['no_student'],
  canUse: (ts) => ts.id === 'single_range',
  suggested: ['view_course', 'view_participants'],
  onePerAnalysable: true,
  label: (v) => (v.get('no_student') === -1 ? 1 : 0),
});

/** [ANA-5.10] Upcoming activities due (`user/classes/analytics/target/upcoming_activities_due.php`). */
export const upcomingActivitiesDue = staticTarget({
  id: 'upcoming_activities_due',
  name: 'Upcoming activities due',
  analyser: 'users',
  requiredIndicators: ['activities_due'],
  canUse: (ts) => ts.family === 'after_now',
  suggested: ['view_upcoming'],
  onePerAnalysable: true,
  label: (v) => (v.get('activities_due') === 1 ? 1 : 0),
});

/** Moodle no_recent_accesses: the enrolment must cover >= 70 % of the range. */
function activeEnoughInRange(ctx: IndicatorContext, s: Sample, r: TimeRange): boolean {
  const e = s.enrolment;
  if (!e || !ctx.course) return false;
  const from = Math.max(r.start, e.start ?? r.start);
  const to = Math.min(r.end, e.end ?? r.end);
  const len = r.end - r.start;
  return len > 0 && (to - from) / len >= ENROL_ACTIVE_PERCENT_REQUIRED;
}

function notFinishedCourse(a: Analysable, now: UnixSeconds): Validity {
  if (!a.course) return 'not a course';
  if (a.course.course.startdate > now) return 'course not started';
  if (a.course.students.length === 0) return 'no students';
  if (isFinished(a.span, now)) return 'course finished';
  return true;
}

/** [ANA-5.11] No recent accesses (`course/classes/analytics/target/no_recent_accesses.php`). */
export const noRecentAccesses = staticTarget({
  id: 'no_recent_accesses',
  name: 'No recent accesses',
  analyser: 'student_enrolments',
  requiredIndicators: ['any_course_access'],
  canUse: (ts) => ts.id.startsWith('past_'),
  suggested: ['message_student', 'view_report'],
  onePerAnalysable: false,
  analysableValid: notFinishedCourse,
  sampleValid: (ctx, s, _a, r) => activeEnoughInRange(ctx, s, r),
  label: (v) => (v.get('any_course_access') === -1 ? 1 : 0),
});

/** [ANA-5.12] No access since course start (`no_access_since_course_start.php`). */
export const noAccessSinceStart = staticTarget({
  id: 'no_access_since_course_start',
  name: 'No accesses since the start of the course',
  analyser: 'student_enrolments',
  requiredIndicators: ['any_course_access'],
  canUse: (ts) => ts.id.endsWith('_after_start'),
  suggested: ['message_student', 'view_report'],
  onePerAnalysable: false,
  analysableValid: notFinishedCourse,
  sampleValid: (ctx, s, _a, r) => activeEnoughInRange(ctx, s, r),
  label: (v) => (v.get('any_course_access') === -1 ? 1 : 0),
});

export const TARGETS: readonly Target[] = [
  courseDropout,
  atRisk,
  courseCompletion,
  finalResult,
  finalGrade,
  noTeaching,
  noStudents,
  upcomingActivitiesDue,
  noRecentAccesses,
  noAccessSinceStart,
];

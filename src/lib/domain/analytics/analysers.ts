// Analysers: enumerate analysables (courses or the site) and the samples inside them (student enrolments,
// courses, users). Pure: works on ActivityData; never reads storage or the clock.
import type { UnixSeconds } from '../shared/clock.ts';
import type { ActivityData, CourseIndex } from './data.ts';
import type { Sample, SampleKind } from './indicators.ts';
import type { AnalysableSpan } from './time-splitting.ts';

export interface Analysable {
  readonly id: string;
  readonly name: string;
  readonly span: AnalysableSpan;
  /** The course behind a course analysable; null for the site. */
  readonly course: CourseIndex | null;
}

export interface Analyser {
  readonly id: string;
  readonly name: string;
  readonly sampleKind: SampleKind;
  analysables(data: ActivityData): Analysable[];
  samples(data: ActivityData, analysable: Analysable): Sample[];
}

export const SITE_ID = 'site';

function courseAnalysable(c: CourseIndex): Analysable {
  return {
    id: c.course.id,
    name: c.course.fullname,
    span: { start: c.course.startdate, end: c.course.enddate },
    course: c,
  };
}

/** The site spans from the earliest course start to the latest course end (Moodle `\core_analytics\site`). */
function siteAnalysable(data: ActivityData): Analysable {
  let start: number | null = null;
  let end: number | null = null;
  for (const c of data.courses.values()) {
    if (start === null || c.course.startdate < start) start = c.course.startdate;
    if (c.course.enddate !== null && (end === null || c.course.enddate > end)) end = c.course.enddate;
  }
  return { id: SITE_ID, name: 'Site', span: { start, end }, course: null };
}

/** [ANA-2.1] Course-student enrolments (`lib/classes/analytics/analyser/student_enrolments.php`). */
export const studentEnrolments: Analyser = {
  id: 'student_enrolments',
  name: 'Student enrolments',
  sampleKind: 'enrolment',
  analysables: (data) => [...data.courses.values()].map(courseAnalysable),
  samples: (_data, a) =>
    (a.course?.students ?? []).map((e) => ({
      id: e.id,
      kind: 'enrolment' as const,
      analysableId: a.id,
      courseId: e.courseId,
      userId: e.userId,
      enrolment: e,
    })),
};

/** [ANA-2.2] Site courses (`lib/classes/analytics/analyser/site_courses.php`): one sample per course. */
export const siteCourses: Analyser = {
  id: 'site_courses',
  name: 'Courses',
  sampleKind: 'course',
  analysables: (data) => [siteAnalysable(data)],
  samples: (data) =>
    [...data.courses.values()].map((c) => ({
      id: c.course.id,
      kind: 'course' as const,
      analysableId: SITE_ID,
      courseId: c.course.id,
      userId: null,
      enrolment: null,
    })),
};

/** [ANA-2.3] Users (`lib/classes/analytics/analyser/users.php`): one sample per user. */
export const users: Analyser = {
  id: 'users',
  name: 'Users',
  sampleKind: 'user',
  analysables: (data) => [siteAnalysable(data)],
  samples: (data) =>
    [...data.users.values()].map((u) => ({
      id: u.id,
      kind: 'user' as const,
      analysableId: SITE_ID,
      courseId: null,
      userId: u.id,
      enrolment: null,
    })),
};

export const ANALYSERS: readonly Analyser[] = [studentEnrolments, siteCourses, users];

/** Course-level context for a sample: its own course for course samples, else the analysable's course. */
export function courseOf(data: ActivityData, analysable: Analysable, sample: Sample): CourseIndex | null {
  if (analysable.course) return analysable.course;
  return sample.courseId !== null ? (data.courses.get(sample.courseId) ?? null) : null;
}

/** Average log rows per student between course start and end (Moodle's training rule uses >= 10). */
export function logsPerStudent(c: CourseIndex): number {
  if (c.students.length === 0) return 0;
  const s = c.course.startdate;
  const e = c.course.enddate ?? Infinity;
  let n = 0;
  for (let i = 0; i < c.logTimes.length; i++) {
    const t = c.logTimes[i]!;
    if (t >= s && t <= e) n++;
  }
  return n / c.students.length;
}

export const isFinished = (span: AnalysableSpan, now: UnixSeconds): boolean =>
  span.end !== null && span.end <= now;

// Indicators on hand-built courses: Moodle's read_actions buckets, write/access checks, CoI levels, no-log indicators.
import { describe, expect, it } from 'vitest';
import { buildActivityData } from './data.ts';
import { INDICATORS, checkValue, classifyValue, type Indicator, type Sample } from './indicators.ts';
import type { ActivityRow, CourseRow, EnrolmentRow, LogEventRow, SubmissionRow } from './types.ts';
import type { TimeRange } from './time-splitting.ts';
import { syntheticWorld } from '../../../../test/fixtures/analytics/synthetic-world.ts';
import { studentEnrolments } from './analysers.ts';

const DAY = 86400;
const WEEK = 7 * DAY;
const ind = (id: string): Indicator => INDICATORS.find((i) => i.id === id)!;

const course: CourseRow = {
  id: 'c',
  shortname: 'C',
  fullname: 'C',
  startdate: 0,
  enddate: 10 * WEEK,
  visible: true,
  format: 'weeks',
  completionEnabled: false,
  gradePass: null,
  source: 'test',
};
const enrol = (userId: string, over: Partial<EnrolmentRow> = {}): EnrolmentRow => ({
  id: `c:${userId}`,
  courseId: 'c',
  userId,
  role: 'student',
  start: -10 * DAY,
  end: null,
  previousAttempts: 0,
  studiedCredits: 60,
  outcome: null,
  finalGrade: null,
  completed: null,
  profile: {},
  ...over,
});
const act = (id: string, modname: string, due: number | null, weight = 25): ActivityRow => ({
  id,
  courseId: 'c',
  modname,
  name: id,
  visible: true,
  due,
  weight,
  isExam: false,
  section: null,
});
let seq = 0;
const log = (
  userId: string,
  time: number,
  crud: 'c' | 'r' | 'u' = 'r',
  activityId: string | null = null,
): LogEventRow => ({
  seq: seq++,
  userId,
  courseId: 'c',
  activityId,
  eventName: 'e',
  action: 'viewed',
  crud,
  eduLevel: 'participating',
  time,
});
const sub = (userId: string, activityId: string, submitted: number, score: number | null): SubmissionRow => ({
  id: `${activityId}:${userId}:${submitted}`,
  courseId: 'c',
  activityId,
  userId,
  submitted,
  score,
  banked: false,
});

function world(logs: LogEventRow[], subs: SubmissionRow[] = [], enrols = [enrol('a'), enrol('b')]) {
  const data = buildActivityData({
    courses: [course],
    activities: [act('q1', 'quiz', 2 * WEEK), act('q2', 'assign', 4 * WEEK), act('q3', 'assign', 8 * WEEK)],
    logs,
    submissions: subs,
    enrolments: enrols,
    users: [],
  });
  const ctx = { data, course: data.courses.get('c')! };
  const sample = (u: string): Sample => ({
    id: `c:${u}`,
    kind: 'enrolment',
    analysableId: 'c',
    courseId: 'c',
    userId: u,
    enrolment: data.enrolment(`c:${u}`)!,
  });
  return { ctx, sample };
}

const range = (start: number, end: number): TimeRange => ({ index: 0, start, end, time: end });

describe('indicators', () => {
  it('[ANA-4] a value outside [-1, 1] is an error, null is allowed', () => {
    expect(() => checkValue('x', 1.5)).toThrow(/outside/);
    expect(checkValue('x', null)).toBeNull();
  });

  it('[ANA-4] classify_value spreads buckets evenly over [-1, 1]', () => {
    expect(classifyValue(0, [0, 1])).toBe(-1);
    expect(classifyValue(1, [0, 1])).toBe(0);
    expect(classifyValue(5, [0, 1])).toBe(1);
    expect(classifyValue(2, [1, 3, 30])).toBe(-0.33);
  });

  it('[ANA-4] read_actions: none -> -1, <= 3/week -> -0.33, <= 30/week -> 0.33, more -> 1', () => {
    // Range of 2 weeks: limits 6 and 60 reads.
    const r = range(0, 2 * WEEK);
    const reads = (n: number) => Array.from({ length: n }, (_, i) => log('a', 1 + i));
    const v = (n: number) => {
      const { ctx, sample } = world(reads(n));
      return ind('read_actions').calculate(ctx, sample('a'), r);
    };
    expect(v(0)).toBe(-1);
    expect(v(6)).toBe(-0.33);
    expect(v(7)).toBe(0.33);
    expect(v(60)).toBe(0.33);
    expect(v(61)).toBe(1);
  });

  it('[ANA-4] any_write_action counts only create/update logs within (start, end]', () => {
    const { ctx, sample } = world([log('a', 100, 'r'), log('a', 200, 'c'), log('b', 50, 'u')]);
    const w = ind('any_write_action_in_course');
    expect(w.calculate(ctx, sample('a'), range(0, 300))).toBe(1);
    expect(w.calculate(ctx, sample('a'), range(200, 300))).toBe(-1); // start is exclusive
    expect(w.calculate(ctx, sample('b'), range(50, 300))).toBe(-1);
    expect(ind('any_course_access').calculate(ctx, sample('a'), range(0, 99))).toBe(-1);
  });

  it('[ANA-4] any access before start / after end', () => {
    const { ctx, sample } = world([log('a', -5), log('b', 11 * WEEK)]);
    expect(ind('any_access_before_start').calculate(ctx, sample('a'), range(0, 1))).toBe(1);
    expect(ind('any_access_before_start').calculate(ctx, sample('b'), range(0, 1))).toBe(-1);
    expect(ind('any_access_after_end').calculate(ctx, sample('b'), range(0, 1))).toBe(1);
  });

  it('[ANA-4] cognitive depth: null without due activities; -1 untouched; +1 at full potential', () => {
    const r = range(0, 3 * WEEK); // only q1 (quiz, potential 5) is due
    const cd = ind('cognitive_depth:quiz');
    const none = world([]);
    expect(ind('cognitive_depth:forum').calculate(none.ctx, none.sample('a'), r)).toBeNull();
    expect(cd.calculate(none.ctx, none.sample('a'), r)).toBe(-1);
    // Viewed only: level 1 of 5 -> -1 + 2/5.
    const viewed = world([log('a', 10, 'r', 'q1')]);
    expect(cd.calculate(viewed.ctx, viewed.sample('a'), r)).toBeCloseTo(-0.6, 10);
    // Submitted twice: level 5 -> +1.
    const resub = world([], [sub('a', 'q1', 100, 0.5), sub('a', 'q1', 200, 0.9)]);
    expect(cd.calculate(resub.ctx, resub.sample('a'), r)).toBe(1);
  });

  it('[ANA-4] share of due assessments submitted and on time', () => {
    const { ctx, sample } = world(
      [],
      [sub('a', 'q1', 2 * WEEK - 1, 0.8), sub('a', 'q2', 4 * WEEK + DAY, 0.6)],
    );
    const r = range(0, 5 * WEEK); // q1 and q2 due
    expect(ind('due_submitted_share').calculate(ctx, sample('a'), r)).toBe(1);
    expect(ind('on_time_share').calculate(ctx, sample('a'), r)).toBe(0); // 1 of 2 on time -> 0.5 -> 0
    expect(ind('due_submitted_share').calculate(ctx, sample('b'), r)).toBe(-1);
    expect(ind('late_submissions').calculate(ctx, sample('a'), r)).toBe(0); // one late -> middle bucket
    expect(ind('mean_score').calculate(ctx, sample('a'), r)).toBeCloseTo(0.4, 10); // 0.7 -> 0.4
    expect(ind('due_submitted_share').calculate(ctx, sample('a'), range(0, WEEK))).toBeNull();
  });

  it('[ANA-4] latest due assessment submitted, and missed in a row', () => {
    const { ctx, sample } = world([], [sub('a', 'q1', WEEK, 0.8)]);
    const r = range(0, 5 * WEEK); // q1, q2 due; a handed in q1 only, b nothing
    expect(ind('last_due_submitted').calculate(ctx, sample('a'), r)).toBe(-1);
    expect(ind('missed_in_a_row').calculate(ctx, sample('a'), r)).toBe(0);
    expect(ind('missed_in_a_row').calculate(ctx, sample('b'), r)).toBe(1);
    expect(ind('last_due_submitted').calculate(ctx, sample('a'), range(0, 3 * WEEK))).toBe(1);
  });

  it('[ANA-4] score trend and first assessment on time', () => {
    const { ctx, sample } = world(
      [],
      [sub('a', 'q1', 2 * WEEK + DAY, 0.9), sub('a', 'q2', 4 * WEEK - DAY, 0.5), sub('b', 'q1', WEEK, 0.4)],
    );
    const r = range(0, 5 * WEEK);
    // a: latest 0.5 against an earlier mean of 0.9 -> 2 * (0.5 - 0.9) = -0.8; b has one mark only.
    expect(ind('score_trend').calculate(ctx, sample('a'), r)).toBeCloseTo(-0.8, 10);
    expect(ind('score_trend').calculate(ctx, sample('b'), r)).toBeNull();
    // q1 was due at week 2: a handed it in a day late, b a week early.
    expect(ind('first_due_on_time').calculate(ctx, sample('a'), r)).toBe(-1);
    expect(ind('first_due_on_time').calculate(ctx, sample('b'), r)).toBe(1);
    // Before anything is due the indicator does not apply.
    expect(ind('first_due_on_time').calculate(ctx, sample('b'), range(0, WEEK))).toBeNull();
  });

  it('[ANA-4] other courses: a withdrawal elsewhere counts once it has happened; outcomes only of finished courses', () => {
    const mk = (id: string, start: number): CourseRow => ({
      ...course,
      id,
      startdate: start,
      enddate: start + 10 * WEEK,
    });
    const e = (
      cid: string,
      u: string,
      outcome: EnrolmentRow['outcome'],
      end: number | null = null,
    ): EnrolmentRow => ({
      ...enrol(u),
      id: `${cid}:${u}`,
      courseId: cid,
      outcome,
      end,
    });
    const data = buildActivityData({
      courses: [mk('early', -20 * WEEK), mk('side', 0), mk('here', 0)],
      activities: [],
      logs: [],
      submissions: [],
      enrolments: [
        e('early', 's', 'fail'),
        e('side', 's', 'withdrawn', 3 * WEEK),
        e('here', 's', null),
        e('here', 't', null),
        e('side', 't', 'pass'),
      ],
      users: [],
    });
    const ctx = { data, course: data.courses.get('here')! };
    const smp = (u: string): Sample => ({
      id: `here:${u}`,
      kind: 'enrolment',
      analysableId: 'here',
      courseId: 'here',
      userId: u,
      enrolment: data.enrolment(`here:${u}`)!,
    });
    const w = ind('withdrawn_elsewhere');
    expect(w.calculate(ctx, smp('s'), range(0, 2 * WEEK))).toBe(-1); // not left yet at week 2
    expect(w.calculate(ctx, smp('s'), range(0, 4 * WEEK))).toBe(1);
    expect(w.calculate(ctx, smp('t'), range(0, 4 * WEEK))).toBe(-1);
    const np = ind('earlier_courses_not_passed');
    // "early" (failed) has finished; "side" is still running, so its outcome is not yet known.
    expect(np.calculate(ctx, smp('s'), range(0, 4 * WEEK))).toBe(1);
    expect(np.calculate(ctx, smp('t'), range(0, 4 * WEEK))).toBeNull();
  });

  it('[ANA-4] history indicators read only earlier, finished runs of the same course family', () => {
    const mk = (id: string, start: number, family: string): CourseRow => ({
      ...course,
      id,
      startdate: start,
      enddate: start + 10 * WEEK,
      family,
    });
    const e = (
      cid: string,
      u: string,
      outcome: EnrolmentRow['outcome'],
      end: number | null = null,
    ): EnrolmentRow => ({ ...enrol(u), id: `${cid}:${u}`, courseId: cid, outcome, end });
    const data = buildActivityData({
      courses: [
        mk('old', 0, 'F'),
        mk('other', 0, 'G'),
        mk('now', 20 * WEEK, 'F'),
        mk('future', 40 * WEEK, 'F'),
      ],
      activities: [],
      logs: [],
      submissions: [],
      // In "old": one withdrew before 30 % (not counted at 30 %), one withdrew later, two passed -> 1 of 3.
      enrolments: [
        e('old', 'a', 'withdrawn', WEEK),
        e('old', 'b', 'withdrawn', 8 * WEEK),
        e('old', 'c', 'pass'),
        e('old', 'd', 'pass'),
        e('other', 'x', 'withdrawn'),
        e('now', 's', null),
        e('future', 'z', 'withdrawn'),
      ],
      users: [],
    });
    const s: Sample = {
      id: 'now:s',
      kind: 'enrolment',
      analysableId: 'now',
      courseId: 'now',
      userId: 's',
      enrolment: data.enrolment('now:s')!,
    };
    const h = ind('history_withdrawn');
    expect(
      h.calculate({ data, course: data.courses.get('now')! }, s, range(20 * WEEK, 23 * WEEK)),
    ).toBeCloseTo(2 / 3 - 1, 2);
    // The first run of a family has no history.
    const f: Sample = { ...s, id: 'old:c', analysableId: 'old', courseId: 'old' };
    expect(h.calculate({ data, course: data.courses.get('old')! }, f, range(0, 3 * WEEK))).toBeNull();
  });

  it('[ANA-4] prior indicators: the family history first, else every earlier finished course of the site', () => {
    const mk = (id: string, start: number, family: string): CourseRow => ({
      ...course,
      id,
      startdate: start,
      enddate: start + 10 * WEEK,
      family,
    });
    const e = (
      cid: string,
      u: string,
      outcome: EnrolmentRow['outcome'],
      end: number | null = null,
    ): EnrolmentRow => ({ ...enrol(u), id: `${cid}:${u}`, courseId: cid, outcome, end });
    const data = buildActivityData({
      courses: [
        mk('old', 0, 'F'),
        mk('other', 0, 'G'),
        mk('mid', 15 * WEEK, 'K'),
        mk('now', 20 * WEEK, 'F'),
        mk('lone', 20 * WEEK, 'H'),
      ],
      activities: [],
      logs: [],
      submissions: [],
      enrolments: [
        e('old', 'a', 'withdrawn', WEEK),
        e('old', 'b', 'withdrawn', 8 * WEEK),
        e('old', 'c', 'fail'),
        e('old', 'd', 'pass'),
        e('other', 'x', 'withdrawn'),
        e('mid', 'm', 'withdrawn'),
        e('now', 's', null),
        e('lone', 't', null),
      ],
      users: [],
    });
    const at = (cid: string, u: string) => ({
      ctx: { data, course: data.courses.get(cid)! },
      s: {
        id: `${cid}:${u}`,
        kind: 'enrolment',
        analysableId: cid,
        courseId: cid,
        userId: u,
        enrolment: data.enrolment(`${cid}:${u}`)!,
      } satisfies Sample,
    });
    // At 30 % (week 3 of 10): in "old", a had left (not counted); b withdrew later, c failed, d passed.
    const now = at('now', 's');
    const w = ind('prior_withdrawn');
    const np = ind('prior_not_passed');
    // Family F: 1 withdrawn of 3 -> 2 * 1/3 - 1; withdrawn or failed: 2 of 3 -> 2 * 2/3 - 1.
    expect(w.calculate(now.ctx, now.s, range(20 * WEEK, 23 * WEEK))).toBeCloseTo(-0.33, 2);
    expect(np.calculate(now.ctx, now.s, range(20 * WEEK, 23 * WEEK))).toBeCloseTo(0.33, 2);
    // Family H has no earlier run: every earlier course finished by the range end counts ("old" 1 of 3, "other" 1
    // of 1 -> 2 of 4); "mid" (ends week 25) is still running at week 23, so its outcomes are not known yet.
    const lone = at('lone', 't');
    expect(w.calculate(lone.ctx, lone.s, range(20 * WEEK, 23 * WEEK))).toBe(0);
    expect(ind('history_withdrawn').calculate(lone.ctx, lone.s, range(20 * WEEK, 23 * WEEK))).toBeNull();
    // The first courses of the site have nothing earlier at all.
    const first = at('old', 'c');
    expect(w.calculate(first.ctx, first.s, range(0, 3 * WEEK))).toBeNull();
    // At 60 % (week 26) "mid" has finished and counts: "old" 1 of 3 (a left by week 6), "other" 1 of 1, "mid" 1 of 1.
    expect(w.calculate(lone.ctx, lone.s, range(20 * WEEK, 26 * WEEK))).toBeCloseTo(0.2, 2);
  });

  it("[ANA-4] share of the course's students who have already left, counting only those enrolled by then", () => {
    const enrols = [
      enrol('a'),
      enrol('b', { end: 2 * WEEK }),
      enrol('c', { start: 5 * WEEK }),
      enrol('d', { end: 6 * WEEK }),
    ];
    const { ctx, sample } = world([], [], enrols);
    const left = ind('course_left_so_far');
    // Week 4: a, b, d enrolled (c not yet); b has left -> 1 of 3 -> 2/3 - 1.
    expect(left.calculate(ctx, sample('a'), range(0, 4 * WEEK))).toBeCloseTo(-0.33, 2);
    // Week 7: all four enrolled; b and d have left -> 2 of 4 -> 0; the same for every student of the course.
    expect(left.calculate(ctx, sample('c'), range(0, 7 * WEEK))).toBe(0);
    expect(left.calculate(ctx, sample('a'), range(0, 7 * WEEK))).toBe(0);
  });

  it('[ANA-4] recent activity decays over eight weeks of silence', () => {
    const { ctx, sample } = world(
      [log('a', 10 * DAY)],
      [],
      [enrol('a', { start: 0 }), enrol('b', { start: 0 })],
    );
    expect(ind('recent_activity').calculate(ctx, sample('a'), range(0, 10 * DAY))).toBe(1);
    expect(ind('recent_activity').calculate(ctx, sample('a'), range(0, 38 * DAY))).toBe(0);
    expect(ind('recent_activity').calculate(ctx, sample('b'), range(0, 56 * DAY))).toBe(-1);
  });

  it('[ANA-4] every built-in stays inside [-1, 1] on a synthetic school', () => {
    const rows = syntheticWorld({ courses: 2, studentsPerCourse: 30 });
    const data = buildActivityData(rows);
    for (const a of studentEnrolments.analysables(data)) {
      for (const s of studentEnrolments.samples(data, a)) {
        for (const i of INDICATORS) {
          if (!i.sampleKinds.includes('enrolment')) continue;
          const v = i.calculate(
            { data, course: a.course },
            s,
            range(a.span.start!, a.span.start! + 6 * WEEK),
          );
          expect(checkValue(i.id, v)).toBe(v);
        }
      }
    }
  });
});

// Tests of site row changes -> realtime events (COH-P10), and that the engine acting on them keeps memberships right.
// Pure: no clock, no I/O.
import { describe, expect, it } from 'vitest';
import { CohortEngine } from './engine.ts';
import { parseRules } from './rule.ts';
import { diffSites, rowEvents, siteEvents } from './site-events.ts';
import { makeSite, u } from './test-helpers.ts';
import type { SiteDocument } from '../interchange/site-json.ts';

const base = (): SiteDocument =>
  makeSite({
    users: [u('1', { department: 'Maths', lastaccess: 100 }), u('2'), u('3')],
    courses: [{ id: 'c1', fullname: 'C1' }],
    enrolments: [{ userId: '2', courseId: 'c1', method: 'manual' }],
    cohorts: [{ id: 'co', name: 'co', members: ['3'] }],
  });

function clone(s: SiteDocument): SiteDocument {
  return JSON.parse(JSON.stringify(s)) as SiteDocument;
}

describe('site events', () => {
  it('[COH-P10] a user row: created, profile edit, login only, deletion flag and removal', () => {
    const before = base().users[0]! as unknown as Record<string, unknown>;
    expect(rowEvents({ collection: 'users', before: undefined, after: before })).toEqual([
      { type: 'user_created', user: before },
    ]);
    const edited = { ...before, department: 'Physics' };
    expect(rowEvents({ collection: 'users', before, after: edited })).toEqual([
      { type: 'user_updated', user: edited },
    ]);
    const login = { ...before, lastaccess: 500, lastlogin: 400 };
    expect(rowEvents({ collection: 'users', before, after: login })).toEqual([
      { type: 'user_loggedin', userId: '1', time: 500 },
    ]);
    expect(rowEvents({ collection: 'users', before, after: { ...before, deleted: 1 } })).toEqual([
      { type: 'user_deleted', userId: '1' },
    ]);
    expect(rowEvents({ collection: 'users', before, after: undefined })).toEqual([
      { type: 'user_deleted', userId: '1' },
    ]);
    expect(rowEvents({ collection: 'users', before, after: { ...before } })).toEqual([]);
  });

  it('[COH-P10] enrolments, roles, completions, members and quiz grades map to their events; other collections give none', () => {
    const e = { userId: '2', courseId: 'c1', method: 'manual', active: 1, instanceEnabled: 1 };
    expect(siteEvents([{ collection: 'enrolments', before: undefined, after: e }])[0]!.type).toBe(
      'user_enrolment_created',
    );
    expect(siteEvents([{ collection: 'enrolments', before: e, after: { ...e, active: 0 } }])[0]!.type).toBe(
      'user_enrolment_updated',
    );
    expect(siteEvents([{ collection: 'enrolments', before: e, after: undefined }])).toEqual([
      { type: 'user_enrolment_deleted', userId: '2', courseId: 'c1', method: 'manual' },
    ]);
    const r = { userId: '2', role: 'student', contextLevel: 'course', contextId: 'c1' };
    expect(siteEvents([{ collection: 'roles', before: r, after: undefined }])).toEqual([
      { type: 'role_unassigned', assignment: r },
    ]);
    const c = { userId: '2', courseId: 'c1', timecompleted: 9 };
    expect(siteEvents([{ collection: 'completions', before: c, after: undefined }])).toEqual([
      { type: 'course_completion_updated', completion: { userId: '2', courseId: 'c1', timecompleted: null } },
    ]);
    expect(
      siteEvents([
        { collection: 'cohortMembers', before: { cohortId: 'co', userId: '3' }, after: undefined },
      ]),
    ).toEqual([{ type: 'cohort_member_removed', cohortId: 'co', userId: '3' }]);
    expect(
      siteEvents([
        { collection: 'quizGrades', before: undefined, after: { quizId: 'q', userId: '2', grade: 5 } },
      ]),
    ).toEqual([{ type: 'quiz_graded', grade: { quizId: 'q', userId: '2', grade: 5 } }]);
    expect(siteEvents([{ collection: 'courses', before: undefined, after: { id: 'c2' } }])).toEqual([]);
  });

  it('[COH-P10] diffSites lists the events between two snapshots', () => {
    const a = base();
    const b = clone(a);
    b.users[0]!.department = 'Physics';
    b.enrolments = [];
    b.cohorts[0]!.members = ['1'];
    expect(diffSites(a, b).map((e) => e.type)).toEqual([
      'user_updated',
      'user_enrolment_deleted',
      'cohort_member_added',
      'cohort_member_removed',
    ]);
    expect(diffSites(a, clone(a))).toEqual([]);
  });

  it('[COH-P10][COH-P5] an engine over the new snapshot fed the diff events gives the same members as processing', async () => {
    const a = base();
    const rules = parseRules([
      {
        id: 'r',
        operator: 'AND',
        cohortId: 'co',
        enabled: true,
        conditions: [{ type: 'user_profile', field: 'department', operator: 'equals', value: 'Physics' }],
      },
    ]);
    // start consistent: nobody in Physics, so the cohort is empty
    a.cohorts[0]!.members = [];
    const b = clone(a);
    b.users[0]!.department = 'Physics';
    b.users[1]!.department = 'Physics';
    const engine = new CohortEngine(b, rules);
    const changes = diffSites(a, b).flatMap((e) => engine.handleEvent(e, 1000).changes);
    expect(changes.map((c) => [c.userId, c.action])).toEqual([
      ['1', 'added'],
      ['2', 'added'],
    ]);
    const full = await new CohortEngine(b, rules).process({ now: 1000 });
    expect(full.changes[0]!.added).toEqual(['1', '2']);
  });
});

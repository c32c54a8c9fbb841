// Turns changes of site rows (one row before and after, per collection) into the SiteEvents the realtime engine
// handles (COH-P10). Pure: no clock, no I/O; never reads or changes the site, only the rows it is given.

import type {
  RoleAssignment,
  SiteCompletion,
  SiteDocument,
  SiteEnrolment,
  SiteQuizGrade,
  SiteUser,
} from '../interchange/site-json.ts';
import type { SiteEvent } from './engine.ts';

/** Collections whose row changes become events; any other collection (courses, rules, log ...) is not an event. */
export const EVENT_COLLECTIONS = [
  'users',
  'enrolments',
  'roles',
  'completions',
  'cohortMembers',
  'quizGrades',
] as const;
export type EventCollection = (typeof EVENT_COLLECTIONS)[number];

/** One row of a collection as it was (`before`) and is (`after`); undefined = absent. */
export interface SiteRowChange {
  collection: string;
  before: Record<string, unknown> | undefined;
  after: Record<string, unknown> | undefined;
}

/**
 * User fields whose change alone is a login, not a profile edit: the fields Moodle's update_user_login_times
 * (lib/moodlelib.php) writes when a user signs in. Deviation: Moodle's periodic lastaccess update
 * (user_accesstime_log) fires no event; here a lastaccess move is a login, since user_last_login reads lastaccess.
 */
const LOGIN_FIELDS = new Set(['lastlogin', 'lastaccess', 'currentlogin', 'firstaccess', 'lastip']);

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Events for one row change, named after Moodle's core event classes (lib/classes/event/user_created.php,
 * user_updated.php, user_deleted.php, user_loggedin.php, user_enrolment_*.php, role_assigned.php,
 * role_unassigned.php, course_completed.php, course_completion_updated.php, cohort_member_added.php,
 * cohort_member_removed.php; quiz_graded is mod/quiz's attempt-graded event). A user row: created / deleted (the
 * `deleted` flag set, or the row removed) / logged in (only login times moved forward) / updated. Enrolments,
 * roles, completions, cohort members and quiz grades map to their create/update/delete events. A quiz grade
 * removed has no realtime event (left to processing). Unchanged rows give nothing.
 */
export function rowEvents(change: SiteRowChange): SiteEvent[] {
  const { before, after } = change;
  if (before === undefined && after === undefined) return [];
  if (before !== undefined && after !== undefined && sameJson(before, after)) return [];
  switch (change.collection) {
    case 'users': {
      if (after === undefined) return [{ type: 'user_deleted', userId: String(before!['id']) }];
      const user = after as unknown as SiteUser;
      if (before === undefined) return [{ type: 'user_created', user }];
      if (user.deleted === 1 && before['deleted'] !== 1) return [{ type: 'user_deleted', userId: user.id }];
      const changed = Object.keys({ ...before, ...after }).filter((k) => !sameJson(before[k], after[k]));
      if (changed.every((k) => LOGIN_FIELDS.has(k)) && user.lastaccess > Number(before['lastaccess'] ?? 0))
        return [{ type: 'user_loggedin', userId: user.id, time: user.lastaccess }];
      return [{ type: 'user_updated', user }];
    }
    case 'enrolments':
      if (after === undefined) {
        const e = before as unknown as SiteEnrolment;
        return [{ type: 'user_enrolment_deleted', userId: e.userId, courseId: e.courseId, method: e.method }];
      }
      return [
        {
          type: before === undefined ? 'user_enrolment_created' : 'user_enrolment_updated',
          enrolment: after as unknown as SiteEnrolment,
        },
      ];
    case 'roles':
      // A changed row under the same key (same user, role and context) is still an assignment.
      if (after === undefined)
        return [{ type: 'role_unassigned', assignment: before as unknown as RoleAssignment }];
      return [{ type: 'role_assigned', assignment: after as unknown as RoleAssignment }];
    case 'completions':
      if (after === undefined) {
        // The record is gone: for the conditions this reads as "not completed" (COH-C11).
        const c = before as unknown as SiteCompletion;
        return [
          {
            type: 'course_completion_updated',
            completion: { userId: c.userId, courseId: c.courseId, timecompleted: null },
          },
        ];
      }
      return [
        {
          type: before === undefined ? 'course_completed' : 'course_completion_updated',
          completion: after as unknown as SiteCompletion,
        },
      ];
    case 'cohortMembers': {
      const row = (after ?? before)!;
      return [
        {
          type: after !== undefined ? 'cohort_member_added' : 'cohort_member_removed',
          cohortId: String(row['cohortId']),
          userId: String(row['userId']),
        },
      ];
    }
    case 'quizGrades':
      if (after === undefined) return [];
      return [{ type: 'quiz_graded', grade: after as unknown as SiteQuizGrade }];
    default:
      return [];
  }
}

/** Events for a list of row changes, in order. */
export function siteEvents(changes: readonly SiteRowChange[]): SiteEvent[] {
  return changes.flatMap(rowEvents);
}

/** The user an event is about: one definition, the engine's. */
export { eventUserId } from './engine.ts';

function keyed(site: SiteDocument): Map<string, Map<string, Record<string, unknown>>> {
  const rows = (list: readonly object[], key: (r: Record<string, unknown>) => string) =>
    new Map(list.map((r) => [key(r as Record<string, unknown>), r as Record<string, unknown>] as const));
  return new Map([
    ['users', rows(site.users, (r) => String(r['id']))],
    ['enrolments', rows(site.enrolments, (r) => JSON.stringify([r['userId'], r['courseId'], r['method']]))],
    [
      'roles',
      rows(site.roles, (r) => JSON.stringify([r['userId'], r['role'], r['contextLevel'], r['contextId']])),
    ],
    ['completions', rows(site.completions, (r) => JSON.stringify([r['userId'], r['courseId']]))],
    [
      'cohortMembers',
      rows(
        site.cohorts.flatMap((c) => c.members.map((userId) => ({ cohortId: c.id, userId }))),
        (r) => JSON.stringify([r['cohortId'], r['userId']]),
      ),
    ],
    ['quizGrades', rows(site.quizGrades, (r) => JSON.stringify([r['quizId'], r['userId']]))],
  ]);
}

/**
 * Events that turn site `before` into site `after` (rows keyed as the site document keys them): per collection
 * in EVENT_COLLECTIONS order, changed and added rows in `after` order, then removed rows in `before` order.
 */
export function diffSites(before: SiteDocument, after: SiteDocument): SiteEvent[] {
  const a = keyed(before);
  const b = keyed(after);
  const changes: SiteRowChange[] = [];
  for (const collection of EVENT_COLLECTIONS) {
    const old = a.get(collection)!;
    const cur = b.get(collection)!;
    for (const [k, row] of cur) changes.push({ collection, before: old.get(k), after: row });
    for (const [k, row] of old) if (!cur.has(k)) changes.push({ collection, before: row, after: undefined });
  }
  return siteEvents(changes);
}

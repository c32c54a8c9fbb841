// Conditions on course relationships: user_enrolment, user_role, course_completed,
// course_not_completed, course_completion (COH-C8..C12). Follows the tool_dynamic_cohorts condition
// classes of the same names. Pure; every test is a lookup in the site index, never a scan of all rows.

import { CONTEXT_LEVELS, isOn, type ContextLevel } from '../../interchange/site-json.ts';
import { formatTime } from '../text.ts';
import type { SiteIndex } from '../site-index.ts';
import { broken, type Broken, type ConditionType, type EvalContext } from './types.ts';

function courseName(index: SiteIndex | undefined, id: string): string {
  const c = index?.courses.get(id);
  return c ? `"${c.fullname}" (id ${id})` : `(missing course ${id})`;
}

function courseWithCompletion(ctx: EvalContext, id: string, at: string): Broken | null {
  const course = ctx.index.courses.get(id);
  if (!course) return broken(at, `course "${id}" does not exist`);
  if (!isOn(course.enableCompletion)) return broken(at, `completion is disabled in course "${id}"`);
  return null;
}

function anyToNull(v: string | null): string | null {
  return v === 'any' || v === '' ? null : v;
}

// ---------------------------------------------------------------------------------------------

export interface EnrolmentConfig {
  operator: 'enrolled' | 'not_enrolled';
  courseId: string;
  role: string | null;
  method: string | null;
}

export const userEnrolment: ConditionType<EnrolmentConfig> = {
  type: 'user_enrolment',
  label: 'User enrolment',
  events: [
    'role_assigned',
    'role_unassigned',
    'user_enrolment_created',
    'user_enrolment_updated',
    'user_enrolment_deleted',
  ],
  parse(raw, r, at) {
    r.keys(raw, at, ['operator', 'courseId', 'role', 'method']);
    return {
      operator: r.oneOf(raw, 'operator', at, ['enrolled', 'not_enrolled'] as const),
      courseId: r.str(raw, 'courseId', at),
      // null means any; the word "any" is accepted as the same.
      role: anyToNull(r.optStr(raw, 'role', at)),
      method: anyToNull(r.optStr(raw, 'method', at)),
    };
  },
  broken(c, ctx) {
    if (!ctx.index.courses.has(c.courseId))
      return broken('courseId', `course "${c.courseId}" does not exist`);
    if (c.role !== null && !ctx.index.knownRoles.has(c.role))
      return broken('role', `role "${c.role}" does not exist`);
    if (c.method !== null && !ctx.index.knownMethods.has(c.method))
      return broken('method', `enrolment method "${c.method}" does not exist`);
    return null;
  },
  compile(c, ctx) {
    const byUser = ctx.index.enrolmentsFor(c.courseId);
    const rolesByUser = ctx.index.rolesByUser;
    const { courseId, role, method } = c;
    // Active enrolment in an enabled instance, optional method and course-level role; dates ignored (plugin).
    const enrolled = (p: number): boolean => {
      const list = byUser.get(p);
      if (!list) return false;
      let ok = false;
      for (const e of list)
        if (isOn(e.active) && isOn(e.instanceEnabled) && (method === null || e.method === method)) {
          ok = true;
          break;
        }
      if (!ok || role === null) return ok;
      for (const a of rolesByUser.get(p) ?? [])
        if (a.role === role && a.contextLevel === 'course' && a.contextId === courseId) return true;
      return false;
    };
    // "Not enrolled" is the exact negation of the whole test (so a teacher is "not enrolled as student").
    return c.operator === 'enrolled' ? enrolled : (p) => !enrolled(p);
  },
  describe(c, index) {
    let s = `Users who are ${c.operator === 'enrolled' ? '' : 'not '}enrolled into course ${courseName(index, c.courseId)}`;
    s += c.role === null ? ' with any role' : ` with role "${c.role}"`;
    s += c.method === null ? ' using any enrolment method' : ` using enrolment method "${c.method}"`;
    return s;
  },
  toJson(c) {
    return { operator: c.operator, courseId: c.courseId, role: c.role, method: c.method };
  },
};

// ---------------------------------------------------------------------------------------------

export interface RoleConfig {
  operator: 'has_role' | 'not_has_role';
  role: string;
  contextLevel: ContextLevel;
  courseId: string | null;
  categoryId: string | null;
  includeChildren: boolean;
}

export const userRole: ConditionType<RoleConfig> = {
  type: 'user_role',
  label: 'User role',
  events: ['role_assigned', 'role_unassigned'],
  parse(raw, r, at) {
    r.keys(raw, at, ['operator', 'role', 'contextLevel', 'courseId', 'categoryId', 'includeChildren']);
    return {
      operator: r.oneOf(raw, 'operator', at, ['has_role', 'not_has_role'] as const),
      role: r.str(raw, 'role', at),
      contextLevel: r.oneOf(raw, 'contextLevel', at, CONTEXT_LEVELS),
      courseId: r.optStr(raw, 'courseId', at),
      categoryId: r.optStr(raw, 'categoryId', at),
      includeChildren: r.bool(raw, 'includeChildren', at),
    };
  },
  broken(c, ctx) {
    if (!ctx.index.knownRoles.has(c.role)) return broken('role', `role "${c.role}" does not exist`);
    // A system-level condition ignores whatever course or category ids it carries (plugin test).
    if (c.contextLevel === 'course' && (c.courseId === null || !ctx.index.courses.has(c.courseId)))
      return broken('courseId', `course "${c.courseId ?? ''}" does not exist`);
    if (c.contextLevel === 'category' && (c.categoryId === null || !ctx.index.categories.has(c.categoryId)))
      return broken('categoryId', `category "${c.categoryId ?? ''}" does not exist`);
    return null;
  },
  compile(c, ctx) {
    const { system, categories, courses } = roleContexts(c, ctx.index);
    const rolesByUser = ctx.index.rolesByUser;
    const role = c.role;
    const has = (p: number): boolean => {
      const list = rolesByUser.get(p);
      if (!list) return false;
      for (const a of list) {
        if (a.role !== role) continue;
        if (
          a.contextLevel === 'system'
            ? system
            : a.contextLevel === 'category'
              ? categories.has(a.contextId!)
              : courses.has(a.contextId!)
        )
          return true;
      }
      return false;
    };
    return c.operator === 'has_role' ? has : (p) => !has(p);
  },
  describe(c, index) {
    let where: string;
    if (c.contextLevel === 'system') where = 'in system context';
    else if (c.contextLevel === 'course') where = `in course ${courseName(index, c.courseId ?? '')}`;
    else {
      const cat = index?.categories.get(c.categoryId ?? '');
      where = `in category ${cat ? `"${cat.name}"` : '(missing category)'} (id ${c.categoryId ?? ''})`;
      if (c.includeChildren) where += ' including children (categories and courses)';
    }
    return `Users who ${c.operator === 'has_role' ? 'have' : 'do not have'} role "${c.role}" ${where}`;
  },
  toJson(c) {
    return {
      operator: c.operator,
      role: c.role,
      contextLevel: c.contextLevel,
      courseId: c.courseId,
      categoryId: c.categoryId,
      includeChildren: c.includeChildren,
    };
  },
};

/**
 * Which assignments count (upstream main, tests in user_role_test.php):
 * system: system only; category: the category, its ancestors and system; category with children:
 * the category and everything below it but NOT ancestors (upstream keeps this replace-not-add
 * behaviour); course: the course, its ancestor categories and system.
 */
export function roleContexts(
  c: RoleConfig,
  index: SiteIndex,
): { system: boolean; categories: Set<string>; courses: Set<string> } {
  if (c.contextLevel === 'system') return { system: true, categories: new Set(), courses: new Set() };
  if (c.contextLevel === 'course') {
    const course = index.courses.get(c.courseId!)!;
    return {
      system: true,
      categories: new Set(course.categoryId !== null ? index.ancestors(course.categoryId) : []),
      courses: new Set([course.id]),
    };
  }
  if (!c.includeChildren)
    return { system: true, categories: new Set(index.ancestors(c.categoryId!)), courses: new Set() };
  const cats = index.descendants(c.categoryId!);
  const courses = new Set<string>();
  for (const cat of cats) for (const id of index.coursesByCategory.get(cat) ?? []) courses.add(id);
  return { system: false, categories: new Set(cats), courses };
}

// ---------------------------------------------------------------------------------------------

export interface CourseCompletedConfig {
  operator: 'any' | 'before' | 'after';
  courseId: string;
  time: number | null;
}

export const courseCompleted: ConditionType<CourseCompletedConfig> = {
  type: 'course_completed',
  label: 'Course completed',
  // The plugin listens to no events here (cron only); we re-check on completion events too.
  events: ['course_completed', 'course_completion_updated'],
  parse(raw, r, at) {
    r.keys(raw, at, ['operator', 'courseId', 'time']);
    return {
      operator: r.oneOf(raw, 'operator', at, ['any', 'before', 'after'] as const, 'any'),
      courseId: r.str(raw, 'courseId', at),
      time: r.optNum(raw, 'time', at),
    };
  },
  broken(c, ctx) {
    const b = courseWithCompletion(ctx, c.courseId, 'courseId');
    if (b) return b;
    if (c.operator !== 'any' && (c.time === null || c.time <= 0))
      return broken('time', `"${c.operator}" needs a time`);
    return null;
  },
  compile(c, ctx) {
    // Only this course's completions are read, so under OR nobody silently drops out (the plugin's INNER JOIN bug).
    const done = ctx.index.completionsFor(c.courseId);
    const t = c.time ?? 0;
    if (c.operator === 'before')
      return (p) => {
        const v = done.get(p);
        return v != null && v < t;
      };
    if (c.operator === 'after')
      return (p) => {
        const v = done.get(p);
        return v != null && v > t;
      };
    return (p) => done.get(p) != null;
  },
  describe(c, index) {
    const when = c.operator === 'any' || c.time === null ? '' : ` ${c.operator} ${formatTime(c.time)}`;
    return `Users who have completed course ${courseName(index, c.courseId)}${when}`;
  },
  toJson(c) {
    const o: Record<string, unknown> = { operator: c.operator, courseId: c.courseId };
    if (c.time !== null) o['time'] = c.time;
    return o;
  },
};

export interface CourseNotCompletedConfig {
  courseId: string;
}

export const courseNotCompleted: ConditionType<CourseNotCompletedConfig> = {
  type: 'course_not_completed',
  label: 'Course not completed',
  events: ['course_completed', 'course_completion_updated'],
  parse(raw, r, at) {
    r.keys(raw, at, ['courseId']);
    return { courseId: r.str(raw, 'courseId', at) };
  },
  broken: (c, ctx) => courseWithCompletion(ctx, c.courseId, 'courseId'),
  compile(c, ctx) {
    // No record, or a record without a completion time: never enrolled counts as not completed.
    const done = ctx.index.completionsFor(c.courseId);
    return (p) => done.get(p) == null;
  },
  describe(c, index) {
    return `Users who have not completed course ${courseName(index, c.courseId)}`;
  },
  toJson(c) {
    return { courseId: c.courseId };
  },
};

export interface CourseCompletionConfig {
  courseIds: string[];
  completion: 'completed' | 'not_completed';
  selection: 'any' | 'all';
  period: 'any' | 'before' | 'after';
  time: number | null;
}

export const courseCompletion: ConditionType<CourseCompletionConfig> = {
  type: 'course_completion',
  label: 'Course completion (several courses)',
  events: ['course_completed', 'course_completion_updated'],
  parse(raw, r, at) {
    r.keys(raw, at, ['courseIds', 'completion', 'selection', 'period', 'time']);
    return {
      courseIds: [...new Set(r.ids(raw, 'courseIds', at))],
      completion: r.oneOf(raw, 'completion', at, ['completed', 'not_completed'] as const, 'completed'),
      selection: r.oneOf(raw, 'selection', at, ['any', 'all'] as const, 'any'),
      period: r.oneOf(raw, 'period', at, ['any', 'before', 'after'] as const, 'any'),
      time: r.optNum(raw, 'time', at),
    };
  },
  broken(c, ctx) {
    if (c.courseIds.length === 0) return broken('courseIds', 'at least one course is required');
    for (let i = 0; i < c.courseIds.length; i++) {
      const b = courseWithCompletion(ctx, c.courseIds[i]!, `courseIds[${i}]`);
      if (b) return b;
    }
    return null;
  },
  compile(c, ctx) {
    // Count distinct qualifying completions per user and compare with 1, 0 or N (plugin course_completion.php).
    const maps = c.courseIds.map((id) => ctx.index.completionsFor(id));
    const t = c.time ?? 0;
    const timed = c.period !== 'any' && t > 0;
    const qualifies = (v: number | null | undefined): boolean =>
      v != null && (!timed || (c.period === 'before' ? v < t : v > t));
    const n = c.courseIds.length;
    const count = (p: number): number => {
      let k = 0;
      for (const m of maps) if (qualifies(m.get(p))) k++;
      return k;
    };
    if (c.completion === 'completed')
      return c.selection === 'all' ? (p) => count(p) === n : (p) => count(p) >= 1;
    return c.selection === 'all' ? (p) => count(p) < n : (p) => count(p) === 0;
  },
  describe(c, index) {
    const verb = c.completion === 'completed' ? 'have completed' : 'have not completed';
    const when = c.period === 'any' || c.time === null ? '' : ` ${c.period} ${formatTime(c.time)}`;
    return `Users who ${verb} ${c.selection} of ${c.courseIds.map((id) => courseName(index, id)).join(', ')}${when}`;
  },
  toJson(c) {
    const o: Record<string, unknown> = {
      courseIds: c.courseIds,
      completion: c.completion,
      selection: c.selection,
      period: c.period,
    };
    if (c.time !== null) o['time'] = c.time;
    return o;
  },
};

// Capability names and the default capabilities of each course role, shared by the app, the engine and the sync server.
// Pure data and lookups: never reads storage, the network or a clock; never grants anything a role default does not list.

/**
 * Every capability Markbook checks. Names follow Moodle's `moodle/grade:*` capabilities in lib/db/access.php
 * (the grade ones), `moodle/analytics:listinsights` and `moodle/cohort:manage`, without the `moodle/` prefix.
 */
export const CAPABILITIES = [
  'grade:view',
  'grade:viewall',
  'grade:viewhidden',
  'grade:hide',
  'grade:lock',
  'grade:unlock',
  'grade:manage',
  'grade:import',
  'grade:export',
  'grade:override',
  'analytics:listinsights',
  'cohort:manage',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** Course-level roles (Moodle archetypes). `teacher` is Moodle's non-editing teacher. */
export const COURSE_ROLES = ['manager', 'editingteacher', 'teacher', 'student'] as const;
export type CourseRole = (typeof COURSE_ROLES)[number];

/** Site-level roles: an admin can do everything everywhere; a site manager acts as `manager` in every course. */
export type SiteRole = 'admin' | 'manager' | null;

/**
 * Role defaults, following the archetypes in Moodle's lib/db/access.php:
 * - grade:view is the student's own-grades capability (archetype student only);
 * - grade:viewall, grade:viewhidden, grade:export: teacher, editingteacher, manager;
 * - grade:hide, lock, unlock, manage, import: editingteacher, manager;
 * - grade:override: Moodle guards overrides with grade:edit (editingteacher, manager);
 * - analytics:listinsights: teacher, editingteacher, manager;
 * - cohort:manage: manager only (a category/system capability in Moodle).
 */
const DEFAULTS: Readonly<Record<CourseRole, readonly Capability[]>> = {
  manager: [
    'grade:viewall',
    'grade:viewhidden',
    'grade:hide',
    'grade:lock',
    'grade:unlock',
    'grade:manage',
    'grade:import',
    'grade:export',
    'grade:override',
    'analytics:listinsights',
    'cohort:manage',
  ],
  editingteacher: [
    'grade:viewall',
    'grade:viewhidden',
    'grade:hide',
    'grade:lock',
    'grade:unlock',
    'grade:manage',
    'grade:import',
    'grade:export',
    'grade:override',
    'analytics:listinsights',
  ],
  teacher: ['grade:viewall', 'grade:viewhidden', 'grade:export', 'analytics:listinsights'],
  student: ['grade:view'],
};

export function isCapability(name: string): name is Capability {
  return (CAPABILITIES as readonly string[]).includes(name);
}

export function isCourseRole(name: string): name is CourseRole {
  return (COURSE_ROLES as readonly string[]).includes(name);
}

/** The capabilities a course role has by default, in CAPABILITIES order. */
export function roleCapabilities(role: CourseRole): Capability[] {
  const set = DEFAULTS[role];
  return CAPABILITIES.filter((c) => set.includes(c));
}

/** Whether `role` has `cap` by default. Unknown roles have nothing. */
export function can(role: CourseRole | null | undefined, cap: Capability): boolean {
  if (!role || !isCourseRole(role)) return false;
  return DEFAULTS[role].includes(cap);
}

/**
 * Whether a role may write to a course gradebook at all. Non-editing teachers and students are read-only;
 * what an editing role may change is then narrowed per change by the individual capabilities.
 */
export function canEditGradebook(role: CourseRole | null | undefined): boolean {
  return role === 'manager' || role === 'editingteacher';
}

/** The role a user acts with in a course, given their site role and their course assignment (if any). */
export function effectiveCourseRole(
  siteRole: SiteRole,
  courseRole: CourseRole | null | undefined,
): CourseRole | null {
  if (siteRole === 'admin' || siteRole === 'manager') return 'manager';
  return courseRole ?? null;
}

// The site JSON interchange format (/work/shared/spec/site-json.md): types, validation and export.
// Pure: never reads files or clocks; rejects bad input as a whole with errors naming the JSON path.

import { ValidationError, jsonPath, type Problem } from '../shared/errors.ts';

/** A stored profile or custom-field value. `string[]` is an autocomplete (multi-select) value. */
export type FieldValue = string | number | boolean | string[];

/** 0/1 flags as the spec writes them (booleans are accepted on input and kept as given). */
export type Flag = 0 | 1 | boolean;

export interface SiteUser {
  id: string;
  username: string;
  firstname: string;
  lastname: string;
  email: string;
  auth: string;
  city: string;
  country: string;
  institution: string;
  department: string;
  idnumber: string;
  timecreated: number;
  lastlogin: number;
  lastaccess: number;
  suspended: 0 | 1;
  deleted: 0 | 1;
  /** Custom profile values by field shortname; a missing key means "no stored value" (not ''). */
  profile: Record<string, FieldValue>;
  /** Interest tags. */
  interests: string[];
}

export type ProfileFieldType = 'text' | 'menu' | 'checkbox' | 'datetime' | 'autocomplete';
/** Cohort custom fields also accept Moodle's customfield names (select = menu, date = datetime) and textarea. */
export type FieldDefType = ProfileFieldType | 'select' | 'date' | 'textarea';

export interface ProfileField {
  shortname: string;
  datatype: FieldDefType;
  /** Menu options, newline-separated (Moodle's param1); '' when not a menu. */
  param1: string;
  name?: string;
}
export type FieldDef = ProfileField;

export interface SiteCategory {
  id: string;
  name: string;
  parentId: string | null;
}

export interface SiteCourse {
  id: string;
  fullname: string;
  categoryId: string | null;
  enableCompletion: Flag;
}

export interface SiteEnrolment {
  userId: string;
  courseId: string;
  method: string;
  active: Flag;
  instanceEnabled: Flag;
}

export interface SiteCompletion {
  userId: string;
  courseId: string;
  /** null: a completion record exists but the course is not complete. */
  timecompleted: number | null;
}

export type ContextLevel = 'system' | 'category' | 'course';
export const CONTEXT_LEVELS: readonly ContextLevel[] = ['system', 'category', 'course'];

export interface RoleAssignment {
  userId: string;
  role: string;
  contextLevel: ContextLevel;
  /** Category id or course id; null at system level. */
  contextId: string | null;
}

export interface SiteCohort {
  id: string;
  name: string;
  idnumber: string;
  /** 'system' or a category id (Moodle's cohort context). */
  contextid: string;
  visible: Flag;
  /** Owning component ('' = none); a cohort managed by a rule is owned by 'tool_dynamic_cohorts'. */
  component: string;
  theme: string;
  customFields: Record<string, FieldValue>;
  members: string[];
}

export interface SiteQuiz {
  id: string;
  courseId: string;
  /** Maximum grade of the quiz. */
  grade: number;
}

export interface SiteQuizGrade {
  quizId: string;
  userId: string;
  grade: number;
}

export interface SiteDocument {
  users: SiteUser[];
  profileFields: ProfileField[];
  categories: SiteCategory[];
  courses: SiteCourse[];
  enrolments: SiteEnrolment[];
  completions: SiteCompletion[];
  roles: RoleAssignment[];
  cohorts: SiteCohort[];
  cohortCustomFields: FieldDef[];
  quizzes: SiteQuiz[];
  quizGrades: SiteQuizGrade[];
}

export const SITE_COLLECTIONS = [
  'users',
  'profileFields',
  'categories',
  'courses',
  'enrolments',
  'completions',
  'roles',
  'cohorts',
  'cohortCustomFields',
  'quizzes',
  'quizGrades',
] as const;

export const FIELD_DEF_TYPES: readonly FieldDefType[] = [
  'text',
  'menu',
  'checkbox',
  'datetime',
  'autocomplete',
  'select',
  'date',
  'textarea',
];

export function emptySite(): SiteDocument {
  return {
    users: [],
    profileFields: [],
    categories: [],
    courses: [],
    enrolments: [],
    completions: [],
    roles: [],
    cohorts: [],
    cohortCustomFields: [],
    quizzes: [],
    quizGrades: [],
  };
}

/** Owner marker put on cohorts that a rule manages (Moodle: cohort.component = 'tool_dynamic_cohorts'). */
export const RULE_COMPONENT = 'tool_dynamic_cohorts';

// ---------------------------------------------------------------------------------------------
// A small reader that records every problem with its JSON path instead of stopping at the first.

type Obj = Record<string, unknown>;

class Reader {
  readonly problems: Problem[] = [];
  fail(at: string, message: string): void {
    this.problems.push({ at, message });
  }
  obj(v: unknown, at: string): Obj | undefined {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(at, `must be an object, got ${describe(v)}`);
      return undefined;
    }
    return v as Obj;
  }
  keys(o: Obj, at: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o))
      if (!allowed.includes(k)) this.fail(jsonPath(at, k), `unknown field "${k}"`);
  }
  str(o: Obj, k: string, at: string, dflt?: string): string {
    const v = o[k];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string') {
      this.fail(
        jsonPath(at, k),
        v === undefined ? 'is required (a string)' : `must be a string, got ${describe(v)}`,
      );
      return dflt ?? '';
    }
    return v;
  }
  id(o: Obj, k: string, at: string): string {
    const v = o[k];
    if (typeof v !== 'string' || v === '') {
      this.fail(
        jsonPath(at, k),
        v === undefined ? 'is required (a string id)' : `must be a non-empty string id, got ${describe(v)}`,
      );
      return '';
    }
    return v;
  }
  nullableId(o: Obj, k: string, at: string): string | null {
    const v = o[k];
    if (v === null || v === undefined) return null;
    return this.id(o, k, at);
  }
  num(o: Obj, k: string, at: string, dflt?: number): number {
    const v = o[k];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.fail(
        jsonPath(at, k),
        v === undefined ? 'is required (a number)' : `must be a finite number, got ${describe(v)}`,
      );
      return dflt ?? 0;
    }
    return v;
  }
  time(o: Obj, k: string, at: string): number {
    const v = this.num(o, k, at, 0);
    if (!Number.isInteger(v) || v < 0)
      this.fail(jsonPath(at, k), `must be unix seconds (an integer >= 0), got ${v}`);
    return v;
  }
  bit(o: Obj, k: string, at: string): 0 | 1 {
    const v = o[k];
    if (v === undefined || v === 0 || v === false) return 0;
    if (v === 1 || v === true) return 1;
    this.fail(jsonPath(at, k), `must be 0 or 1, got ${describe(v)}`);
    return 0;
  }
  flag(o: Obj, k: string, at: string, dflt: Flag): Flag {
    const v = o[k];
    if (v === undefined) return dflt;
    if (v === 0 || v === 1 || v === true || v === false) return v;
    this.fail(jsonPath(at, k), `must be 0, 1, true or false, got ${describe(v)}`);
    return dflt;
  }
  oneOf<T extends string>(o: Obj, k: string, at: string, allowed: readonly T[], dflt?: T): T {
    const v = o[k];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(jsonPath(at, k), `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
      return dflt ?? allowed[0]!;
    }
    return v as T;
  }
  strings(o: Obj, k: string, at: string): string[] {
    const v = o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.fail(jsonPath(at, k), `must be an array of strings, got ${describe(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((s, i) => {
      if (typeof s !== 'string') this.fail(jsonPath(at, k, i), `must be a string, got ${describe(s)}`);
      else out.push(s);
    });
    return out;
  }
  values(o: Obj, k: string, at: string): Record<string, FieldValue> {
    const v = o[k];
    if (v === undefined) return {};
    const m = this.obj(v, jsonPath(at, k));
    if (!m) return {};
    const out: Record<string, FieldValue> = {};
    for (const [name, val] of Object.entries(m)) {
      if (
        typeof val === 'string' ||
        typeof val === 'boolean' ||
        (typeof val === 'number' && Number.isFinite(val))
      )
        out[name] = val;
      else if (Array.isArray(val) && val.every((x) => typeof x === 'string'))
        out[name] = [...(val as string[])];
      else
        this.fail(
          jsonPath(at, k, name),
          `must be a string, number, boolean or array of strings, got ${describe(val)}`,
        );
    }
    return out;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const USER_KEYS = [
  'id',
  'username',
  'firstname',
  'lastname',
  'email',
  'auth',
  'city',
  'country',
  'institution',
  'department',
  'idnumber',
  'timecreated',
  'lastlogin',
  'lastaccess',
  'suspended',
  'deleted',
  'profile',
  'interests',
] as const;

function readUser(r: Reader, v: unknown, at: string): SiteUser | undefined {
  const o = r.obj(v, at);
  if (!o) return undefined;
  r.keys(o, at, USER_KEYS);
  return {
    id: r.id(o, 'id', at),
    username: r.str(o, 'username', at),
    firstname: r.str(o, 'firstname', at, ''),
    lastname: r.str(o, 'lastname', at, ''),
    email: r.str(o, 'email', at, ''),
    auth: r.str(o, 'auth', at, 'manual'),
    city: r.str(o, 'city', at, ''),
    country: r.str(o, 'country', at, ''),
    institution: r.str(o, 'institution', at, ''),
    department: r.str(o, 'department', at, ''),
    idnumber: r.str(o, 'idnumber', at, ''),
    timecreated: r.time(o, 'timecreated', at),
    lastlogin: r.time(o, 'lastlogin', at),
    lastaccess: r.time(o, 'lastaccess', at),
    suspended: r.bit(o, 'suspended', at),
    deleted: r.bit(o, 'deleted', at),
    profile: r.values(o, 'profile', at),
    interests: r.strings(o, 'interests', at),
  };
}

function readFieldDef(
  r: Reader,
  v: unknown,
  at: string,
  allowed: readonly FieldDefType[],
): ProfileField | undefined {
  const o = r.obj(v, at);
  if (!o) return undefined;
  r.keys(o, at, ['shortname', 'datatype', 'param1', 'name']);
  const f: ProfileField = {
    shortname: r.id(o, 'shortname', at),
    datatype: r.oneOf(o, 'datatype', at, allowed),
    param1: r.str(o, 'param1', at, ''),
  };
  if (o['name'] !== undefined) f.name = r.str(o, 'name', at);
  return f;
}

function readList<T>(
  r: Reader,
  root: Obj,
  key: string,
  read: (v: unknown, at: string) => T | undefined,
): T[] {
  const v = root[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    r.fail(jsonPath('$', key), `must be an array, got ${describe(v)}`);
    return [];
  }
  const out: T[] = [];
  // Collection keys are plain identifiers, so the path is built by hand (this loop runs per record).
  const base = jsonPath('$', key);
  for (let i = 0; i < v.length; i++) {
    const x = read(v[i], `${base}[${i}]`);
    if (x !== undefined) out.push(x);
  }
  return out;
}

function dupes(r: Reader, list: readonly { id: string }[], key: string): Set<string> {
  const seen = new Set<string>();
  list.forEach((x, i) => {
    if (seen.has(x.id)) r.fail(jsonPath('$', key, i, 'id'), `duplicate id "${x.id}"`);
    seen.add(x.id);
  });
  return seen;
}

/**
 * Validates a parsed JSON value as site JSON; every problem is collected; on any problem a
 * ValidationError is thrown and nothing is returned. Missing collections default to [], missing
 * standard text fields to '' (Moodle stores them NOT NULL), times and flags to 0.
 * References are checked: enrolments, completions, roles, members and grades must point at records
 * that exist in the same site JSON
 */
export function parseSiteJson(input: unknown): SiteDocument {
  const r = new Reader();
  const root = r.obj(input, '$');
  if (!root) throw new ValidationError(r.problems);
  r.keys(root, '$', SITE_COLLECTIONS);

  const site: SiteDocument = {
    users: readList(r, root, 'users', (v, at) => readUser(r, v, at)),
    profileFields: readList(r, root, 'profileFields', (v, at) =>
      readFieldDef(r, v, at, ['text', 'menu', 'checkbox', 'datetime', 'autocomplete']),
    ),
    categories: readList(r, root, 'categories', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, ['id', 'name', 'parentId']);
      return {
        id: r.id(o, 'id', at),
        name: r.str(o, 'name', at, ''),
        parentId: r.nullableId(o, 'parentId', at),
      };
    }),
    courses: readList(r, root, 'courses', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, ['id', 'fullname', 'categoryId', 'enableCompletion']);
      return {
        id: r.id(o, 'id', at),
        fullname: r.str(o, 'fullname', at, ''),
        categoryId: r.nullableId(o, 'categoryId', at),
        enableCompletion: r.flag(o, 'enableCompletion', at, 0),
      };
    }),
    enrolments: readList(r, root, 'enrolments', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, ['userId', 'courseId', 'method', 'active', 'instanceEnabled']);
      return {
        userId: r.id(o, 'userId', at),
        courseId: r.id(o, 'courseId', at),
        method: r.str(o, 'method', at, 'manual'),
        active: r.flag(o, 'active', at, 1),
        instanceEnabled: r.flag(o, 'instanceEnabled', at, 1),
      };
    }),
    completions: readList(r, root, 'completions', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, ['userId', 'courseId', 'timecompleted']);
      const tc = o['timecompleted'];
      return {
        userId: r.id(o, 'userId', at),
        courseId: r.id(o, 'courseId', at),
        timecompleted: tc === null || tc === undefined ? null : r.time(o, 'timecompleted', at),
      };
    }),
    roles: readList(r, root, 'roles', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, ['userId', 'role', 'contextLevel', 'contextId']);
      const contextLevel = r.oneOf(o, 'contextLevel', at, CONTEXT_LEVELS);
      const contextId = r.nullableId(o, 'contextId', at);
      if (contextLevel !== 'system' && contextId === null)
        r.fail(jsonPath(at, 'contextId'), `is required at ${contextLevel} level`);
      return {
        userId: r.id(o, 'userId', at),
        role: r.id(o, 'role', at),
        contextLevel,
        contextId: contextLevel === 'system' ? null : contextId,
      };
    }),
    cohorts: readList(r, root, 'cohorts', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, [
        'id',
        'name',
        'idnumber',
        'contextid',
        'visible',
        'component',
        'theme',
        'customFields',
        'members',
      ]);
      return {
        id: r.id(o, 'id', at),
        name: r.str(o, 'name', at, ''),
        idnumber: r.str(o, 'idnumber', at, ''),
        contextid: r.str(o, 'contextid', at, 'system'),
        visible: r.flag(o, 'visible', at, 1),
        component: r.str(o, 'component', at, ''),
        theme: r.str(o, 'theme', at, ''),
        customFields: r.values(o, 'customFields', at),
        members: r.strings(o, 'members', at),
      };
    }),
    cohortCustomFields: readList(r, root, 'cohortCustomFields', (v, at) =>
      readFieldDef(r, v, at, FIELD_DEF_TYPES),
    ),
    quizzes: readList(r, root, 'quizzes', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, ['id', 'courseId', 'grade']);
      return { id: r.id(o, 'id', at), courseId: r.id(o, 'courseId', at), grade: r.num(o, 'grade', at, 10) };
    }),
    quizGrades: readList(r, root, 'quizGrades', (v, at) => {
      const o = r.obj(v, at);
      if (!o) return undefined;
      r.keys(o, at, ['quizId', 'userId', 'grade']);
      return { quizId: r.id(o, 'quizId', at), userId: r.id(o, 'userId', at), grade: r.num(o, 'grade', at) };
    }),
  };

  checkReferences(r, site);
  if (r.problems.length > 0) throw new ValidationError(r.problems);
  return site;
}

function checkReferences(r: Reader, site: SiteDocument): void {
  const users = dupes(r, site.users, 'users');
  const cats = dupes(r, site.categories, 'categories');
  const courses = dupes(r, site.courses, 'courses');
  dupes(r, site.cohorts, 'cohorts');
  const quizzes = dupes(r, site.quizzes, 'quizzes');
  const seenUsernames = new Map<string, number>();
  site.users.forEach((u, i) => {
    const prev = seenUsernames.get(u.username);
    if (prev !== undefined)
      r.fail(
        jsonPath('$', 'users', i, 'username'),
        `duplicate username "${u.username}" (also $.users[${prev}])`,
      );
    else seenUsernames.set(u.username, i);
  });
  const shortnames = new Set<string>();
  site.profileFields.forEach((f, i) => {
    if (shortnames.has(f.shortname))
      r.fail(jsonPath('$', 'profileFields', i, 'shortname'), `duplicate shortname "${f.shortname}"`);
    shortnames.add(f.shortname);
  });
  const need = (set: Set<string>, id: string | null, at: string, what: string): void => {
    if (id !== null && id !== '' && !set.has(id))
      r.fail(at, `refers to ${what} "${id}", which does not exist`);
  };
  site.categories.forEach((c, i) =>
    need(cats, c.parentId, jsonPath('$', 'categories', i, 'parentId'), 'category'),
  );
  site.courses.forEach((c, i) =>
    need(cats, c.categoryId, jsonPath('$', 'courses', i, 'categoryId'), 'category'),
  );
  site.enrolments.forEach((e, i) => {
    need(users, e.userId, jsonPath('$', 'enrolments', i, 'userId'), 'user');
    need(courses, e.courseId, jsonPath('$', 'enrolments', i, 'courseId'), 'course');
  });
  site.completions.forEach((e, i) => {
    need(users, e.userId, jsonPath('$', 'completions', i, 'userId'), 'user');
    need(courses, e.courseId, jsonPath('$', 'completions', i, 'courseId'), 'course');
  });
  site.roles.forEach((a, i) => {
    need(users, a.userId, jsonPath('$', 'roles', i, 'userId'), 'user');
    if (a.contextLevel === 'category')
      need(cats, a.contextId, jsonPath('$', 'roles', i, 'contextId'), 'category');
    if (a.contextLevel === 'course')
      need(courses, a.contextId, jsonPath('$', 'roles', i, 'contextId'), 'course');
  });
  site.cohorts.forEach((c, i) => {
    if (c.contextid !== 'system')
      need(cats, c.contextid, jsonPath('$', 'cohorts', i, 'contextid'), 'category');
    const seen = new Set<string>();
    c.members.forEach((m, j) => {
      need(users, m, jsonPath('$', 'cohorts', i, 'members', j), 'user');
      if (seen.has(m)) r.fail(jsonPath('$', 'cohorts', i, 'members', j), `user "${m}" is listed twice`);
      seen.add(m);
    });
  });
  site.quizzes.forEach((q, i) =>
    need(courses, q.courseId, jsonPath('$', 'quizzes', i, 'courseId'), 'course'),
  );
  site.quizGrades.forEach((g, i) => {
    need(quizzes, g.quizId, jsonPath('$', 'quizGrades', i, 'quizId'), 'quiz');
    need(users, g.userId, jsonPath('$', 'quizGrades', i, 'userId'), 'user');
  });
  // Category cycles would make "ancestors" infinite.
  const parent = new Map(site.categories.map((c) => [c.id, c.parentId] as const));
  site.categories.forEach((c, i) => {
    let cur = c.parentId;
    let steps = 0;
    while (cur !== null && steps <= site.categories.length) {
      if (cur === c.id) {
        r.fail(jsonPath('$', 'categories', i, 'parentId'), `category "${c.id}" is its own ancestor`);
        break;
      }
      cur = parent.get(cur) ?? null;
      steps++;
    }
  });
}

/** Parses site JSON text; a syntax error is reported at `$`. */
export function parseSiteJsonText(text: string): SiteDocument {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ValidationError([
      { at: '$', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
  return parseSiteJson(v);
}

/** The site document as spec JSON (every field written, collections in spec order). */
export function siteToJson(site: SiteDocument): SiteDocument {
  const out = emptySite();
  for (const k of SITE_COLLECTIONS)
    (out as unknown as Record<string, unknown[]>)[k] = site[k].map((x) => structuredCopy(x));
  return out;
}

function structuredCopy<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** True for the spec's 1/true flag values. */
export function isOn(f: Flag | undefined): boolean {
  return f === 1 || f === true;
}

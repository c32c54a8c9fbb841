// Indexes over one site snapshot, built once, so rule conditions run as tight loops and set lookups.
// Pure: no clock, no I/O. Mutated only through the explicit event methods (realtime re-checks).

import type {
  RoleAssignment,
  SiteCohort,
  SiteCompletion,
  SiteDocument,
  SiteEnrolment,
  SiteUser,
} from '../interchange/site-json.ts';
import { foldText } from './text.ts';
import { numericIdKey } from './ids.ts';

/** Moodle's standard roles: a role named in a condition is "missing" unless it is one of these or assigned somewhere. */
export const STANDARD_ROLES = [
  'manager',
  'coursecreator',
  'editingteacher',
  'teacher',
  'student',
  'guest',
  'user',
  'frontpage',
];
/** Moodle's bundled enrolment plugins: a method is "missing" unless it is one of these or used somewhere. */
export const STANDARD_ENROL_METHODS = [
  'manual',
  'self',
  'guest',
  'cohort',
  'meta',
  'category',
  'database',
  'flatfile',
  'imsenterprise',
  'ldap',
  'lti',
  'mnet',
  'paypal',
  'fee',
];

export class SiteIndex {
  readonly site: SiteDocument;
  /** Users by position; positions are stable for the life of the index (new users are appended). */
  readonly users: SiteUser[];
  readonly userPos = new Map<string, number>();
  readonly courses = new Map<string, SiteDocument['courses'][number]>();
  readonly categories = new Map<string, SiteDocument['categories'][number]>();
  readonly categoryChildren = new Map<string, string[]>();
  readonly coursesByCategory = new Map<string, string[]>();
  readonly cohorts = new Map<string, SiteCohort>();
  /** Cohort members as sets of user positions. */
  readonly cohortMembers = new Map<string, Set<number>>();
  /** courseId -> user position -> that user's enrolments in the course. */
  readonly enrolmentsByCourse = new Map<string, Map<number, SiteEnrolment[]>>();
  /** courseId -> user position -> timecompleted (null = record without completion). */
  readonly completionsByCourse = new Map<string, Map<number, number | null>>();
  /** user position -> role assignments. */
  readonly rolesByUser = new Map<number, RoleAssignment[]>();
  /** quizId -> user position -> grade. */
  readonly quizGrades = new Map<string, Map<number, number>>();
  readonly quizzes = new Map<string, SiteDocument['quizzes'][number]>();
  readonly profileFields = new Map<string, SiteDocument['profileFields'][number]>();
  readonly cohortFields = new Map<string, SiteDocument['cohortCustomFields'][number]>();
  readonly knownRoles = new Set<string>(STANDARD_ROLES);
  readonly knownMethods = new Set<string>(STANDARD_ENROL_METHODS);
  private order: { rank: Int32Array; byRank: Int32Array } | undefined;
  /** Case- and accent-folded standard fields, computed on first use per field. */
  private readonly folded = new Map<string, string[]>();

  constructor(site: SiteDocument) {
    this.site = site;
    this.users = site.users.slice();
    this.users.forEach((u, i) => this.userPos.set(u.id, i));
    for (const c of site.courses) this.courses.set(c.id, c);
    for (const c of site.categories) {
      this.categories.set(c.id, c);
      if (c.parentId !== null) push(this.categoryChildren, c.parentId, c.id);
    }
    for (const c of site.courses) if (c.categoryId !== null) push(this.coursesByCategory, c.categoryId, c.id);
    for (const c of site.cohorts) {
      this.cohorts.set(c.id, c);
      const set = new Set<number>();
      for (const m of c.members) {
        const p = this.userPos.get(m);
        if (p !== undefined) set.add(p);
      }
      this.cohortMembers.set(c.id, set);
    }
    for (const e of site.enrolments) this.addEnrolment(e);
    for (const c of site.completions) this.setCompletion(c);
    for (const a of site.roles) this.addRole(a);
    for (const q of site.quizzes) this.quizzes.set(q.id, q);
    for (const g of site.quizGrades) {
      const p = this.userPos.get(g.userId);
      if (p === undefined) continue;
      let m = this.quizGrades.get(g.quizId);
      if (!m) this.quizGrades.set(g.quizId, (m = new Map()));
      m.set(p, g.grade);
    }
    for (const f of site.profileFields) this.profileFields.set(f.shortname, f);
    for (const f of site.cohortCustomFields) this.cohortFields.set(f.shortname, f);
    // Id order is part of the snapshot's indexes so that no processing chunk pays for a 100k sort.
    this.idOrder(numericIdKey);
  }

  /** The course's enrolments by user position; created empty when missing so compiled tests stay live. */
  enrolmentsFor(courseId: string): Map<number, SiteEnrolment[]> {
    let m = this.enrolmentsByCourse.get(courseId);
    if (!m) this.enrolmentsByCourse.set(courseId, (m = new Map()));
    return m;
  }

  completionsFor(courseId: string): Map<number, number | null> {
    let m = this.completionsByCourse.get(courseId);
    if (!m) this.completionsByCourse.set(courseId, (m = new Map()));
    return m;
  }

  gradesFor(quizId: string): Map<number, number> {
    let m = this.quizGrades.get(quizId);
    if (!m) this.quizGrades.set(quizId, (m = new Map()));
    return m;
  }

  /**
   * Each user's rank in id order and the inverse, computed once (so big id lists sort as numbers).
   * `numericKey` gives a number for ids that sort numerically (before all others), else NaN.
   */
  idOrder(numericKey: (id: string) => number): { rank: Int32Array; byRank: Int32Array } {
    if (!this.order) {
      const n = this.users.length;
      const ids = this.users.map((u) => u.id);
      const keys = new Float64Array(n);
      const nums: number[] = [];
      const texts: number[] = [];
      for (let i = 0; i < n; i++) {
        keys[i] = numericKey(ids[i]!);
        (Number.isNaN(keys[i]) ? texts : nums).push(i);
      }
      nums.sort((a, b) => keys[a]! - keys[b]!);
      texts.sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
      const byRank = Int32Array.from([...nums, ...texts]);
      const rank = new Int32Array(n);
      for (let r = 0; r < n; r++) rank[byRank[r]!] = r;
      this.order = { rank, byRank };
    }
    return this.order;
  }

  get userCount(): number {
    return this.users.length;
  }

  /** Folded (lower-case, accent-free) values of one standard user field, for every user. */
  foldedColumn(field: keyof SiteUser): string[] {
    let col = this.folded.get(field);
    if (!col) {
      col = this.users.map((u) => foldText(String(u[field] ?? '')));
      this.folded.set(field, col);
    }
    return col;
  }

  /** Category ids from `id` up to the root, `id` first. */
  ancestors(id: string): string[] {
    const out: string[] = [];
    let cur: string | null = id;
    while (cur !== null && out.length <= this.categories.size) {
      out.push(cur);
      cur = this.categories.get(cur)?.parentId ?? null;
    }
    return out;
  }

  /** `id` and every category below it. */
  descendants(id: string): string[] {
    const out = [id];
    for (let i = 0; i < out.length; i++)
      for (const c of this.categoryChildren.get(out[i]!) ?? []) out.push(c);
    return out;
  }

  // --- mutations used by realtime events -------------------------------------------------------

  /** Adds or replaces a user record; returns its position. */
  putUser(u: SiteUser): number {
    let p = this.userPos.get(u.id);
    if (p === undefined) {
      p = this.users.length;
      this.users.push(u);
      this.userPos.set(u.id, p);
      this.order = undefined;
    } else this.users[p] = u;
    for (const [field, col] of this.folded) col[p] = foldText(String(u[field as keyof SiteUser] ?? ''));
    return p;
  }

  addEnrolment(e: SiteEnrolment): void {
    const p = this.userPos.get(e.userId);
    if (p === undefined) return;
    let m = this.enrolmentsByCourse.get(e.courseId);
    if (!m) this.enrolmentsByCourse.set(e.courseId, (m = new Map()));
    const list = m.get(p);
    if (list) {
      const i = list.findIndex((x) => x.method === e.method);
      if (i >= 0) list[i] = e;
      else list.push(e);
    } else m.set(p, [e]);
    this.knownMethods.add(e.method);
  }

  removeEnrolment(userId: string, courseId: string, method: string | null): void {
    const p = this.userPos.get(userId);
    const m = this.enrolmentsByCourse.get(courseId);
    if (p === undefined || !m) return;
    const list = (m.get(p) ?? []).filter((x) => method !== null && x.method !== method);
    if (list.length) m.set(p, list);
    else m.delete(p);
  }

  setCompletion(c: SiteCompletion): void {
    const p = this.userPos.get(c.userId);
    if (p === undefined) return;
    let m = this.completionsByCourse.get(c.courseId);
    if (!m) this.completionsByCourse.set(c.courseId, (m = new Map()));
    m.set(p, c.timecompleted);
  }

  addRole(a: RoleAssignment): void {
    const p = this.userPos.get(a.userId);
    if (p === undefined) return;
    const list = this.rolesByUser.get(p);
    if (list) {
      if (!list.some((x) => sameAssignment(x, a))) list.push(a);
    } else this.rolesByUser.set(p, [a]);
    this.knownRoles.add(a.role);
  }

  removeRole(a: RoleAssignment): void {
    const p = this.userPos.get(a.userId);
    if (p === undefined) return;
    const list = this.rolesByUser.get(p);
    if (list)
      this.rolesByUser.set(
        p,
        list.filter((x) => !sameAssignment(x, a)),
      );
  }

  setQuizGrade(quizId: string, userId: string, grade: number): void {
    const p = this.userPos.get(userId);
    if (p === undefined) return;
    let m = this.quizGrades.get(quizId);
    if (!m) this.quizGrades.set(quizId, (m = new Map()));
    m.set(p, grade);
  }

  setMember(cohortId: string, userId: string, member: boolean): void {
    const p = this.userPos.get(userId);
    const set = this.cohortMembers.get(cohortId);
    if (p === undefined || !set) return;
    if (member) set.add(p);
    else set.delete(p);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function sameAssignment(a: RoleAssignment, b: RoleAssignment): boolean {
  return (
    a.role === b.role &&
    a.contextLevel === b.contextLevel &&
    a.contextId === b.contextId &&
    a.userId === b.userId
  );
}

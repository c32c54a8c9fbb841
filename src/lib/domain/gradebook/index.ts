// Public API of the gradebook engine (see ./SPEC.md): load a course JSON, regrade fully or incrementally,
// read finals and reports, and gradelib-style commands. Pure: time is an input, roles are not known here.
// Modelled on lib/gradelib.php (grade_update, grade_get_grades, grade_regrade_final_grades, grade_is_locked...).
import type {
  CourseCategory,
  CourseGrade,
  CourseItem,
  CourseJson,
  CourseSettings,
  HideTotalsMode,
} from '../interchange/course-types.ts';
import { validateCourseJson } from '../interchange/course-json.ts';
import { ValidationError } from '../shared/errors.ts';
import type { JobOptions } from '../shared/cancel.ts';
import { GradeEngine, type EngineOptions, type GradePatch, type RegradeIssue } from './engine.ts';
import type { FormulaCompiler } from './formula-port.ts';
import { DEFAULT_LETTERS, letterTable, type LetterTable } from './letters.ts';
import {
  reportOrder,
  setupRows,
  userRows,
  type ReportOptions,
  type ReportRow,
  type SetupRow,
} from './report.ts';
import { rescaleKeepPercentage } from './range.ts';
import { STATUS_NAMES } from './flags.ts';
import { compileGradebookFormula } from '../formula/index.ts';

export type { GradePatch, RegradeIssue } from './engine.ts';
export type { ReportOptions, ReportRow, SetupRow, Viewer } from './report.ts';
export type { CompiledFormula, FormulaCompiler } from './formula-port.ts';
export { formatGrade, formatFloat, parseDisplayType, percentage, type DisplayType } from './display.ts';
export { DEFAULT_LETTERS, gradeLetter, letterTable, resolveLetters, type LetterTable } from './letters.ts';
export { adjustRawGrade, boundedGrade, rescaleKeepPercentage, round5, standardise } from './range.ts';

export interface LoadOptions {
  /** Evaluation time (unix seconds) for lock times and hidden-until during regrade. Default 0. */
  now?: number;
  /** The formula compiler for calculated items (default: the formula module's compileGradebookFormula). */
  compileFormula?: FormulaCompiler;
}

let defaultCompiler: FormulaCompiler | undefined;

/** Replaces the formula language used when loadCourse is not given one (tests, alternative builds). */
export function setDefaultFormulaCompiler(c: FormulaCompiler | undefined): void {
  defaultCompiler = c;
}

/** One history entry: every change to a grade, with its source; never removed. */
export interface HistoryEntry {
  readonly at: number;
  readonly source: string;
  readonly item: string;
  readonly user: string;
  readonly oldValue: CourseGrade | null;
  readonly newValue: CourseGrade | null;
}

/** A grade as an activity sends it to grade_update. */
export interface SourceGrade {
  user: string;
  raw?: number | null;
  rawgrademin?: number;
  rawgrademax?: number;
  feedback?: string;
}

/** One change as the CRDT layer reports it; see Gradebook.applyChange. */
export type GradebookChange =
  | { kind: 'grade'; item: string; user: string; patch: GradePatch; source?: string }
  | { kind: 'item'; id: string; patch: Partial<Omit<CourseItem, 'id'>>; rescale?: boolean }
  | { kind: 'addItem'; item: CourseItem }
  | { kind: 'category'; id: string; patch: Partial<Omit<CourseCategory, 'id'>>; rescale?: boolean }
  | { kind: 'addCategory'; category: CourseCategory }
  | { kind: 'settings'; patch: Partial<CourseSettings> }
  | { kind: 'addUsers'; users: { id: string; name: string }[] };

/** [API-1] Validates and compiles a course document, then regrades it fully. Throws ValidationError. */
export function loadCourse(input: unknown, opts: LoadOptions = {}): Gradebook {
  const json = validateCourseJson(input);
  return new Gradebook(json, opts);
}

export class Gradebook {
  private engine: GradeEngine;
  private readonly opts: EngineOptions;
  readonly history: HistoryEntry[] = [];

  constructor(json: CourseJson, opts: LoadOptions = {}) {
    const compileFormula = opts.compileFormula ?? defaultCompiler ?? compileGradebookFormula;
    this.opts = { now: opts.now ?? 0, compileFormula };
    this.engine = new GradeEngine(json, this.opts);
  }

  /** The underlying engine (columnar state); for workers and benchmarks. */
  get state(): GradeEngine {
    return this.engine;
  }

  get users(): readonly string[] {
    return this.engine.users;
  }

  /** Problems found by the last regrade (e.g. a calculation with no result for some user). */
  get issues(): readonly RegradeIssue[] {
    return this.engine.issues;
  }

  /** [REG-2] Full regrade; deterministic; cancellable (the previous results stay if cancelled). */
  regradeAll(opts: JobOptions = {}): readonly RegradeIssue[] {
    return this.engine.regradeAll(opts);
  }

  private node(itemId: string, at = 'item'): number {
    const q = this.engine.course.byId.get(itemId);
    if (q === undefined) throw new ValidationError([{ at, message: `unknown item "${itemId}"` }]);
    return q;
  }

  private user(userId: string, at = 'user'): number {
    const u = this.engine.userIndex.get(userId);
    if (u === undefined) throw new ValidationError([{ at, message: `unknown user "${userId}"` }]);
    return u;
  }

  /** [API-2] Final grade of an item, category (by id) or `course` for a user; null = no grade. */
  final(itemId: string, userId: string): number | null {
    const v = this.engine.derived.final[this.node(itemId)]![this.user(userId)]!;
    return Number.isNaN(v) ? null : v;
  }

  /** The per-user range the grade is read against (Natural totals: 0..the user's own maximum). */
  range(itemId: string, userId: string): [number, number] {
    const q = this.node(itemId);
    const u = this.user(userId);
    return [this.engine.gradeMin(q, u), this.engine.gradeMax(q, u)];
  }

  /** Aggregation weight (0..1) and status of a grade in its parent category. */
  aggregation(itemId: string, userId: string): { weight: number; status: string } {
    const q = this.node(itemId);
    const u = this.user(userId);
    return {
      weight: this.engine.derived.weight[q]![u]!,
      status: STATUS_NAMES[this.engine.derived.status[q]![u]!] ?? 'unknown',
    };
  }

  private checkPatch(patch: GradePatch, at: string): void {
    const problems: { at: string; message: string }[] = [];
    for (const k of ['raw', 'final', 'rawgrademin', 'rawgrademax', 'overridden'] as const) {
      const v = patch[k];
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
        problems.push({ at: `${at}.${k}`, message: `must be a finite number or null, got ${String(v)}` });
      }
    }
    if (problems.length) throw new ValidationError(problems);
  }

  private snapshot(q: number, u: number): CourseGrade | null {
    return this.engine.cellRow(q, u);
  }

  /**
   * [API-3] Sets (part of) one grade and regrades that user's affected totals only. A manual change: it
   * ignores locks (callers check isLocked first when they must refuse). Returns the new course total.
   */
  setGrade(itemId: string, userId: string, patch: GradePatch, source = 'manual'): number | null {
    const q = this.node(itemId);
    const u = this.user(userId);
    this.checkPatch(patch, 'grade');
    const old = this.snapshot(q, u);
    this.engine.setCell(q, u, patch);
    this.history.push({
      at: this.engine.now,
      source,
      item: itemId,
      user: userId,
      oldValue: old,
      newValue: this.snapshot(q, u),
    });
    const t = this.engine.derived.final[this.engine.course.root]![u]!;
    return Number.isNaN(t) ? null : t;
  }

  /**
   * [API-4] grade_update from a source (an activity): raw grades for existing users; locked grades ignore
   * it, overrides survive it (the raw is stored underneath). With `details` the item is created (or its
   * settings updated) first. Returns the users whose grade was refused. Every grade is checked before
   * any is written.
   */
  gradeUpdate(
    source: string,
    itemId: string,
    grades: readonly SourceGrade[],
    details?: Omit<CourseItem, 'id'>,
  ): { refused: string[] } {
    if (details) {
      // grade_update with item details: create the item, or update its settings, before the grades.
      const exists = this.engine.course.byId.has(itemId);
      if (exists) this.updateItem(itemId, details);
      else {
        const json = this.engine.toJson();
        this.replace({ ...json, items: [...json.items, { ...details, id: itemId }] });
      }
    }
    const q = this.node(itemId, 'itemId');
    if (this.engine.course.nodes[q]!.kind !== 'item') {
      throw new ValidationError([
        { at: 'itemId', message: `"${itemId}" is a total; activities grade items only` },
      ]);
    }
    const users = grades.map((g, i) => this.user(g.user, `grades[${i}].user`));
    grades.forEach((g, i) => this.checkPatch({ raw: g.raw ?? null }, `grades[${i}]`));
    const refused: string[] = [];
    grades.forEach((g, i) => {
      const u = users[i]!;
      if (this.engine.isLocked(q, u)) {
        refused.push(g.user);
        return;
      }
      const patch: GradePatch = { raw: g.raw ?? null };
      if (g.rawgrademin !== undefined) patch.rawgrademin = g.rawgrademin;
      if (g.rawgrademax !== undefined) patch.rawgrademax = g.rawgrademax;
      if (g.feedback !== undefined) patch.feedback = g.feedback;
      this.setGrade(itemId, g.user, patch, source);
    });
    return { refused };
  }

  /** [API-5] grade_is_locked: the item, or (with a user) that user's grade. */
  isLocked(itemId: string, userId?: string): boolean {
    const q = this.node(itemId);
    return userId === undefined ? this.engine.itemLocked(q) : this.engine.isLocked(q, this.user(userId));
  }

  /** [API-6] True when no item or category other than `exceptId` uses this idnumber (grade_verify_idnumber). */
  verifyIdnumber(idnumber: string, exceptId?: string): boolean {
    const q = this.engine.course.byIdnumber.get(idnumber);
    return q === undefined || this.engine.course.nodes[q]!.id === exceptId;
  }

  /**
   * [API-7] Changes item settings; with `rescale`, stored grades keep their percentage on a range change
   * (rescale_grades_keep_percentage). Rebuilds and fully regrades; nothing changes if the result is invalid.
   */
  updateItem(itemId: string, patch: Partial<Omit<CourseItem, 'id'>>, opts: { rescale?: boolean } = {}): void {
    const json = this.engine.toJson();
    const idx = json.items.findIndex((it) => it.id === itemId);
    if (idx < 0) throw new ValidationError([{ at: 'itemId', message: `unknown item "${itemId}"` }]);
    const old = json.items[idx]!;
    const next = { ...old, ...patch };
    json.items = json.items.map((it, i) => (i === idx ? next : it));
    if (opts.rescale && (next.grademin !== old.grademin || next.grademax !== old.grademax)) {
      json.grades = json.grades.map((g) => {
        if (g.item !== itemId) return g;
        const r = (v: number): number =>
          rescaleKeepPercentage(v, old.grademin, old.grademax, next.grademin, next.grademax);
        const out = { ...g };
        if (typeof g.raw === 'number' && g.rawgrademin === undefined) out.raw = r(g.raw);
        if (typeof g.final === 'number') out.final = r(g.final);
        if (typeof g.overridden === 'number') out.overridden = r(g.overridden);
        return out;
      });
    }
    this.replace(json);
  }

  /**
   * [API-7] Changes a category's settings (`course` names the course category). With `rescale`, overridden
   * totals keep their percentage on a range change (grade_regrade_do_not_override.feature: 80 -> 160 for
   * 0..100 -> 0..200). Rebuilds and fully regrades; nothing changes if the result is invalid.
   */
  updateCategory(
    categoryId: string,
    patch: Partial<Omit<CourseCategory, 'id'>>,
    opts: { rescale?: boolean } = {},
  ): void {
    const json = this.engine.toJson();
    const idx = json.categories.findIndex(
      (c) => c.id === categoryId || (categoryId === 'course' && c.parent === null),
    );
    if (idx < 0)
      throw new ValidationError([{ at: 'categoryId', message: `unknown category "${categoryId}"` }]);
    const old = json.categories[idx]!;
    const next = { ...old, ...patch };
    json.categories = json.categories.map((c, i) => (i === idx ? next : c));
    const node = this.engine.course.nodes[this.node(categoryId, 'categoryId')]!;
    const oldMin = node.min;
    const oldMax = node.max;
    const newMin = next.grademin ?? oldMin;
    const newMax = next.grademax ?? oldMax;
    if (opts.rescale && (newMin !== oldMin || newMax !== oldMax)) {
      json.grades = json.grades.map((g) => {
        if (this.engine.course.byId.get(g.item) !== node.index || typeof g.overridden !== 'number') return g;
        return { ...g, overridden: rescaleKeepPercentage(g.overridden, oldMin, oldMax, newMin, newMax) };
      });
    }
    this.replace(json);
  }

  /** [API-9] grade_get_grades for one item: its settings and each user's grade as the gradebook holds it. */
  getGrades(
    itemId: string,
    userIds: readonly string[] = this.engine.users,
  ): {
    item: {
      id: string;
      name: string;
      idnumber: string | null;
      grademin: number;
      grademax: number;
      scale: readonly string[] | null;
      hidden: boolean;
      locked: boolean;
    };
    grades: Record<
      string,
      {
        grade: number | null;
        overridden: boolean;
        excluded: boolean;
        hidden: boolean;
        locked: boolean;
        feedback: string | null;
      }
    >;
  } {
    const q = this.node(itemId);
    const n = this.engine.course.nodes[q]!;
    const grades: Record<
      string,
      {
        grade: number | null;
        overridden: boolean;
        excluded: boolean;
        hidden: boolean;
        locked: boolean;
        feedback: string | null;
      }
    > = {};
    userIds.forEach((id, i) => {
      const u = this.user(id, `userIds[${i}]`);
      const v = this.engine.derived.final[q]![u]!;
      grades[id] = {
        grade: Number.isNaN(v) ? null : v,
        overridden: this.engine.isOverridden(q, u),
        excluded: this.engine.isExcluded(q, u),
        hidden: this.engine.isHidden(q, u),
        locked: this.engine.isLocked(q, u),
        feedback: this.engine.feedback.get(q * this.engine.users.length + u) ?? null,
      };
    });
    return {
      item: {
        id: n.id,
        name: n.name,
        idnumber: n.idnumber,
        grademin: n.min,
        grademax: n.max,
        scale: n.scale,
        hidden: this.engine.itemHidden(q),
        locked: this.engine.itemLocked(q),
      },
      grades,
    };
  }

  /** [API-10] The course's outcome items (items linked to an outcome; they are graded on the outcome's scale). */
  outcomeItems(): { id: string; name: string; scale: readonly string[] | null }[] {
    return this.engine.course.nodes
      .filter((n) => n.outcome)
      .map((n) => ({ id: n.id, name: n.name, scale: n.scale }));
  }

  /**
   * [API-10] grade_update_outcomes: sets one user's outcome grades (scale values, null clears). Only outcome
   * items; values must be whole scale positions; locked grades are refused. All-or-nothing.
   */
  updateOutcomes(
    source: string,
    userId: string,
    values: Readonly<Record<string, number | null>>,
  ): { refused: string[] } {
    const u = this.user(userId, 'userId');
    const problems: { at: string; message: string }[] = [];
    const todo: [string, number, number | null][] = [];
    for (const [itemId, v] of Object.entries(values)) {
      const q = this.engine.course.byId.get(itemId);
      const n = q === undefined ? undefined : this.engine.course.nodes[q];
      if (q === undefined || !n?.outcome) {
        problems.push({ at: `values.${itemId}`, message: `"${itemId}" is not an outcome item` });
        continue;
      }
      if (v !== null && (!Number.isInteger(v) || v < n.min || v > n.max)) {
        problems.push({
          at: `values.${itemId}`,
          message: `must be a scale position ${n.min}..${n.max} or null, got ${String(v)}`,
        });
        continue;
      }
      todo.push([itemId, q, v]);
    }
    if (problems.length) throw new ValidationError(problems);
    const refused: string[] = [];
    for (const [itemId, q, v] of todo) {
      if (this.engine.isLocked(q, u)) refused.push(itemId);
      else this.setGrade(itemId, userId, { final: v }, source);
    }
    return { refused };
  }

  /**
   * [API-11] Applies one change: a grade change regrades only that user's dependents (REG-3); any setup
   * change rebuilds and fully regrades. Returns what was regraded. All-or-nothing: an invalid change throws
   * a ValidationError and leaves the gradebook as it was.
   */
  applyChange(change: GradebookChange): { regraded: 'user' | 'all'; courseTotal?: number | null } {
    switch (change.kind) {
      case 'grade':
        return {
          regraded: 'user',
          courseTotal: this.setGrade(change.item, change.user, change.patch, change.source),
        };
      case 'item':
        this.updateItem(change.id, change.patch, change.rescale ? { rescale: true } : {});
        return { regraded: 'all' };
      case 'category':
        this.updateCategory(change.id, change.patch, change.rescale ? { rescale: true } : {});
        return { regraded: 'all' };
      case 'addItem': {
        const json = this.engine.toJson();
        this.replace({ ...json, items: [...json.items, change.item] });
        return { regraded: 'all' };
      }
      case 'addCategory': {
        const json = this.engine.toJson();
        this.replace({ ...json, categories: [...json.categories, change.category] });
        return { regraded: 'all' };
      }
      case 'settings': {
        const json = this.engine.toJson();
        this.replace({ ...json, settings: { ...json.settings, ...change.patch } });
        return { regraded: 'all' };
      }
      case 'addUsers': {
        const json = this.engine.toJson();
        const known = new Set(json.users?.map((u) => u.id) ?? []);
        this.replace({
          ...json,
          users: [...(json.users ?? []), ...change.users.filter((u) => !known.has(u.id))],
        });
        return { regraded: 'all' };
      }
    }
  }

  private replace(json: CourseJson): void {
    const validated = validateCourseJson(json);
    this.engine = new GradeEngine(validated, { ...this.opts, now: this.engine.now });
  }

  /** [API-8] Removes every grade of the course; the history keeps what was removed. */
  removeCourseGrades(source = 'manual'): void {
    const json = this.engine.toJson();
    for (const g of json.grades) {
      this.history.push({
        at: this.engine.now,
        source,
        item: g.item,
        user: g.user,
        oldValue: g,
        newValue: null,
      });
    }
    this.replace({ ...json, grades: [] });
  }

  /** [FLAG-4] Sets the evaluation time; lock times that pass change what is recomputed, so it regrades then. */
  setNow(now: number): void {
    if (now === this.engine.now) return;
    this.engine.now = now;
    if (this.engine.hasTimedLocks()) this.engine.regradeAll();
  }

  private letters(): LetterTable {
    const l = this.engine.toJsonSettings().letters;
    return l && Object.keys(l).length ? letterTable(l) : DEFAULT_LETTERS;
  }

  private hideMode(): HideTotalsMode {
    return this.engine.toJsonSettings().hideTotalsWithHiddenItems ?? 'none';
  }

  /** [REP-1] The user report of one user, as `viewer` sees it at `now`. */
  userReport(userId: string, opts: ReportOptions): ReportRow[] {
    const u = this.user(userId);
    this.setNow(opts.now);
    return userRows(this.engine, u, opts, this.hideMode(), this.letters());
  }

  /** Every user's report rows (the rows of `markbook report`). */
  courseReport(opts: ReportOptions): ReportRow[] {
    this.setNow(opts.now);
    const order = reportOrder(this.engine);
    const letters = this.letters();
    const mode = this.hideMode();
    const rows: ReportRow[] = [];
    for (let u = 0; u < this.engine.users.length; u++)
      rows.push(...userRows(this.engine, u, opts, mode, letters, order));
    return rows;
  }

  /** [REP-6] Gradebook setup rows: Natural weights and maxima. */
  setupReport(): SetupRow[] {
    return setupRows(this.engine);
  }

  /** The course document with the current grades (round-trips through loadCourse). */
  toJson(): CourseJson {
    return this.engine.toJson();
  }
}

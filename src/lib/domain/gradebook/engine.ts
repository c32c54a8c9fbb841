// The gradebook engine: columnar grade storage (one Float64Array per item, indexed by user, NaN = empty),
// full and incremental regrade, and per-cell reads. Pure: never reads a clock (`now` is an input) or storage.
// Follows grade_regrade_final_grades (lib/gradelib.php), grade_item::regrade_final_grades / compute and
// grade_category::aggregate_grades (lib/grade/); rule IDs refer to ./SPEC.md.
import type { CourseGrade, CourseJson, FlagOrTime } from '../interchange/course-types.ts';
import { ValidationError, type Problem } from '../shared/errors.ts';
import { throwIfCancelled, type JobOptions } from '../shared/cancel.ts';
import { aggregateValues, type AggResult } from './aggregation.ts';
import { applyLimitRules, sortAsc } from './limit-rules.ts';
import { compileCourse, type CompiledCourse, type GradeNode } from './model.ts';
import { autoUpdateMax, autoUpdateWeights, canApplyLimitRulesNatural, type NaturalChild } from './natural.ts';
import { adjustRawGrade, boundedGrade, round5, standardise } from './range.ts';
import type { FormulaCompiler } from './formula-port.ts';
import {
  CELL_EXCLUDED,
  CELL_HIDDEN,
  CELL_LOCKED,
  CELL_ROW,
  CELL_STORED_FINAL,
  CELL_TIMED,
  ST_DROPPED,
  ST_EXTRA,
  ST_NOVALUE,
  ST_UNKNOWN,
  ST_USED,
  isHiddenAt,
  isLockedAt,
} from './flags.ts';

/** Inputs of one node's grades, by user. Optional columns are allocated on first use. */
export interface Columns {
  /** Raw grade, or (with CELL_STORED_FINAL) a stored final grade. NaN = none. */
  input: Float64Array;
  /** rawgrademin/rawgrademax of the grade; NaN = the item's current range. */
  rawMin: Float64Array | null;
  rawMax: Float64Array | null;
  /** Overridden value; NaN = not overridden. */
  overridden: Float64Array | null;
  flags: Uint8Array;
}

/** Derived values: recomputed, never input. */
export interface Derived {
  final: Float64Array[];
  /** Per-user range of category totals (rawgrademin/rawgrademax written by aggregation). */
  gmin: Float64Array[];
  gmax: Float64Array[];
  /** Aggregation weight of the node's grade in its parent, and its status. */
  weight: Float64Array[];
  status: Uint8Array[];
}

function resetDerived(d: Derived): void {
  for (const a of d.final) a.fill(NaN);
  for (const a of d.gmin) a.fill(0);
  for (const a of d.gmax) a.fill(0);
  for (const a of d.weight) a.fill(0);
  for (const a of d.status) a.fill(0);
}

export interface RegradeIssue {
  readonly item: string;
  readonly user: string;
  readonly message: string;
}

export interface EngineOptions {
  /** Evaluation time (unix seconds) for lock times and hidden-until; default 0. */
  now?: number;
  compileFormula?: FormulaCompiler;
  /**
   * Skip the full regrade the constructor otherwise runs: the host runs it itself (`regradeAllAsync`, with progress,
   * pauses and cancel). Until then every final grade reads as none.
   */
  deferRegrade?: boolean;
}

/** A partial grade for setGrade; a field left out keeps its value, `null` clears it. */
export interface GradePatch {
  raw?: number | null;
  final?: number | null;
  rawgrademin?: number | null;
  rawgrademax?: number | null;
  overridden?: number | null;
  excluded?: boolean;
  hidden?: FlagOrTime;
  locked?: FlagOrTime;
  feedback?: string | null;
}

// Module-local copies of imported helpers and flags: the hot loops then read plain locals rather than
// module-namespace bindings (which some transpilers turn into getter calls).
const EXCLUDED = CELL_EXCLUDED;
const STORED_FINAL = CELL_STORED_FINAL;
const STATUS_NOVALUE = ST_NOVALUE;
const STATUS_DROPPED = ST_DROPPED;
const STATUS_USED = ST_USED;
const STATUS_EXTRA = ST_EXTRA;
const STATUS_UNKNOWN = ST_UNKNOWN;
const rnd5 = round5;
const stdise = standardise;
const bounded = boundedGrade;
const adjustRaw = adjustRawGrade;
const aggregate = aggregateValues;
const limitRules = applyLimitRules;
const sortAscending = sortAsc;

const MAX_ISSUES = 1000; // keeps a broken formula over many users from flooding memory

export class GradeEngine {
  readonly course: CompiledCourse;
  readonly users: string[];
  readonly userIndex: Map<string, number>;
  readonly cols: Columns[];
  derived: Derived;
  private spare: Derived | null = null;
  private nowValue = 0;
  /** Item-level hidden/locked per node at `now` (with ancestors), computed lazily: 0 unknown, 1 no, 2 yes. */
  private hiddenAtNow: Uint8Array = new Uint8Array(0);
  private lockedAtNow: Uint8Array = new Uint8Array(0);
  issues: RegradeIssue[] = [];
  readonly hiddenTime = new Map<number, number>();
  readonly lockTime = new Map<number, number>();
  readonly feedback = new Map<number, string>();
  private readonly json: CourseJson;
  // Scratch space for aggregation, sized to the widest category.
  private readonly sPos: Int32Array;
  private readonly sVals: Float64Array;
  private readonly sMin: Float64Array;
  private readonly sMax: Float64Array;
  private readonly sW: Float64Array;
  private readonly sKept: Uint8Array;
  private readonly sAll: Int32Array;
  private readonly sOut: AggResult = { grade: 0, grademin: 0, grademax: 0 };
  private readonly calcMaps: Map<string, number | null>[];

  constructor(json: CourseJson, opts: EngineOptions = {}) {
    this.json = json;
    this.course = compileCourse(json, opts.compileFormula);
    this.now = opts.now ?? 0;
    const users: string[] = [];
    const userIndex = new Map<string, number>();
    const addUser = (u: string): void => {
      if (!userIndex.has(u)) {
        userIndex.set(u, users.length);
        users.push(u);
      }
    };
    for (const u of json.users ?? []) addUser(u.id);
    for (const g of json.grades) addUser(g.user);
    this.users = users;
    this.userIndex = userIndex;
    const U = users.length;
    const nodes = this.course.nodes;
    this.cols = nodes.map(() => ({
      input: new Float64Array(U).fill(NaN),
      rawMin: null,
      rawMax: null,
      overridden: null,
      flags: new Uint8Array(U),
    }));
    const width = Math.max(1, ...this.course.cats.map((c) => c.aggChildren.length));
    this.sPos = new Int32Array(width);
    this.sVals = new Float64Array(width);
    this.sMin = new Float64Array(width);
    this.sMax = new Float64Array(width);
    this.sW = new Float64Array(width);
    this.sKept = new Uint8Array(width);
    this.sAll = new Int32Array(width);
    this.calcMaps = nodes.map(() => new Map());
    const problems: Problem[] = [];
    json.grades.forEach((g, i) => {
      const q = this.course.byId.get(g.item);
      if (q === undefined) {
        problems.push({ at: `$.grades[${i}].item`, message: `unknown item "${g.item}"` });
        return;
      }
      this.writeCell(q, userIndex.get(g.user)!, g);
    });
    if (problems.length) throw new ValidationError(problems);
    this.derived = this.emptyDerived();
    if (!opts.deferRegrade) this.regradeAll();
  }

  private emptyDerived(): Derived {
    const U = this.users.length;
    const nodes = this.course.nodes;
    return {
      final: nodes.map(() => new Float64Array(U).fill(NaN)),
      gmin: nodes.map((n) => (n.kind === 'category' ? new Float64Array(U) : new Float64Array(0))),
      gmax: nodes.map((n) => (n.kind === 'category' ? new Float64Array(U) : new Float64Array(0))),
      weight: nodes.map(() => new Float64Array(U)),
      status: nodes.map(() => new Uint8Array(U)),
    };
  }

  /** Writes one grade row's inputs into the columns (no regrade). */
  private writeCell(q: number, u: number, g: GradePatch | CourseGrade): void {
    const c = this.cols[q]!;
    const key = q * this.users.length + u;
    let f = c.flags[u]! | CELL_ROW;
    if ('final' in g && g.final !== undefined && g.final !== null) {
      c.input[u] = g.final;
      f |= STORED_FINAL;
    } else if ('raw' in g && g.raw !== undefined) {
      c.input[u] = g.raw ?? NaN;
      f &= ~STORED_FINAL;
    } else if ('final' in g && g.final === null) {
      c.input[u] = NaN;
      f &= ~STORED_FINAL;
    }
    if (g.rawgrademin !== undefined)
      (c.rawMin ??= new Float64Array(this.users.length).fill(NaN))[u] = g.rawgrademin ?? NaN;
    if (g.rawgrademax !== undefined)
      (c.rawMax ??= new Float64Array(this.users.length).fill(NaN))[u] = g.rawgrademax ?? NaN;
    if (g.overridden !== undefined) {
      (c.overridden ??= new Float64Array(this.users.length).fill(NaN))[u] = g.overridden ?? NaN;
    }
    if (g.excluded !== undefined) f = g.excluded ? f | EXCLUDED : f & ~EXCLUDED;
    if (g.hidden !== undefined) {
      f &= ~CELL_HIDDEN;
      this.hiddenTime.delete(key);
      if (g.hidden === true || g.hidden === 1) f |= CELL_HIDDEN;
      else if (typeof g.hidden === 'number' && g.hidden > 1) this.hiddenTime.set(key, g.hidden);
    }
    if (g.locked !== undefined) {
      f &= ~CELL_LOCKED;
      this.lockTime.delete(key);
      if (g.locked === true || g.locked === 1) f |= CELL_LOCKED;
      else if (typeof g.locked === 'number' && g.locked > 1) this.lockTime.set(key, g.locked);
    }
    if (this.hiddenTime.has(key) || this.lockTime.has(key)) f |= CELL_TIMED;
    else f &= ~CELL_TIMED;
    if (g.feedback !== undefined) {
      if (g.feedback === null) this.feedback.delete(key);
      else this.feedback.set(key, g.feedback);
    }
    c.flags[u] = f;
  }

  // ---- flags -------------------------------------------------------------------------------------------

  /** Evaluation time (unix seconds) for lock times and hidden-until; setting it clears the flag caches. */
  get now(): number {
    return this.nowValue;
  }

  set now(t: number) {
    this.nowValue = t;
    this.hiddenAtNow = new Uint8Array(this.course.nodes.length);
    this.lockedAtNow = new Uint8Array(this.course.nodes.length);
  }

  /** [FLAG-1] Item hidden (or hidden until a later time), or any ancestor category hidden (Moodle cascades). */
  itemHidden(q: number): boolean {
    const c = this.hiddenAtNow[q]!;
    if (c !== 0) return c === 2;
    const n = this.course.nodes[q]!;
    const h =
      isHiddenAt(n.hidden, this.now) ||
      (n.parentCat >= 0 && this.itemHidden(this.course.cats[n.parentCat]!.node));
    this.hiddenAtNow[q] = h ? 2 : 1;
    return h;
  }

  /** Grade-level hidden flag (not counting the item's). */
  gradeHiddenOwn(q: number, u: number): boolean {
    const f = this.cols[q]!.flags[u]!;
    if (f & CELL_HIDDEN) return true;
    if (f & CELL_TIMED) {
      const t = this.hiddenTime.get(q * this.users.length + u);
      return t !== undefined && t > this.now;
    }
    return false;
  }

  /** grade_grade::is_hidden: the grade's own flag or its item's. */
  isHidden(q: number, u: number): boolean {
    return this.itemHidden(q) || this.gradeHiddenOwn(q, u);
  }

  /** For a hidden grade: true when only hidden-until flags hide it (Moodle still lists such rows). */
  isHiddenUntilOnly(q: number, u: number): boolean {
    if (this.cols[q]!.flags[u]! & CELL_HIDDEN) return false;
    let n: GradeNode | undefined = this.course.nodes[q];
    while (n) {
      if (n.hidden === true || n.hidden === 1) return false;
      n = n.parentCat >= 0 ? this.course.nodes[this.course.cats[n.parentCat]!.node] : undefined;
    }
    return true;
  }

  /** [FLAG-2] Item locked (or lock time passed), or any ancestor category locked (locking cascades). */
  itemLocked(q: number): boolean {
    const c = this.lockedAtNow[q]!;
    if (c !== 0) return c === 2;
    const n = this.course.nodes[q]!;
    const l =
      isLockedAt(n.locked, this.now) ||
      (n.parentCat >= 0 && this.itemLocked(this.course.cats[n.parentCat]!.node));
    this.lockedAtNow[q] = l ? 2 : 1;
    return l;
  }

  /** grade_grade::is_locked: the grade's own flag or its item's. */
  isLocked(q: number, u: number): boolean {
    if (this.itemLocked(q)) return true;
    const f = this.cols[q]!.flags[u]!;
    if (f & CELL_LOCKED) return true;
    if (f & CELL_TIMED) {
      const t = this.lockTime.get(q * this.users.length + u);
      return t !== undefined && t < this.now;
    }
    return false;
  }

  isExcluded(q: number, u: number): boolean {
    return (this.cols[q]!.flags[u]! & EXCLUDED) !== 0;
  }

  isOverridden(q: number, u: number): boolean {
    const o = this.cols[q]!.overridden;
    return o !== null && !Number.isNaN(o[u]!);
  }

  /** [RNG-7] The min/max a child's grade is normalised with (grade_grade::get_grade_min_and_max). */
  gradeMin(q: number, u: number, d: Derived = this.derived): number {
    const n = this.course.nodes[q]!;
    if (n.kind === 'category' && !n.formula) return d.gmin[q]![u]!;
    if (this.course.minmaxFromGrade && !n.formula) {
      const r = this.cols[q]!.rawMin;
      if (r && !Number.isNaN(r[u]!)) return r[u]!;
    }
    return n.min;
  }

  gradeMax(q: number, u: number, d: Derived = this.derived): number {
    const n = this.course.nodes[q]!;
    if (n.kind === 'category' && !n.formula) return d.gmax[q]![u]!;
    if (this.course.minmaxFromGrade && !n.formula) {
      const r = this.cols[q]!.rawMax;
      if (r && !Number.isNaN(r[u]!)) return r[u]!;
    }
    return n.max;
  }

  // ---- regrade -----------------------------------------------------------------------------------------

  /** [REG-1] pre_regrade_final_grades: Natural weights then maxima, deepest category first. */
  private preRegrade(): void {
    const { nodes, cats } = this.course;
    for (const ci of this.course.catsDeepestFirst) {
      const cat = cats[ci]!;
      if (cat.aggregation !== 'natural') {
        cat.canApplyLimit = true;
        continue;
      }
      const wc: NaturalChild[] = cat.weightChildren.map((q) => ({
        extra: nodes[q]!.coef > 0,
        weightOverride: nodes[q]!.weightOverride,
        coef2: nodes[q]!.coef2,
        grademax: nodes[q]!.max,
        isCategory: nodes[q]!.kind === 'category',
      }));
      autoUpdateWeights(wc);
      cat.weightChildren.forEach((q, k) => (nodes[q]!.coef2 = wc[k]!.coef2));
      const all: NaturalChild[] = cat.allChildren.map((q) => ({
        extra: nodes[q]!.coef > 0,
        weightOverride: nodes[q]!.weightOverride,
        coef2: nodes[q]!.coef2,
        grademax: nodes[q]!.max,
        isCategory: nodes[q]!.kind === 'category',
      }));
      cat.canApplyLimit = canApplyLimitRulesNatural(all);
      const catNode = nodes[cat.node]!;
      if (!catNode.formula) {
        const deps: NaturalChild[] = Array.from(cat.aggChildren, (q) => ({
          extra: nodes[q]!.coef > 0,
          weightOverride: nodes[q]!.weightOverride,
          coef2: nodes[q]!.coef2,
          grademax: nodes[q]!.max,
          isCategory: nodes[q]!.kind === 'category',
        }));
        catNode.max = autoUpdateMax(deps, cat.dropLowest, cat.keepHighest, cat.canApplyLimit);
        catNode.min = 0;
      }
    }
    // Refresh the per-position copies that aggregation reads.
    for (const cat of cats) {
      cat.aggChildren.forEach((q, k) => {
        cat.agg.coef2[k] = nodes[q]!.coef2;
        cat.agg.itemMin[k] = nodes[q]!.min;
        cat.agg.itemMax[k] = nodes[q]!.max;
      });
    }
  }

  /**
   * [REG-2] Full regrade: recomputes every final grade of every user. Deterministic; the result replaces
   * the previous one only when complete (a cancelled regrade leaves the old values untouched).
   */
  regradeAll(opts: JobOptions = {}): readonly RegradeIssue[] {
    const d = this.beginFullRegrade();
    const order = this.course.order;
    try {
      for (let k = 0; k < order.length; k++) {
        this.regradeColumn(order[k]!, d);
        // One check per node: a node is a whole column of users, so this costs nothing measurable.
        opts.onProgress?.(k + 1, order.length);
        throwIfCancelled(opts.cancel, 'regrade');
      }
    } catch (e) {
      this.spare = d;
      throw e;
    }
    return this.endFullRegrade(d);
  }

  /**
   * The same full regrade for a host that must stay responsive (a worker): calls `opts.pause()` after every
   * `chunkNodes` nodes (default: about 50 pauses a regrade) so that a cancel can land in the middle. The grades
   * read before it resolves are the previous ones; a cancelled run changes nothing.
   */
  async regradeAllAsync(opts: JobOptions & { chunkNodes?: number } = {}): Promise<readonly RegradeIssue[]> {
    const d = this.beginFullRegrade();
    const order = this.course.order;
    // 50 pauses: cancel lands within ~2 % of a regrade, and the pauses themselves cost next to nothing
    const chunk = Math.max(1, opts.chunkNodes ?? Math.ceil(order.length / 50));
    try {
      for (let k = 0; k < order.length; k++) {
        this.regradeColumn(order[k]!, d);
        opts.onProgress?.(k + 1, order.length);
        if (opts.pause && (k + 1) % chunk === 0) await opts.pause();
        throwIfCancelled(opts.cancel, 'regrade');
      }
    } catch (e) {
      this.spare = d;
      throw e;
    }
    return this.endFullRegrade(d);
  }

  private beginFullRegrade(): Derived {
    this.preRegrade();
    // Double buffer: compute into the spare set of columns, swap when complete (no garbage per regrade).
    const d = this.spare ?? this.emptyDerived();
    this.spare = null;
    resetDerived(d);
    this.issues = [];
    return d;
  }

  private regradeColumn(q: number, d: Derived): void {
    const U = this.users.length;
    for (let u = 0; u < U; u++) this.computeNode(q, u, d);
  }

  private endFullRegrade(d: Derived): readonly RegradeIssue[] {
    this.spare = this.derived;
    this.derived = d;
    return this.issues;
  }

  /** [REG-3] Incremental regrade for one user after a change to node q: only q and what depends on it. */
  regradeUser(q: number, u: number): void {
    const d = this.derived;
    this.computeNode(q, u, d);
    const deps = this.course.dependents[q]!;
    for (let k = 0; k < deps.length; k++) this.computeNode(deps[k]!, u, d);
  }

  /** Applies a grade patch to (node, user) and regrades that user incrementally. */
  setCell(q: number, u: number, patch: GradePatch): void {
    this.writeCell(q, u, patch);
    this.regradeUser(q, u);
  }

  /**
   * [REG-5] Replaces everything one user has (every grade row, flag, time and feedback) with `grades` (rows of
   * that user; their `user` field is not read) and recomputes the user's whole row in dependency order. Other users
   * are untouched. A grade naming an unknown item is refused before anything changes.
   */
  loadUserRow(u: number, grades: readonly Omit<CourseGrade, 'user'>[]): void {
    const byId = this.course.byId;
    const problems: Problem[] = [];
    grades.forEach((g, i) => {
      if (!byId.has(g.item)) problems.push({ at: `grades[${i}].item`, message: `unknown item "${g.item}"` });
    });
    if (problems.length) throw new ValidationError(problems);
    const U = this.users.length;
    for (let q = 0; q < this.cols.length; q++) {
      const c = this.cols[q]!;
      c.input[u] = NaN;
      if (c.rawMin) c.rawMin[u] = NaN;
      if (c.rawMax) c.rawMax[u] = NaN;
      if (c.overridden) c.overridden[u] = NaN;
      c.flags[u] = 0;
      const key = q * U + u;
      this.hiddenTime.delete(key);
      this.lockTime.delete(key);
      this.feedback.delete(key);
    }
    for (const g of grades) this.writeCell(byId.get(g.item)!, u, g as CourseGrade);
    const d = this.derived;
    const order = this.course.order;
    for (let k = 0; k < order.length; k++) this.computeNode(order[k]!, u, d);
  }

  private computeNode(q: number, u: number, d: Derived): void {
    const node = this.course.nodes[q]!;
    if (node.kind === 'category') this.computeCategory(node, u, d);
    else this.computeItem(node, u, d);
  }

  /** [REG-4] Items: overridden value, stored final, or adjust_raw_grade; calculations evaluated. */
  private computeItem(node: GradeNode, u: number, d: Derived): void {
    const q = node.index;
    const c = this.cols[q]!;
    const fl = c.flags[u]!;
    const out = d.final[q]!;
    if (c.overridden && !Number.isNaN(c.overridden[u]!)) {
      out[u] = c.overridden[u]!;
      return;
    }
    if (node.formula) {
      if (fl & STORED_FINAL && this.isLocked(q, u)) {
        out[u] = c.input[u]!;
        return;
      }
      out[u] = this.evaluate(node, u, d);
      return;
    }
    const v = c.input[u]!;
    if (fl & STORED_FINAL || Number.isNaN(v)) {
      out[u] = v;
      return;
    }
    const rmin = c.rawMin && !Number.isNaN(c.rawMin[u]!) ? c.rawMin[u]! : node.min;
    const rmax = c.rawMax && !Number.isNaN(c.rawMax[u]!) ? c.rawMax[u]! : node.max;
    out[u] = rnd5(adjustRaw(v, rmin, rmax, node));
  }

  /** [CALC-2] null inputs count as 0; all null gives null; errors give null; the result is bounded. */
  private evaluate(node: GradeNode, u: number, d: Derived): number {
    const f = node.formula!;
    const refs = node.refs;
    const map = this.calcMaps[node.index]!;
    let anyValue = false;
    for (let k = 0; k < refs.length; k++) {
      const v = d.final[refs[k]!]![u]!;
      if (!Number.isNaN(v)) anyValue = true;
      map.set(f.references[k]!, Number.isNaN(v) ? null : v);
    }
    if (!anyValue) return NaN;
    let r: number | null;
    try {
      r = f.evaluateRefs(map);
    } catch (e) {
      this.issue(node, u, (e as Error).message);
      return NaN;
    }
    if (r === null || !Number.isFinite(r)) {
      this.issue(node, u, 'the calculation has no result');
      return NaN;
    }
    return rnd5(bounded(r, node.min, node.max, node.isScale));
  }

  private issue(node: GradeNode, u: number, message: string): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ item: node.id, user: this.users[u]!, message });
  }

  /** [AGG-0] grade_category::aggregate_grades for one user. */
  private computeCategory(node: GradeNode, u: number, d: Derived): void {
    const q = node.index;
    const c = this.cols[q]!;
    const fl = c.flags[u]!;
    const final = d.final[q]!;
    const gmin = d.gmin[q]!;
    const gmax = d.gmax[q]!;
    const cat = this.course.cats[node.cat]!;
    const ownMin = c.rawMin && !Number.isNaN(c.rawMin[u]!) ? c.rawMin[u]! : node.min;
    const ownMax = c.rawMax && !Number.isNaN(c.rawMax[u]!) ? c.rawMax[u]! : node.max;
    const ch = cat.aggChildren;
    const m = ch.length;
    // Children's statuses are rewritten on every pass so an incremental regrade equals a full one.
    this.markChildren(ch, u, d, STATUS_UNKNOWN);
    // [FLAG-3] Overridden, or locked with a stored value: never recomputed.
    if (c.overridden && !Number.isNaN(c.overridden[u]!)) {
      final[u] = c.overridden[u]!;
      gmin[u] = ownMin;
      gmax[u] = ownMax;
      return;
    }
    if (fl & STORED_FINAL && this.isLocked(q, u)) {
      final[u] = c.input[u]!;
      gmin[u] = ownMin;
      gmax[u] = ownMax;
      return;
    }
    if (node.formula) {
      final[u] = this.evaluate(node, u, d);
      gmin[u] = node.min;
      gmax[u] = node.max;
      return;
    }
    gmin[u] = node.min;
    gmax[u] = node.max;
    if (m === 0) {
      final[u] = NaN;
      return;
    }
    const natural = cat.aggregation === 'natural';
    const pos = this.sPos;
    const vals = this.sVals;
    const uMin = this.sMin;
    const uMax = this.sMax;
    let n = 0;
    let anyValue = false;
    for (let k = 0; k < m; k++) {
      const p = ch[k]!;
      const v = d.final[p]![u]!;
      const isNull = Number.isNaN(v);
      if (isNull && cat.aggregateOnlyGraded) {
        d.status[p]![u] = STATUS_NOVALUE;
        d.weight[p]![u] = 0;
        continue;
      }
      if (this.cols[p]!.flags[u]! & EXCLUDED) {
        d.status[p]![u] = STATUS_DROPPED;
        d.weight[p]![u] = 0;
        continue;
      }
      const lo = this.gradeMin(p, u, d);
      const hi = this.gradeMax(p, u, d);
      uMin[k] = lo;
      uMax[k] = hi;
      if (isNull)
        vals[k] = 0; // [AGG-0] empty counts as 0 when empty grades are not excluded
      else {
        anyValue = true;
        vals[k] = natural ? stdise(v, 0, hi, 0, 1) : stdise(v, lo, hi, 0, 1);
      }
      pos[n++] = k;
    }
    if (n > 0 && cat.canApplyLimit && (cat.dropLowest > 0 || cat.keepHighest > 0)) {
      const before = n;
      const kept = this.sKept;
      const all = this.sAll;
      all.set(pos.subarray(0, before));
      n = limitRules(
        cat.dropLowest,
        cat.keepHighest,
        pos,
        n,
        vals,
        cat.agg.itemMax,
        cat.isExtra,
        cat.extraUsed,
      );
      for (let i = 0; i < before; i++) kept[all[i]!] = 0;
      for (let i = 0; i < n; i++) kept[pos[i]!] = 1;
      for (let i = 0; i < before; i++) {
        const k = all[i]!;
        if (!kept[k]) {
          d.status[ch[k]!]![u] = STATUS_DROPPED;
          d.weight[ch[k]!]![u] = 0;
        }
      }
    }
    sortAscending(pos, n, vals);
    if (n === 0) {
      final[u] = NaN;
      return;
    }
    const w = this.sW;
    const out = this.sOut;
    aggregate(cat.aggregation, n, pos, vals, cat.agg, uMin, uMax, node.min, node.max, w, out);
    const boundMin = out.grademin;
    const rangeMin = natural ? 0 : out.grademin;
    if (!anyValue || Number.isNaN(out.grade)) final[u] = NaN;
    else {
      const g = stdise(out.grade, 0, 1, rangeMin, out.grademax);
      final[u] = rnd5(bounded(g, boundMin, out.grademax, false));
    }
    gmin[u] = rnd5(rangeMin);
    gmax[u] = rnd5(out.grademax);
    for (let i = 0; i < n; i++) {
      const k = pos[i]!;
      const p = ch[k]!;
      d.weight[p]![u] = rnd5(w[k]!);
      d.status[p]![u] = cat.isExtra[k] ? STATUS_EXTRA : STATUS_USED;
    }
  }

  private markChildren(ch: Int32Array, u: number, d: Derived, status: number): void {
    for (let k = 0; k < ch.length; k++) {
      d.status[ch[k]!]![u] = status;
      d.weight[ch[k]!]![u] = 0;
    }
  }

  // ---- serialisation -----------------------------------------------------------------------------------

  /** The grade rows as course JSON (inputs only; derived finals are never written). */
  gradeRows(): CourseGrade[] {
    const rows: CourseGrade[] = [];
    const U = this.users.length;
    for (const node of this.course.nodes) {
      for (let u = 0; u < U; u++) {
        const g = this.cellRow(node.index, u);
        if (g) rows.push(g);
      }
    }
    return rows;
  }

  /** One cell's grade row as course JSON, or null when the cell has none. */
  cellRow(q: number, u: number): CourseGrade | null {
    {
      {
        const node = this.course.nodes[q]!;
        const c = this.cols[q]!;
        const U = this.users.length;
        const f = c.flags[u]!;
        if (!(f & CELL_ROW)) return null;
        const key = node.index * U + u;
        const g: CourseGrade = { user: this.users[u]!, item: node.id };
        const v = c.input[u]!;
        if (f & STORED_FINAL) {
          g.raw = null;
          g.final = v;
        } else g.raw = Number.isNaN(v) ? null : v;
        if (c.rawMin && !Number.isNaN(c.rawMin[u]!)) g.rawgrademin = c.rawMin[u]!;
        if (c.rawMax && !Number.isNaN(c.rawMax[u]!)) g.rawgrademax = c.rawMax[u]!;
        g.overridden = c.overridden && !Number.isNaN(c.overridden[u]!) ? c.overridden[u]! : null;
        g.excluded = (f & EXCLUDED) !== 0;
        g.hidden = f & CELL_HIDDEN ? true : (this.hiddenTime.get(key) ?? false);
        const lt = this.lockTime.get(key);
        if (f & CELL_LOCKED || lt !== undefined) g.locked = f & CELL_LOCKED ? true : lt!;
        const fb = this.feedback.get(key);
        if (fb !== undefined) g.feedback = fb;
        return g;
      }
    }
  }

  hasTimedLocks(): boolean {
    return (
      this.lockTime.size > 0 || this.course.nodes.some((n) => typeof n.locked === 'number' && n.locked > 1)
    );
  }

  toJsonSettings(): CourseJson['settings'] {
    return this.json.settings;
  }

  /** The document this engine was loaded from, with the current grade rows. */
  toJson(): CourseJson {
    return { ...this.json, grades: this.gradeRows() };
  }
}

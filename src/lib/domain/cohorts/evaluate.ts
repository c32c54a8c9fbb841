// Rule evaluation over a site index: broken checks, compiled per-user tests, matching sets, counts,
// live preview, plain-English summaries and "why does/doesn't this user match" (COH-E1..E7).
// Pure: time is the injected `now`; never reads a clock; never mutates the index.

import { ValidationError, jsonPath } from '../shared/errors.ts';
import type { SiteDocument } from '../interchange/site-json.ts';
import type { EvalContext, UserTest } from './conditions/types.ts';
import { defaultRegistry, type ConditionRegistry } from './registry.ts';
import { conditionsOf, parseRule, type ConditionNode, type Rule, type RuleNode } from './rule.ts';
import { SiteIndex } from './site-index.ts';
import { numericIdKey } from './ids.ts';

export interface EvalOptions {
  /** Evaluation time, unix seconds. */
  now: number;
  registry?: ConditionRegistry;
  /** Member sets that replace the index's (pending changes of rules processed earlier in the same run). */
  overlay?: ReadonlyMap<string, ReadonlySet<number>>;
}

export function makeContext(index: SiteIndex, rule: Pick<Rule, 'cohortId'>, opts: EvalOptions): EvalContext {
  const overlay = opts.overlay;
  return {
    index,
    now: opts.now,
    ruleCohortId: rule.cohortId,
    members: overlay
      ? (id) => overlay.get(id) ?? index.cohortMembers.get(id)
      : (id) => index.cohortMembers.get(id),
  };
}

/** Why a rule cannot be evaluated, naming the JSON path of the condition at fault; null if it can. */
export function ruleBrokenReason(index: SiteIndex, rule: Rule, opts: EvalOptions): string | null {
  const reg = opts.registry ?? defaultRegistry;
  const ctx = makeContext(index, rule, opts);
  for (const { node, at } of conditionsOf(rule)) {
    const t = reg.get(node.type);
    if (!t || node.config === undefined)
      return `${jsonPath(at, 'type')}: condition type "${node.type}" is not available`;
    const b = t.broken(node.config, ctx);
    if (b) return `${b.at === '' ? at : jsonPath(at, ...b.at.split('.').flatMap(splitIndex))}: ${b.message}`;
  }
  return null;
}

function splitIndex(seg: string): (string | number)[] {
  const m = /^(.*)\[(\d+)\]$/.exec(seg);
  return m ? [m[1]!, Number(m[2])] : [seg];
}

/** Why a rule cannot be processed into its cohort (adds: no cohort, cohort gone, no conditions). */
export function ruleProcessingProblem(index: SiteIndex, rule: Rule, opts: EvalOptions): string | null {
  if (rule.cohortId === null) return '$.cohortId: the rule has no cohort';
  if (!index.cohorts.has(rule.cohortId)) return `$.cohortId: cohort "${rule.cohortId}" does not exist`;
  const co = index.cohorts.get(rule.cohortId)!;
  if (co.component !== '' && co.component !== 'tool_dynamic_cohorts')
    return `$.cohortId: cohort "${rule.cohortId}" is owned by ${co.component}`;
  // The plugin empties the cohort of a rule with no conditions; we refuse instead.
  if (rule.root.children.length === 0) return '$.conditions: the rule has no conditions';
  return ruleBrokenReason(index, rule, opts);
}

export class RuleBrokenError extends Error {
  constructor(readonly reason: string) {
    super(`rule is broken: ${reason}`);
    this.name = 'RuleBrokenError';
  }
}

function compileNode(n: RuleNode, ctx: EvalContext, reg: ConditionRegistry): UserTest {
  if (n.kind === 'condition') return reg.get(n.type)!.compile(n.config, ctx);
  const parts = n.children.map((c) => compileNode(c, ctx, reg));
  let t: UserTest;
  // An empty group matches nobody (the plugin's rule with no conditions).
  if (parts.length === 0) t = () => false;
  else if (parts.length === 1) t = parts[0]!;
  else if (parts.length === 2) {
    const [a, b] = parts as [UserTest, UserTest];
    t = n.operator === 'AND' ? (p) => a(p) && b(p) : (p) => a(p) || b(p);
  } else
    t =
      n.operator === 'AND'
        ? (p) => {
            for (const f of parts) if (!f(p)) return false;
            return true;
          }
        : (p) => {
            for (const f of parts) if (f(p)) return true;
            return false;
          };
  if (!n.not) return t;
  const inner = t;
  return (p) => !inner(p);
}

/**
 * The rule as one per-user test, deleted users excluded after the whole tree (COH-E2). Throws
 * RuleBrokenError when any condition is broken (never "matches nobody" silently).
 */
export function compileRule(index: SiteIndex, rule: Rule, opts: EvalOptions): UserTest {
  const reason = ruleBrokenReason(index, rule, opts);
  if (reason) throw new RuleBrokenError(reason);
  const reg = opts.registry ?? defaultRegistry;
  const t = compileNode(rule.root, makeContext(index, rule, opts), reg);
  const users = index.users;
  return (p) => users[p]!.deleted !== 1 && t(p);
}

/** Positions of every matching user, in index order. */
export function matchingPositions(index: SiteIndex, rule: Rule, opts: EvalOptions): number[] {
  const test = compileRule(index, rule, opts);
  const out: number[] = [];
  const n = index.userCount;
  for (let p = 0; p < n; p++) if (test(p)) out.push(p);
  return out;
}

export { compareIds, numericIdKey } from './ids.ts';

/** Positions mapped to ids in compareIds order, using the index's precomputed id ranks. */
export function sortedIds(index: SiteIndex, positions: readonly number[]): string[] {
  const { rank, byRank } = index.idOrder(numericIdKey);
  // A counting pass over ranks instead of a comparison sort: O(users), no comparator calls.
  const marked = new Uint8Array(byRank.length);
  for (let i = 0; i < positions.length; i++) marked[rank[positions[i]!]!] = 1;
  const out: string[] = [];
  const users = index.users;
  for (let r = 0; r < marked.length; r++) if (marked[r] === 1) out.push(users[byRank[r]!]!.id);
  return out;
}

/** Sorted ids of the users the rule selects. */
export function matchingUserIds(index: SiteIndex, rule: Rule, opts: EvalOptions): string[] {
  return sortedIds(index, matchingPositions(index, rule, opts));
}

/** How many users match (the count shown before enabling, COH-L3). */
export function matchingCount(index: SiteIndex, rule: Rule, opts: EvalOptions): number {
  const test = compileRule(index, rule, opts);
  let k = 0;
  const n = index.userCount;
  for (let p = 0; p < n; p++) if (test(p)) k++;
  return k;
}

// ---------------------------------------------------------------------------------------------
// Live preview while editing: never throws; says what is wrong in words.

export interface Preview {
  /** Validation problems in the rule JSON (path + message); empty when it parsed. */
  problems: { at: string; message: string }[];
  /** Why the parsed rule cannot be evaluated here, or null. */
  broken: string | null;
  count: number;
  /** The first matching users (sorted ids), up to `sampleSize`. */
  sample: string[];
  summary: string[];
}

export function previewRule(
  index: SiteIndex,
  ruleJson: unknown,
  opts: EvalOptions & { sampleSize?: number },
): Preview {
  let rule: Rule;
  try {
    rule = parseRule(ruleJson, opts.registry ? { registry: opts.registry } : {});
  } catch (e) {
    if (e instanceof ValidationError)
      return { problems: [...e.problems], broken: null, count: 0, sample: [], summary: [] };
    throw e;
  }
  const summary = describeRule(rule, index, opts.registry);
  const broken = ruleBrokenReason(index, rule, opts);
  if (broken) return { problems: [], broken, count: 0, sample: [], summary };
  const ids = matchingUserIds(index, rule, opts);
  return {
    problems: [],
    broken: null,
    count: ids.length,
    sample: ids.slice(0, opts.sampleSize ?? 20),
    summary,
  };
}

// ---------------------------------------------------------------------------------------------
// Plain words.

function describeNode(n: RuleNode, index: SiteIndex | undefined, reg: ConditionRegistry): string {
  if (n.kind === 'condition') {
    const t = reg.get(n.type);
    return t && n.config !== undefined ? t.describe(n.config, index) : `Unknown condition type "${n.type}"`;
  }
  const inner = n.children.map((c) => describeNode(c, index, reg));
  const body =
    inner.length === 0 ? 'nobody' : inner.length === 1 ? inner[0]! : `(${inner.join(` ${n.operator} `)})`;
  return n.not ? `NOT ${body}` : body;
}

/** One line per top-level condition, joined by the rule's operator (COH-D1). */
export function describeRule(
  rule: Rule,
  index?: SiteIndex,
  registry: ConditionRegistry = defaultRegistry,
): string[] {
  const lines = rule.root.children.map(
    (c, i) => (i === 0 ? '' : `${rule.root.operator} `) + describeNode(c, index, registry),
  );
  if (lines.length === 0) return ['No conditions: matches nobody'];
  return rule.root.not ? ['NOT (', ...lines.map((l) => `  ${l}`), ')'] : lines;
}

// ---------------------------------------------------------------------------------------------
// "Would this user match, and which condition fails?"

export interface ExplainNode {
  /** JSON path of the node in the rule. */
  at: string;
  description: string;
  /** This node's own result for the user (after its NOT, if any). */
  result: boolean;
  children?: ExplainNode[];
}

export interface Explanation {
  userId: string;
  matches: boolean;
  /** Plain-English reason: which conditions decided it. */
  reason: string;
  deleted: boolean;
  tree: ExplainNode | null;
  /** Paths and descriptions of the conditions that made the rule fail (empty when it matches). */
  failing: { at: string; description: string }[];
  broken: string | null;
}

export function explainUser(index: SiteIndex, rule: Rule, userId: string, opts: EvalOptions): Explanation {
  const reg = opts.registry ?? defaultRegistry;
  const p = index.userPos.get(userId);
  if (p === undefined)
    throw new ValidationError([{ at: 'userId', message: `user "${userId}" does not exist` }]);
  const broken = ruleBrokenReason(index, rule, opts);
  const deleted = index.users[p]!.deleted === 1;
  if (broken)
    return {
      userId,
      matches: false,
      reason: `The rule is broken: ${broken}`,
      deleted,
      tree: null,
      failing: [],
      broken,
    };
  const ctx = makeContext(index, rule, opts);
  const walk = (n: RuleNode, at: string): ExplainNode => {
    if (n.kind === 'condition') {
      const result = reg.get(n.type)!.compile(n.config, ctx)(p);
      return { at, description: describeNode(n, index, reg), result };
    }
    const children = n.children.map((c, i) => walk(c, jsonPath(at, 'conditions', i)));
    let result = n.operator === 'AND' ? children.every((c) => c.result) : children.some((c) => c.result);
    if (children.length === 0) result = false;
    if (n.not) result = !result;
    return { at, description: describeNode(n, index, reg), result, children };
  };
  const tree = walk(rule.root, '$');
  const matches = tree.result && !deleted;
  const failing: { at: string; description: string }[] = [];
  if (!tree.result) collectFailing(tree, rule.root, failing);
  let reason: string;
  if (deleted) reason = 'The user is deleted; deleted users never match.';
  else if (matches) reason = 'The user meets the rule.';
  else if (rule.root.children.length === 0) reason = 'The rule has no conditions, so it matches nobody.';
  else reason = `The user does not meet: ${failing.map((f) => `${f.description} (${f.at})`).join('; ')}`;
  return { userId, matches, reason, deleted, tree, failing, broken: null };
}

/** Leaves responsible for a false result, following NOT: a negated group fails because its inside held. */
function collectFailing(n: ExplainNode, node: RuleNode, out: { at: string; description: string }[]): void {
  if (node.kind === 'condition' || !n.children) {
    out.push({ at: n.at, description: n.description });
    return;
  }
  if (node.not) {
    // NOT(group) is false because the group is true: the group itself is the reason.
    out.push({ at: n.at, description: n.description });
    return;
  }
  node.children.forEach((c, i) => {
    const e = n.children![i]!;
    if (!e.result) collectFailing(e, c, out);
  });
}

/** Convenience for one-off checks on a plain site document (builds a fresh index). */
export function matchSite(site: SiteDocument, rule: Rule, opts: EvalOptions): string[] {
  return matchingUserIds(new SiteIndex(site), rule, opts);
}

export type { ConditionNode };

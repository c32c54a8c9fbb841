// The rule model: a tree of AND/OR groups (optionally negated) over conditions, one rule per cohort,
// parsed from the spec's rule JSON and the rules file (COH-R2..R8). Pure: no clock, no storage.

import { ValidationError, jsonPath, type Problem } from '../shared/errors.ts';
import { describe as describeValue } from '../interchange/site-json.ts';
import { ConfigReader } from './conditions/read.ts';
import { defaultRegistry, type ConditionRegistry } from './registry.ts';

export type Operator = 'AND' | 'OR';

export interface ConditionNode {
  readonly kind: 'condition';
  readonly type: string;
  /** Parsed config; undefined when the type is not registered (the rule is then broken). */
  readonly config: unknown;
  /** The JSON as given (kept so an unknown type survives a round trip). */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface GroupNode {
  readonly kind: 'group';
  readonly operator: Operator;
  /** NOT of the whole group. */
  readonly not: boolean;
  readonly children: readonly RuleNode[];
}

export type RuleNode = ConditionNode | GroupNode;

export interface Rule {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly cohortId: string | null;
  /** The top group: the spec's `operator` and `conditions` (and our optional `not`). */
  readonly root: GroupNode;
  readonly enabled: boolean;
  /** Per-rule realtime switch (plugin default on); the global switch overrides it. */
  readonly realtime: boolean;
  /** Bulk mode: membership written in chunks without per-change events. */
  readonly bulk: boolean;
  readonly broken: boolean;
  readonly brokenReason: string | null;
}

const RULE_KEYS = [
  'id',
  'name',
  'description',
  'operator',
  'cohortId',
  'conditions',
  'not',
  'enabled',
  'realtime',
  'bulk',
  'broken',
  'brokenReason',
];
const GROUP_KEYS = ['type', 'operator', 'not', 'conditions'];
const OPERATORS: readonly Operator[] = ['AND', 'OR'];

function parseNodes(
  list: unknown,
  at: string,
  r: ConfigReader,
  reg: ConditionRegistry,
  depth: number,
): RuleNode[] {
  if (!Array.isArray(list)) {
    r.fail(
      at,
      list === undefined
        ? 'is required (an array of conditions)'
        : `must be an array, got ${describeValue(list)}`,
    );
    return [];
  }
  if (depth > 32) {
    r.fail(at, 'groups are nested more than 32 deep');
    return [];
  }
  const out: RuleNode[] = [];
  list.forEach((item, i) => {
    const p = jsonPath(at, i);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      r.fail(p, `must be a condition object, got ${describeValue(item)}`);
      return;
    }
    const o = item as Record<string, unknown>;
    const type = o['type'];
    if (typeof type !== 'string' || type === '') {
      r.fail(
        jsonPath(p, 'type'),
        type === undefined ? 'is required' : `must be a string, got ${describeValue(type)}`,
      );
      return;
    }
    if (type === 'group') {
      for (const k of Object.keys(o))
        if (!GROUP_KEYS.includes(k)) r.fail(jsonPath(p, k), `unknown field "${k}" in a group`);
      out.push(parseGroup(o, p, r, reg, depth + 1));
      return;
    }
    const t = reg.get(type);
    out.push({ kind: 'condition', type, config: t ? t.parse(o, r, p) : undefined, raw: { ...o } });
  });
  return out;
}

function parseGroup(
  o: Record<string, unknown>,
  at: string,
  r: ConfigReader,
  reg: ConditionRegistry,
  depth: number,
): GroupNode {
  const op = o['operator'];
  let operator: Operator = 'AND';
  if (typeof op === 'string' && (OPERATORS as readonly string[]).includes(op.toUpperCase()))
    operator = op.toUpperCase() as Operator;
  else
    r.fail(
      jsonPath(at, 'operator'),
      `${op === undefined ? 'is required' : `unknown operator ${describeValue(op)}`}; expected AND or OR`,
    );
  return {
    kind: 'group',
    operator,
    not: r.bool(o, 'not', at),
    children: parseNodes(o['conditions'], jsonPath(at, 'conditions'), r, reg, depth),
  };
}

export interface ParseRuleOptions {
  registry?: ConditionRegistry;
  /** Id to give a rule without one. */
  defaultId?: string;
  /** Whether a rule without `enabled` is enabled (false: rules are created disabled). */
  defaultEnabled?: boolean;
}

function parseRuleAt(input: unknown, at: string, r: ConfigReader, opts: ParseRuleOptions): Rule | undefined {
  const reg = opts.registry ?? defaultRegistry;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    r.fail(at, `must be a rule object, got ${describeValue(input)}`);
    return undefined;
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!RULE_KEYS.includes(k)) r.fail(jsonPath(at, k), `unknown field "${k}"`);
  const cohortId = o['cohortId'];
  // An absent cohortId reads as null (a rule being previewed before its cohort is chosen).
  if (cohortId !== null && cohortId !== undefined && (typeof cohortId !== 'string' || cohortId === ''))
    r.fail(jsonPath(at, 'cohortId'), `must be a cohort id or null, got ${describeValue(cohortId)}`);
  const id = o['id'] === undefined ? (opts.defaultId ?? 'rule') : o['id'];
  if (typeof id !== 'string' || id === '')
    r.fail(jsonPath(at, 'id'), `must be a non-empty string, got ${describeValue(id)}`);
  const str = (k: string): string => {
    const v = o[k];
    if (v === undefined) return '';
    if (typeof v !== 'string') {
      r.fail(jsonPath(at, k), `must be a string, got ${describeValue(v)}`);
      return '';
    }
    return v;
  };
  const flag = (k: string, dflt: boolean): boolean => (o[k] === undefined ? dflt : r.bool(o, k, at));
  const root = parseGroup(o, at, r, reg, 0);
  const broken = flag('broken', false);
  const brokenReason =
    o['brokenReason'] === undefined || o['brokenReason'] === null ? null : str('brokenReason');
  return {
    id: typeof id === 'string' ? id : '',
    name: str('name'),
    description: str('description'),
    cohortId: typeof cohortId === 'string' ? cohortId : null,
    root,
    // A broken rule is never enabled (plugin: marking broken disables).
    enabled: flag('enabled', opts.defaultEnabled ?? false) && !broken,
    realtime: flag('realtime', true),
    bulk: flag('bulk', false),
    broken,
    brokenReason: broken ? (brokenReason ?? 'marked broken') : null,
  };
}

/** Parses one rule object (the spec's `{operator, cohortId, conditions}` plus our optional fields). */
export function parseRule(input: unknown, opts: ParseRuleOptions = {}): Rule {
  const r = new ConfigReader();
  const rule = parseRuleAt(input, '$', r, opts);
  if (r.problems.length > 0 || !rule) throw new ValidationError(r.problems);
  return rule;
}

/**
 * Parses a rules file: an array of rule objects. Ids default to `rule-<n>` (1-based position);
 * ids must be unique and no two rules may manage the same cohort (COH-R4).
 */
export function parseRules(input: unknown, opts: ParseRuleOptions = {}): Rule[] {
  const r = new ConfigReader();
  if (!Array.isArray(input)) {
    throw new ValidationError([
      { at: '$', message: `must be an array of rules, got ${describeValue(input)}` },
    ]);
  }
  const rules: Rule[] = [];
  input.forEach((x, i) => {
    const rule = parseRuleAt(x, jsonPath('$', i), r, { ...opts, defaultId: `rule-${i + 1}` });
    if (rule) rules.push(rule);
  });
  r.problems.push(...ruleSetProblems(rules, (i) => jsonPath('$', i)));
  if (r.problems.length > 0) throw new ValidationError(r.problems);
  return rules;
}

/** Duplicate ids and two rules for one cohort. */
export function ruleSetProblems(rules: readonly Rule[], at: (i: number) => string): Problem[] {
  const problems: Problem[] = [];
  const ids = new Map<string, number>();
  const cohorts = new Map<string, number>();
  rules.forEach((rule, i) => {
    const prevId = ids.get(rule.id);
    if (prevId !== undefined)
      problems.push({
        at: jsonPath(at(i), 'id'),
        message: `duplicate rule id "${rule.id}" (also ${at(prevId)})`,
      });
    else ids.set(rule.id, i);
    if (rule.cohortId !== null) {
      const prev = cohorts.get(rule.cohortId);
      if (prev !== undefined)
        problems.push({
          at: jsonPath(at(i), 'cohortId'),
          message: `cohort "${rule.cohortId}" is already managed by rule "${rules[prev]!.id}"; one rule per cohort`,
        });
      else cohorts.set(rule.cohortId, i);
    }
  });
  return problems;
}

function nodeToJson(n: RuleNode): Record<string, unknown> {
  if (n.kind === 'condition') return { ...n.raw };
  const o: Record<string, unknown> = { type: 'group', operator: n.operator };
  if (n.not) o['not'] = true;
  o['conditions'] = n.children.map(nodeToJson);
  return o;
}

/** Re-serialises a node with its current config (canonical form) when the type is known. */
export function canonicalNode(
  n: RuleNode,
  reg: ConditionRegistry = defaultRegistry,
): Record<string, unknown> {
  if (n.kind === 'group') {
    const o: Record<string, unknown> = { type: 'group', operator: n.operator };
    if (n.not) o['not'] = true;
    o['conditions'] = n.children.map((c) => canonicalNode(c, reg));
    return o;
  }
  const t = reg.get(n.type);
  return t && n.config !== undefined ? { type: n.type, ...t.toJson(n.config) } : { ...n.raw };
}

/** The rule in the spec's interchange form: `{operator, cohortId, conditions}` (plus `not` when set). */
export function ruleToSpecJson(rule: Rule): Record<string, unknown> {
  const o: Record<string, unknown> = { operator: rule.root.operator, cohortId: rule.cohortId };
  if (rule.root.not) o['not'] = true;
  o['conditions'] = rule.root.children.map(nodeToJson);
  return o;
}

/** The rule as stored in a rules file (every field). */
export function ruleToJson(rule: Rule): Record<string, unknown> {
  return {
    id: rule.id,
    name: rule.name,
    description: rule.description,
    ...ruleToSpecJson(rule),
    enabled: rule.enabled,
    realtime: rule.realtime,
    bulk: rule.bulk,
    broken: rule.broken,
    brokenReason: rule.brokenReason,
  };
}

/** Every condition node with its JSON path, depth first. */
export function conditionsOf(rule: Rule): { node: ConditionNode; at: string }[] {
  const out: { node: ConditionNode; at: string }[] = [];
  const walk = (g: GroupNode, at: string): void =>
    g.children.forEach((c, i) => {
      const p = jsonPath(at, 'conditions', i);
      if (c.kind === 'condition') out.push({ node: c, at: p });
      else walk(c, p);
    });
  walk(rule.root, '$');
  return out;
}

// Rule lifecycle: create (disabled), edit (disables until reviewed), enable (refused when broken,
// showing the matching count), delete, one rule per cohort (COH-L1..L7). Pure: returns new rules.

import { ValidationError } from '../shared/errors.ts';
import { RULE_COMPONENT, type SiteCohort, type SiteDocument } from '../interchange/site-json.ts';
import { matchingCount, ruleProcessingProblem, type EvalOptions } from './evaluate.ts';
import { parseRule, ruleToSpecJson, type Rule } from './rule.ts';
import type { SiteIndex } from './site-index.ts';

function cohortProblem(
  rules: readonly Rule[],
  index: SiteIndex | undefined,
  cohortId: string | null,
  selfId: string | null,
): string | null {
  if (cohortId === null) return null;
  const other = rules.find((r) => r.cohortId === cohortId && r.id !== selfId);
  if (other) return `cohort "${cohortId}" is already managed by rule "${other.id}"; one rule per cohort`;
  const co = index?.cohorts.get(cohortId);
  if (index && !co) return `cohort "${cohortId}" does not exist`;
  if (co && co.component !== '' && co.component !== RULE_COMPONENT)
    return `cohort "${cohortId}" is owned by ${co.component}`;
  return null;
}

/**
 * Creates a rule from rule JSON (spec form plus id/name/...). New rules are always disabled and
 * not broken, whatever the input says. Throws ValidationError naming the path at fault.
 */
export function createRule(rules: readonly Rule[], input: unknown, index?: SiteIndex): Rule {
  const rule = parseRule(input);
  if (rules.some((r) => r.id === rule.id))
    throw new ValidationError([{ at: '$.id', message: `rule id "${rule.id}" is taken` }]);
  const p = cohortProblem(rules, index, rule.cohortId, null);
  if (p) throw new ValidationError([{ at: '$.cohortId', message: p }]);
  return { ...rule, enabled: false, broken: false, brokenReason: null };
}

/**
 * Applies an edit (any field of the rule JSON). Every save disables the rule until someone reviews
 * the count and enables it again, and clears the broken flag (a re-save is the only way to clear it).
 */
export function updateRule(
  rules: readonly Rule[],
  ruleId: string,
  patch: Record<string, unknown>,
  index?: SiteIndex,
): Rule {
  const current = rules.find((r) => r.id === ruleId);
  if (!current) throw new ValidationError([{ at: 'ruleId', message: `rule "${ruleId}" does not exist` }]);
  const base: Record<string, unknown> = {
    ...ruleToSpecJson(current),
    id: current.id,
    name: current.name,
    description: current.description,
    realtime: current.realtime,
    bulk: current.bulk,
  };
  const merged: Record<string, unknown> = { ...base, ...patch, id: current.id };
  delete merged['enabled'];
  delete merged['broken'];
  delete merged['brokenReason'];
  const rule = parseRule(merged);
  const p = cohortProblem(rules, index, rule.cohortId, ruleId);
  if (p) throw new ValidationError([{ at: '$.cohortId', message: p }]);
  return { ...rule, enabled: false, broken: false, brokenReason: null };
}

export type EnableOutcome =
  { ok: true; rule: Rule; count: number } | { ok: false; rule: Rule; reason: string };

/**
 * Enables a rule if it can be processed; a broken rule is flagged and stays disabled (the plugin's
 * toggle forces it off and errors). Enabling does not process: the caller schedules that.
 */
export function enableRule(rule: Rule, index: SiteIndex, opts: EvalOptions): EnableOutcome {
  const reason = ruleProcessingProblem(index, rule, opts);
  if (reason)
    return { ok: false, rule: { ...rule, enabled: false, broken: true, brokenReason: reason }, reason };
  return { ok: true, rule: { ...rule, enabled: true }, count: matchingCount(index, rule, opts) };
}

export function disableRule(rule: Rule): Rule {
  return { ...rule, enabled: false };
}

/** The per-rule realtime switch is a setting, not an edit of what the rule selects: it does not disable. */
export function setRuleRealtime(rule: Rule, on: boolean): Rule {
  return { ...rule, realtime: on };
}

export function setRuleBulk(rule: Rule, on: boolean): Rule {
  return { ...rule, bulk: on };
}

/**
 * Deletes rules all-or-nothing: every id must exist. The released cohorts keep their members (the
 * plugin's default; "release members" is not offered) and lose the engine as owner.
 */
export function deleteRules(
  rules: readonly Rule[],
  ids: readonly string[],
): { rules: Rule[]; releasedCohorts: string[] } {
  const problems = ids
    .map((id, i) =>
      rules.some((r) => r.id === id) ? null : { at: `$[${i}]`, message: `rule "${id}" does not exist` },
    )
    .filter((p): p is { at: string; message: string } => p !== null);
  if (problems.length) throw new ValidationError(problems);
  const gone = new Set(ids);
  return {
    rules: rules.filter((r) => !gone.has(r.id)),
    releasedCohorts: rules.filter((r) => gone.has(r.id) && r.cohortId !== null).map((r) => r.cohortId!),
  };
}

/**
 * Cohorts a rule may manage: unowned ones and those the engine already owns; with `unmanagedOnly`,
 * only unowned ones (what a new rule's cohort picker offers). Plugin: cohort_manager::get_cohorts.
 */
export function eligibleCohorts(site: SiteDocument, unmanagedOnly = false): SiteCohort[] {
  return site.cohorts.filter((c) => c.component === '' || (!unmanagedOnly && c.component === RULE_COMPONENT));
}

/** The site with the cohort marked as managed by the rules engine (plugin: cohort_manager::manage_cohort). */
export function manageCohort(site: SiteDocument, cohortId: string): SiteDocument {
  return setComponent(site, cohortId, RULE_COMPONENT);
}

/** The site with the cohort released; its members stay (plugin: cohort_manager::unmanage_cohort). */
export function unmanageCohort(site: SiteDocument, cohortId: string): SiteDocument {
  return setComponent(site, cohortId, '');
}

function setComponent(site: SiteDocument, cohortId: string, component: string): SiteDocument {
  if (!site.cohorts.some((c) => c.id === cohortId))
    throw new ValidationError([{ at: 'cohortId', message: `cohort "${cohortId}" does not exist` }]);
  return { ...site, cohorts: site.cohorts.map((c) => (c.id === cohortId ? { ...c, component } : c)) };
}

/**
 * Re-checks every rule against the site (after a course, field, cohort or condition type went away):
 * rules that can no longer be processed are flagged broken with the reason and disabled. Rules that
 * were broken stay broken until edited (COH-L2). Returns the rules and the newly broken ones.
 */
export function markBrokenRules(
  index: SiteIndex,
  rules: readonly Rule[],
  opts: EvalOptions,
): { rules: Rule[]; newlyBroken: { ruleId: string; reason: string }[] } {
  const newlyBroken: { ruleId: string; reason: string }[] = [];
  const out = rules.map((r) => {
    if (r.broken) return r;
    const reason = ruleProcessingProblem(index, r, opts);
    if (!reason) return r;
    newlyBroken.push({ ruleId: r.id, reason });
    return { ...r, broken: true, brokenReason: reason, enabled: false };
  });
  return { rules: out, newlyBroken };
}

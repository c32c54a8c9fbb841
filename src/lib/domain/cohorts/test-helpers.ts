// Small builders for cohort tests and benchmarks: a valid site from a few partial records, and rule JSON.
// Pure; used only by tests and benches, never by the engine.

import { parseSiteJson, type SiteDocument } from '../interchange/site-json.ts';
import { matchingUserIds } from './evaluate.ts';
import { parseRule } from './rule.ts';
import { SiteIndex } from './site-index.ts';

/** A user record with a username derived from its id. */
export function u(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, username: `user-${id}`, ...extra };
}

/** Validates partial collections into a site document (so tests exercise the real parser too). */
export function makeSite(parts: Record<string, unknown[]>): SiteDocument {
  return parseSiteJson(parts);
}

export function ruleJson(
  conditions: unknown[],
  operator: 'AND' | 'OR' = 'AND',
  cohortId: string | null = null,
): Record<string, unknown> {
  return { operator, cohortId, conditions };
}

/** Sorted ids matched by a rule (JSON form) on a site at time `now`. */
export function matchIds(site: SiteDocument | SiteIndex, rule: unknown, now = 1_767_225_600): string[] {
  const index = site instanceof SiteIndex ? site : new SiteIndex(site);
  return matchingUserIds(index, parseRule(rule), { now });
}

/** One condition on its own. */
export function matchOne(
  site: SiteDocument | SiteIndex,
  condition: Record<string, unknown>,
  now?: number,
  cohortId: string | null = null,
): string[] {
  return matchIds(site, ruleJson([condition], 'AND', cohortId), now);
}

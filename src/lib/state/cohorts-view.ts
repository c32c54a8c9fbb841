// What the cohorts screens show, computed from the site, the rules and the change log: the rules table rows,
// each cohort's members with why they are there, and small formatting helpers. Plain TypeScript; no storage.
import { describeRule, SiteIndex, type Rule } from '../domain/cohorts/index.ts';
import type { SiteDocument } from '../domain/interchange/site-json.ts';
import type { CohortLogRow } from '../workers/cohort-writes';

export type RuleCount = { count: number } | { broken: string };

export interface RuleRow {
  id: string;
  name: string;
  status: 'enabled' | 'disabled' | 'broken';
  /** Why a broken rule is broken (stored flag), or why it could not be evaluated now. */
  reason: string | null;
  cohortId: string | null;
  cohortName: string;
  /** The conditions in plain words, one line each (describeRule). */
  summary: string[];
  /** Users matching now; null while unknown or when the rule cannot be evaluated. */
  matching: number | null;
  /** Time of the latest logged membership change made by this rule (unix seconds). */
  lastRun: number | null;
}

export function ruleRows(
  site: SiteDocument,
  rules: readonly Rule[],
  counts: Readonly<Record<string, RuleCount>>,
  log: readonly CohortLogRow[],
): RuleRow[] {
  const index = new SiteIndex(site);
  const last = new Map<string, number>();
  for (const l of log) last.set(l.ruleId, Math.max(last.get(l.ruleId) ?? 0, l.time));
  return rules.map((r) => {
    const c = counts[r.id];
    const cohort = r.cohortId === null ? undefined : site.cohorts.find((co) => co.id === r.cohortId);
    const status: RuleRow['status'] = r.broken ? 'broken' : r.enabled ? 'enabled' : 'disabled';
    return {
      id: r.id,
      name: r.name || r.id,
      status,
      reason: r.broken ? r.brokenReason : c && 'broken' in c ? c.broken : null,
      cohortId: r.cohortId,
      cohortName: cohort
        ? cohort.name || cohort.id
        : r.cohortId === null
          ? '(no cohort)'
          : `${r.cohortId} (missing)`,
      summary: describeRule(r, index),
      matching: c && 'count' in c ? c.count : null,
      lastRun: last.get(r.id) ?? null,
    };
  });
}

export interface MemberRow {
  userId: string;
  name: string;
  /** The latest logged addition that explains membership, if the rules engine added this member. */
  ruleId: string | null;
  ruleName: string | null;
  reason: string;
  time: number | null;
}

/** A cohort's members, each with the rule, reason and time of the change that added them (latest wins). */
export function memberRows(
  site: SiteDocument,
  cohortId: string,
  rules: readonly Rule[],
  log: readonly CohortLogRow[],
): MemberRow[] {
  const cohort = site.cohorts.find((c) => c.id === cohortId);
  if (!cohort) return [];
  const added = new Map<string, CohortLogRow>();
  for (const l of log) {
    if (l.cohortId !== cohortId || l.action !== 'added') continue;
    const cur = added.get(l.userId);
    if (!cur || cur.time <= l.time) added.set(l.userId, l);
  }
  const users = new Map(site.users.map((u) => [u.id, u] as const));
  return cohort.members
    .map((userId) => {
      const u = users.get(userId);
      const l = added.get(userId);
      const rule = l ? rules.find((r) => r.id === l.ruleId) : undefined;
      return {
        userId,
        name: u ? `${u.firstname} ${u.lastname}`.trim() || u.username : userId,
        ruleId: l?.ruleId ?? null,
        ruleName: l ? rule?.name || l.ruleId : null,
        reason: l ? l.reason : 'Added by hand (no rule recorded)',
        time: l?.time ?? null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || (a.userId < b.userId ? -1 : 1));
}

/** The change log of one cohort, newest first. */
export function cohortHistory(log: readonly CohortLogRow[], cohortId: string): CohortLogRow[] {
  return log.filter((l) => l.cohortId === cohortId).sort((a, b) => b.time - a.time || (a.id < b.id ? -1 : 1));
}

/** A rule id not yet used (`rule-<n>`, the rules file's own default naming). */
export function newRuleId(taken: readonly string[]): string {
  const set = new Set(taken);
  let n = taken.length + 1;
  while (set.has(`rule-${n}`)) n++;
  return `rule-${n}`;
}

/** Unix seconds as a short UTC date-time for tables ("2026-09-01 14:05 UTC"); '—' for none. */
export function formatTime(t: number | null): string {
  if (t === null || !Number.isFinite(t) || t <= 0) return '—';
  return `${new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Whole percent done for a progress bar (0 when the total is unknown). */
export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
}

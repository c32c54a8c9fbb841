// Scheduled / "process now" processing of every enabled rule: dependency order, cycle reports,
// membership diffs computed in chunks that yield (progress + cancel), and a change log (COH-P1..P7).
// Pure: returns the changes; never writes storage. A broken or failing rule never touches its cohort.

import { CancelledError, type JobOptions } from '../shared/cancel.ts';
import { RULE_COMPONENT, type SiteDocument } from '../interchange/site-json.ts';
import type { EvalContext } from './conditions/types.ts';
import {
  compileRule,
  numericIdKey,
  makeContext,
  ruleProcessingProblem,
  sortedIds,
  type EvalOptions,
} from './evaluate.ts';
import { defaultRegistry } from './registry.ts';
import { conditionsOf, type Rule } from './rule.ts';
import type { SiteIndex } from './site-index.ts';

/** Membership change of one cohort by one rule (ids sorted). */
export interface MembershipChange {
  cohortId: string;
  ruleId: string;
  added: string[];
  removed: string[];
  /** Bulk rules are written in chunks without per-change membership events (plugin bulk mode). */
  bulk: boolean;
  /** When and why, for the change log (one record per change, expanded by `logEntries`). */
  time: number;
  reasonAdded: string;
  reasonRemoved: string;
}

/** One recorded membership change: who, which cohort, by which rule, why and when. */
export interface MembershipLogEntry {
  time: number;
  ruleId: string;
  cohortId: string;
  userId: string;
  action: 'added' | 'removed';
  reason: string;
}

export interface ProcessOptions extends EvalOptions, JobOptions {
  /** Users (or changes) handled between two yields; 5,000 keeps a chunk to a few milliseconds. */
  chunkSize?: number;
  /** Called between chunks; a worker passes `() => new Promise(r => setTimeout(r))` so the UI can paint. */
  yieldControl?: () => Promise<void>;
  /** Words for the log's reason ("scheduled processing", "process now"). */
  trigger?: string;
  /** Only these rule ids (e.g. "process now" on one rule); default every enabled rule. */
  only?: readonly string[];
}

export interface ProcessResult {
  /** One entry per processed rule, in processing order (dependencies first). */
  changes: MembershipChange[];
  /** The rules with broken flags updated (a newly broken rule is also disabled). */
  rules: Rule[];
  /** Rules not processed and why (broken, cycle, failure). Their cohorts were left untouched. */
  broken: { ruleId: string; reason: string }[];
  /** Rules not processed this time without being marked broken (disabled, already broken, waiting on a cycle). */
  skipped: { ruleId: string; reason: string }[];
  /** Each dependency cycle as rule ids (first repeated at the end). */
  cycles: string[][];
  order: string[];
}

/** Default chunk: small enough that a chunk stays well under a 16 ms frame on a slow laptop. */
export const DEFAULT_CHUNK = 5000;

/**
 * Processes every enabled, non-broken rule (or `only` those) against the index. The index is not
 * changed: pending memberships of earlier rules are overlaid so dependents see them. On cancel a
 * CancelledError is thrown and nothing is returned, so nothing is half-applied.
 */
export async function processRules(
  index: SiteIndex,
  rules: readonly Rule[],
  opts: ProcessOptions,
): Promise<ProcessResult> {
  const chunk = Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK);
  const trigger = opts.trigger ?? 'scheduled processing';
  const overlay = new Map<string, Set<number>>();
  const evalOpts: EvalOptions = { now: opts.now, registry: opts.registry ?? defaultRegistry, overlay };
  const brokenList: { ruleId: string; reason: string }[] = [];
  const newlyBroken = new Map<string, string>();
  const candidates = rules.filter((r) => r.enabled && !r.broken && (!opts.only || opts.only.includes(r.id)));

  const ok: Rule[] = [];
  for (const r of candidates) {
    const problem = ruleProcessingProblem(index, r, evalOpts);
    if (problem) {
      brokenList.push({ ruleId: r.id, reason: problem });
      newlyBroken.set(r.id, problem);
    } else ok.push(r);
  }

  const { order, cycles, blocked } = dependencyOrder(index, ok, evalOpts);
  const skipped = blocked.map((ruleId) => ({ ruleId, reason: 'depends on a rule in a dependency cycle' }));
  for (const cyc of cycles) {
    const reason = `dependency cycle: ${cyc.join(' -> ')}`;
    for (const id of new Set(cyc)) {
      if (!newlyBroken.has(id)) {
        brokenList.push({ ruleId: id, reason });
        newlyBroken.set(id, reason);
      }
    }
  }
  const toRun = order.filter((r) => !newlyBroken.has(r.id));
  for (const r of rules)
    if ((!r.enabled || r.broken) && (!opts.only || opts.only.includes(r.id)))
      skipped.push({ ruleId: r.id, reason: r.broken ? `broken: ${r.brokenReason ?? ''}` : 'disabled' });

  const n = index.userCount;
  const total = toRun.length * n;
  let done = 0;
  let sinceYield = 0;
  const pause = async (units: number): Promise<void> => {
    sinceYield += units;
    if (sinceYield < chunk) return;
    sinceYield = 0;
    opts.onProgress?.(done, total);
    if (opts.yieldControl) await opts.yieldControl();
    if (opts.cancel?.cancelled) throw new CancelledError('cohort processing');
  };

  // Id ranks are built once per index, as a step of its own between two yields.
  if (toRun.length) {
    index.idOrder(numericIdKey);
    await pause(chunk);
  }
  const changes: MembershipChange[] = [];
  for (const rule of toRun) {
    const cohortId = rule.cohortId!;
    let matched: Set<number>;
    try {
      const test = compileRule(index, rule, evalOpts);
      matched = new Set<number>();
      for (let start = 0; start < n; start += chunk) {
        const end = Math.min(n, start + chunk);
        for (let p = start; p < end; p++) if (test(p)) matched.add(p);
        done += end - start;
        await pause(end - start);
      }
    } catch (e) {
      if (e instanceof CancelledError) throw e;
      // The plugin returns an empty set here and so empties the cohort; we leave it untouched.
      const reason = `matching failed: ${e instanceof Error ? e.message : String(e)}`;
      brokenList.push({ ruleId: rule.id, reason });
      newlyBroken.set(rule.id, reason);
      continue;
    }
    const current = overlay.get(cohortId) ?? index.cohortMembers.get(cohortId) ?? new Set<number>();
    const added: number[] = [];
    const removed: number[] = [];
    let k = 0;
    for (const p of matched) {
      if (!current.has(p)) added.push(p);
      if (++k % chunk === 0) await pause(chunk);
    }
    for (const p of current) {
      if (!matched.has(p)) removed.push(p);
      if (++k % chunk === 0) await pause(chunk);
    }
    const addedIds = sortedIds(index, added);
    await pause(added.length);
    const removedIds = sortedIds(index, removed);
    await pause(removed.length);
    overlay.set(cohortId, matched);
    changes.push({
      cohortId,
      ruleId: rule.id,
      added: addedIds,
      removed: removedIds,
      bulk: rule.bulk,
      time: opts.now,
      reasonAdded: `${trigger}: now matches rule "${rule.name || rule.id}"`,
      reasonRemoved: `${trigger}: no longer matches rule "${rule.name || rule.id}"`,
    });
  }
  opts.onProgress?.(total, total);

  const outRules = rules.map((r) => {
    const reason = newlyBroken.get(r.id);
    return reason ? { ...r, broken: true, brokenReason: reason, enabled: false } : r;
  });
  return { changes, rules: outRules, broken: brokenList, skipped, cycles, order: toRun.map((r) => r.id) };
}

/**
 * Rules ordered so a rule that reads another rule's cohort comes after it (Kahn's algorithm, stable
 * in input order); rules on a cycle are returned separately as cycles.
 */
export function dependencyOrder(
  index: SiteIndex,
  rules: readonly Rule[],
  opts: EvalOptions,
): { order: Rule[]; cycles: string[][]; blocked: string[] } {
  const reg = opts.registry ?? defaultRegistry;
  const byCohort = new Map<string, Rule>();
  for (const r of rules) if (r.cohortId !== null) byCohort.set(r.cohortId, r);
  const deps = new Map<string, string[]>();
  for (const r of rules) {
    const ctx: EvalContext = makeContext(index, r, opts);
    const ds = new Set<string>();
    for (const { node } of conditionsOf(r)) {
      const t = reg.get(node.type);
      if (!t?.cohortsRead || node.config === undefined) continue;
      for (const cid of t.cohortsRead(node.config, ctx)) {
        const d = byCohort.get(cid);
        if (d && d.id !== r.id) ds.add(d.id);
      }
    }
    deps.set(r.id, [...ds]);
  }
  const indeg = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const r of rules) indeg.set(r.id, deps.get(r.id)!.length);
  for (const r of rules)
    for (const d of deps.get(r.id)!) dependents.set(d, [...(dependents.get(d) ?? []), r.id]);
  const byId = new Map(rules.map((r) => [r.id, r] as const));
  const order: Rule[] = [];
  const ready = rules.filter((r) => indeg.get(r.id) === 0).map((r) => r.id);
  const pos = new Map(rules.map((r, i) => [r.id, i] as const));
  while (ready.length) {
    ready.sort((a, b) => pos.get(a)! - pos.get(b)!);
    const id = ready.shift()!;
    order.push(byId.get(id)!);
    for (const dep of dependents.get(id) ?? []) {
      const k = indeg.get(dep)! - 1;
      indeg.set(dep, k);
      if (k === 0) ready.push(dep);
    }
  }
  const left = new Set(rules.filter((r) => !order.includes(r)).map((r) => r.id));
  const cycles: string[][] = [];
  const seen = new Set<string>();
  for (const start of rules.map((r) => r.id).filter((id) => left.has(id))) {
    if (seen.has(start)) continue;
    // Walk dependencies inside the leftover set until a node repeats: that is a cycle.
    const path: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !path.includes(cur)) {
      path.push(cur);
      cur = deps.get(cur)!.find((d) => left.has(d));
    }
    if (cur !== undefined) {
      const cyc = [...path.slice(path.indexOf(cur)), cur];
      if (!cyc.some((id) => seen.has(id))) cycles.push(cyc);
      for (const id of cyc) seen.add(id);
    }
    // Rules that only depend on a cycle are also left over: they wait for it, reported with it.
    for (const id of path) seen.add(id);
  }
  // Leftovers not on a cycle themselves wait on one.
  const blocked = [...left].filter((id) => !cycles.some((c) => c.includes(id)));
  return { order, cycles, blocked };
}

/**
 * The site document with the changes applied: members removed and added (new members appended in
 * id order), and each processed cohort marked as owned by the rules engine. Returns a new site document (the input is left as it was)
 */
export function applyChanges(site: SiteDocument, changes: readonly MembershipChange[]): SiteDocument {
  const byCohort = new Map(changes.map((c) => [c.cohortId, c] as const));
  return {
    ...site,
    cohorts: site.cohorts.map((co) => {
      const ch = byCohort.get(co.id);
      if (!ch) return co;
      const gone = new Set(ch.removed);
      return {
        ...co,
        component: RULE_COMPONENT,
        members: [...co.members.filter((m) => !gone.has(m)), ...ch.added],
      };
    }),
  };
}

/**
 * The change log as one record per membership change: rule, cohort, user, action, reason, time.
 * Kept compact inside MembershipChange (a 50,000-member change is one object, not 50,000).
 */
export function* logEntries(changes: readonly MembershipChange[]): Generator<MembershipLogEntry> {
  for (const c of changes) {
    for (const userId of c.added)
      yield {
        time: c.time,
        ruleId: c.ruleId,
        cohortId: c.cohortId,
        userId,
        action: 'added',
        reason: c.reasonAdded,
      };
    for (const userId of c.removed)
      yield {
        time: c.time,
        ruleId: c.ruleId,
        cohortId: c.cohortId,
        userId,
        action: 'removed',
        reason: c.reasonRemoved,
      };
  }
}

/** Chunks of a change for adapters that write bulk changes in slices (plugin: 10,000 per write). */
export function* changeChunks(
  change: MembershipChange,
  size = 10_000,
): Generator<{ added: string[]; removed: string[] }> {
  for (let i = 0; i < change.removed.length; i += size)
    yield { added: [], removed: change.removed.slice(i, i + size) };
  for (let i = 0; i < change.added.length; i += size)
    yield { added: change.added.slice(i, i + size), removed: [] };
}

// Writes a dynamic-cohort processing result into the site Yjs document: membership changes in chunks, one
// `cohortLog` row per change (rule, reason, time), managed-cohort marks and updated rule flags. Shared by the
// page ("Process now") and the sync server's scheduled job. Yjs + domain only: never touches the DOM or Node.
import * as Y from 'yjs';
import type { Actor } from '../crdt/course-doc.ts';
import { docToSiteJson, setCohortMembers, siteCollection, type SiteRow } from '../crdt/site-doc.ts';
import {
  changeChunks,
  deleteRules,
  parseRules,
  ruleToJson,
  type MembershipChange,
  type MembershipLogEntry,
  type Rule,
} from '../domain/cohorts/index.ts';
import { RULE_COMPONENT, type SiteDocument } from '../domain/interchange/site-json.ts';

/** Extra site collections the cohorts feature keeps: the rules and the membership change log. */
export const RULES_COLLECTION = 'rules';
export const LOG_COLLECTION = 'cohortLog';

/** One stored change-log row (a MembershipLogEntry with a key). */
export interface CohortLogRow extends MembershipLogEntry {
  id: string;
}

/** Key of a log row: the same change written twice (a retried chunk) lands on the same key. */
export function logRowId(e: MembershipLogEntry): string {
  return `${e.time}:${e.action}:${e.cohortId}:${e.userId}`;
}

/** Reads the site, its rules (parsed; bad rows reported, not thrown) and the change log from the document. */
export function readSiteState(doc: Y.Doc): {
  site: SiteDocument;
  rules: Rule[];
  ruleProblems: { at: string; message: string }[];
  log: CohortLogRow[];
} {
  const { site, extra } = docToSiteJson(doc, [RULES_COLLECTION, LOG_COLLECTION]);
  let rules: Rule[] = [];
  let ruleProblems: { at: string; message: string }[] = [];
  try {
    rules = parseRules(extra[RULES_COLLECTION] ?? []);
  } catch (e) {
    const problems = (e as { problems?: { at: string; message: string }[] }).problems;
    if (!problems) throw e;
    ruleProblems = problems;
    // keep every rule row that parses on its own, so one bad row does not hide the rest
    for (const row of extra[RULES_COLLECTION] ?? []) {
      try {
        rules.push(...parseRules([row]));
      } catch {
        /* reported above */
      }
    }
  }
  const log = (extra[LOG_COLLECTION] ?? []) as unknown as CohortLogRow[];
  return { site, rules, ruleProblems, log };
}

/** Stores one rule row (whole-row last-writer-wins) with origin `actor`. */
export function writeRule(doc: Y.Doc, rule: Rule, actor: Actor): void {
  doc.transact(() => siteCollection(doc, RULES_COLLECTION).set(rule.id, ruleToJson(rule) as SiteRow), actor);
}

/**
 * Deletes rules all-or-nothing (every id must exist, COH-L4) in one transaction; their cohorts keep their members
 * and stop being owned by the rules engine (plugin: cohort_manager::unmanage_cohort). Returns the released cohorts.
 */
export function deleteRulesFromDoc(
  doc: Y.Doc,
  rules: readonly Rule[],
  ids: readonly string[],
  actor: Actor,
): string[] {
  const { releasedCohorts } = deleteRules(rules, ids);
  const stored = siteCollection(doc, RULES_COLLECTION);
  const cohorts = siteCollection(doc, 'cohorts');
  doc.transact(() => {
    for (const id of ids) stored.delete(id);
    for (const id of releasedCohorts) {
      const row = cohorts.get(id);
      if (row && row['component'] === RULE_COMPONENT) cohorts.set(id, { ...row, component: '' });
    }
  }, actor);
  return releasedCohorts;
}

export interface WriteOptions {
  actor: Actor;
  /** Users per transaction (Moodle's bulk slice is 10,000; smaller keeps each sync message small). */
  chunkSize?: number;
  /** Called after each chunk with changes written so far and the total (users). */
  onProgress?(done: number, total: number): void;
  /** Runs between chunks so the host stays responsive (the page paints, the server serves). */
  pause?(): Promise<void>;
}

/**
 * Applies processing results to the document: for each change, its cohort is marked managed, then its
 * removals and additions are written chunk by chunk, each chunk in one transaction together with its log
 * rows; finally rules that processing found broken are flagged (and disabled). Returns the number of users changed.
 */
export async function writeProcessResult(
  doc: Y.Doc,
  result: { changes: readonly MembershipChange[]; rules: readonly Rule[] },
  opts: WriteOptions,
): Promise<number> {
  const total = result.changes.reduce((n, c) => n + c.added.length + c.removed.length, 0);
  const cohorts = siteCollection(doc, 'cohorts');
  const log = siteCollection(doc, LOG_COLLECTION);
  let done = 0;
  for (const change of result.changes) {
    const cohort = cohorts.get(change.cohortId);
    if (!cohort) continue; // deleted meanwhile by someone else: nothing to manage any more
    if (cohort['component'] !== RULE_COMPONENT)
      doc.transact(() => cohorts.set(change.cohortId, { ...cohort, component: RULE_COMPONENT }), opts.actor);
    for (const chunk of changeChunks(change, opts.chunkSize ?? 10_000)) {
      doc.transact(() => {
        const written = setCohortMembers(doc, change.cohortId, chunk, opts.actor);
        const rows: MembershipLogEntry[] = [
          ...written.added.map((userId) => entry(change, userId, 'added')),
          ...written.removed.map((userId) => entry(change, userId, 'removed')),
        ];
        for (const r of rows) log.set(logRowId(r), { id: logRowId(r), ...r });
      }, opts.actor);
      done += chunk.added.length + chunk.removed.length;
      opts.onProgress?.(done, total);
      if (opts.pause) await opts.pause();
    }
  }
  const stored = siteCollection(doc, RULES_COLLECTION);
  doc.transact(() => {
    for (const r of result.rules) {
      const cur = stored.get(r.id);
      // Only the flag processing can set is written: newly broken (and so disabled). Anything else in the
      // stored row may be a newer edit by a person, which must win.
      if (!cur || !r.broken || cur['broken'] === true) continue;
      stored.set(r.id, { ...cur, broken: true, brokenReason: r.brokenReason, enabled: false });
    }
  }, opts.actor);
  return total;
}

/**
 * Deletes change-log rows older than `beforeTime` (unix seconds) in one transaction and returns how many went. The
 * log lives in the site document every device loads, so it is kept for a retention period, not for ever.
 */
export function trimCohortLog(doc: Y.Doc, beforeTime: number, actor: Actor): number {
  const log = siteCollection(doc, LOG_COLLECTION);
  const old: string[] = [];
  for (const [key, row] of log.entries()) if (typeof row['time'] === 'number' && row['time'] < beforeTime) old.push(key);
  if (old.length) doc.transact(() => old.forEach((k) => log.delete(k)), actor);
  return old.length;
}

function entry(c: MembershipChange, userId: string, action: 'added' | 'removed'): MembershipLogEntry {
  return {
    time: c.time,
    ruleId: c.ruleId,
    cohortId: c.cohortId,
    userId,
    action,
    reason: action === 'added' ? c.reasonAdded : c.reasonRemoved,
  };
}

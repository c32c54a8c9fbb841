// The cohort engine a worker or the sync server keeps per site: realtime re-checks of one user on
// site events (global and per-rule switches), cascades through dependent rules, and full processing
// (COH-P1..P8). Pure: `now` is passed in; the engine only changes its own index and rule list.

import type {
  RoleAssignment,
  SiteCompletion,
  SiteDocument,
  SiteEnrolment,
  SiteQuizGrade,
  SiteUser,
} from '../interchange/site-json.ts';
import type { SiteEventType } from './conditions/types.ts';
import { compileRule, RuleBrokenError } from './evaluate.ts';
import { processRules, type MembershipLogEntry, type ProcessOptions, type ProcessResult } from './process.ts';
import { defaultRegistry, type ConditionRegistry } from './registry.ts';
import { conditionsOf, type Rule } from './rule.ts';
import { SiteIndex } from './site-index.ts';

export type SiteEvent =
  | { type: 'user_created' | 'user_updated'; user: SiteUser }
  | { type: 'user_deleted'; userId: string }
  | { type: 'user_loggedin'; userId: string; time: number }
  | { type: 'user_enrolment_created' | 'user_enrolment_updated'; enrolment: SiteEnrolment }
  | { type: 'user_enrolment_deleted'; userId: string; courseId: string; method: string | null }
  | { type: 'role_assigned' | 'role_unassigned'; assignment: RoleAssignment }
  | { type: 'course_completed' | 'course_completion_updated'; completion: SiteCompletion }
  | { type: 'cohort_member_added' | 'cohort_member_removed'; cohortId: string; userId: string }
  | { type: 'quiz_graded'; grade: SiteQuizGrade };

export interface EngineSettings {
  /** Global realtime switch (plugin setting, default on); overrides each rule's own switch. */
  realtime: boolean;
}

export interface RealtimeResult {
  /** Membership changes made, in order (cascades included). */
  changes: MembershipLogEntry[];
  /** Rules re-checked for the user. */
  checked: number;
  /** Rules that could not be checked, and why; their cohorts were not touched. */
  broken: { ruleId: string; reason: string }[];
}

/** The user an event is about (the user re-checked by the engine). */
export function eventUserId(e: SiteEvent): string {
  switch (e.type) {
    case 'user_created':
    case 'user_updated':
      return e.user.id;
    case 'user_enrolment_created':
    case 'user_enrolment_updated':
      return e.enrolment.userId;
    case 'role_assigned':
    case 'role_unassigned':
      return e.assignment.userId;
    case 'course_completed':
    case 'course_completion_updated':
      return e.completion.userId;
    case 'quiz_graded':
      return e.grade.userId;
    default:
      return e.userId;
  }
}

export class CohortEngine {
  readonly index: SiteIndex;
  private rulesList: Rule[] = [];
  private listeners = new Map<SiteEventType, Rule[]>();
  settings: EngineSettings;
  readonly registry: ConditionRegistry;

  constructor(
    site: SiteDocument | SiteIndex,
    rules: readonly Rule[],
    settings: Partial<EngineSettings> = {},
    registry = defaultRegistry,
  ) {
    this.index = site instanceof SiteIndex ? site : new SiteIndex(site);
    this.settings = { realtime: settings.realtime ?? true };
    this.registry = registry;
    this.setRules(rules);
  }

  get rules(): readonly Rule[] {
    return this.rulesList;
  }

  /** Replaces the rule list and rebuilds the event -> rules cache (the plugin caches this too). */
  setRules(rules: readonly Rule[]): void {
    this.rulesList = [...rules];
    this.listeners = new Map();
    for (const r of this.rulesList) {
      const events = new Set<SiteEventType>();
      for (const { node } of conditionsOf(r))
        for (const ev of this.registry.get(node.type)?.events ?? []) events.add(ev);
      for (const ev of events) this.listeners.set(ev, [...(this.listeners.get(ev) ?? []), r]);
    }
  }

  /** Rules whose conditions listen to this event type. */
  rulesFor(type: SiteEventType): readonly Rule[] {
    return this.listeners.get(type) ?? [];
  }

  private applyData(e: SiteEvent): void {
    const ix = this.index;
    switch (e.type) {
      case 'user_created':
      case 'user_updated':
        ix.putUser(e.user);
        break;
      case 'user_deleted': {
        const p = ix.userPos.get(e.userId);
        if (p !== undefined) ix.putUser({ ...ix.users[p]!, deleted: 1 });
        break;
      }
      case 'user_loggedin': {
        const p = ix.userPos.get(e.userId);
        if (p !== undefined) ix.putUser({ ...ix.users[p]!, lastlogin: e.time, lastaccess: e.time });
        break;
      }
      case 'user_enrolment_created':
      case 'user_enrolment_updated':
        ix.addEnrolment(e.enrolment);
        break;
      case 'user_enrolment_deleted':
        ix.removeEnrolment(e.userId, e.courseId, e.method);
        break;
      case 'role_assigned':
        ix.addRole(e.assignment);
        break;
      case 'role_unassigned':
        ix.removeRole(e.assignment);
        break;
      case 'course_completed':
      case 'course_completion_updated':
        ix.setCompletion(e.completion);
        break;
      case 'cohort_member_added':
      case 'cohort_member_removed':
        ix.setMember(e.cohortId, e.userId, e.type === 'cohort_member_added');
        break;
      case 'quiz_graded':
        ix.setQuizGrade(e.grade.quizId, e.grade.userId, e.grade.grade);
        break;
    }
  }

  /**
   * Applies the event's data to the index, then (if realtime is on) re-checks only the event's user
   * against the enabled realtime rules that listen to it, adding or removing that one user. Each
   * membership change is itself a cohort-member event, so dependent rules follow in the same call.
   */
  handleEvent(event: SiteEvent, now: number): RealtimeResult {
    this.applyData(event);
    const result: RealtimeResult = { changes: [], checked: 0, broken: [] };
    if (!this.settings.realtime) return result;
    const userId = eventUserId(event);
    const p = this.index.userPos.get(userId);
    if (p === undefined) return result;
    const queue: SiteEventType[] = [event.type];
    const deleted = this.index.users[p]!.deleted === 1;
    // Bound the cascade: each rule can change this user at most once per step along a chain.
    let budget = (this.rulesList.length + 1) * 2;
    while (queue.length && budget-- > 0) {
      const type = queue.shift()!;
      // A new user has never been evaluated and a deleted one must leave every cohort: all rules
      // re-check them. Deviation: the plugin asks only rules whose condition types listen to the event.
      const everyRule =
        type === 'user_created' || (deleted && (type === 'user_deleted' || type === 'user_updated'));
      const rules = everyRule ? this.rulesList : this.rulesFor(type);
      for (const rule of rules) {
        if (!rule.enabled || rule.broken || !rule.realtime || rule.cohortId === null) continue;
        const members = this.index.cohortMembers.get(rule.cohortId);
        if (!members) {
          result.broken.push({
            ruleId: rule.id,
            reason: `$.cohortId: cohort "${rule.cohortId}" does not exist`,
          });
          continue;
        }
        let match: boolean;
        try {
          match = compileRule(this.index, rule, { now, registry: this.registry })(p);
        } catch (e) {
          result.broken.push({
            ruleId: rule.id,
            reason: e instanceof RuleBrokenError ? e.reason : String(e),
          });
          continue;
        }
        result.checked++;
        if (match === members.has(p)) continue;
        if (match) members.add(p);
        else members.delete(p);
        result.changes.push({
          time: now,
          ruleId: rule.id,
          cohortId: rule.cohortId,
          userId,
          action: match ? 'added' : 'removed',
          reason: `realtime (${type}): ${match ? 'now matches' : 'no longer matches'} rule "${rule.name || rule.id}"`,
        });
        queue.push(match ? 'cohort_member_added' : 'cohort_member_removed');
      }
    }
    return result;
  }

  /** Full processing ("process now" or the scheduled job); the results are applied to this engine. */
  async process(opts: ProcessOptions): Promise<ProcessResult> {
    const result = await processRules(this.index, this.rulesList, { registry: this.registry, ...opts });
    for (const ch of result.changes) {
      const set = this.index.cohortMembers.get(ch.cohortId)!;
      for (const id of ch.removed) set.delete(this.index.userPos.get(id)!);
      for (const id of ch.added) set.add(this.index.userPos.get(id)!);
    }
    this.setRules(result.rules);
    return result;
  }
}

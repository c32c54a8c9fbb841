// The contract every condition type implements, so new types plug in through the registry (COH-R1).
// Types only plus the event names; never imports a concrete condition.

import type { SiteIndex } from '../site-index.ts';
import type { ConfigReader } from './read.ts';

/** Site events that can trigger a realtime re-check of one user (COH-P5). */
export const SITE_EVENT_TYPES = [
  'user_created',
  'user_updated',
  'user_deleted',
  'user_loggedin',
  'user_enrolment_created',
  'user_enrolment_updated',
  'user_enrolment_deleted',
  'role_assigned',
  'role_unassigned',
  'course_completed',
  'course_completion_updated',
  'cohort_member_added',
  'cohort_member_removed',
  'quiz_graded',
] as const;
export type SiteEventType = (typeof SITE_EVENT_TYPES)[number];

/** What a condition may read while it is compiled for one evaluation. */
export interface EvalContext {
  readonly index: SiteIndex;
  /** Evaluation time, unix seconds (injected; never read from a clock). */
  readonly now: number;
  /** The cohort the rule manages (excluded from cohort_field matches, forbidden in cohort_membership). */
  readonly ruleCohortId: string | null;
  /** Current members of a cohort as user positions (processing overlays pending changes here). */
  members(cohortId: string): ReadonlySet<number> | undefined;
}

/** Why a condition is broken: `at` is the key inside the condition at fault ('' = the whole condition). */
export interface Broken {
  readonly at: string;
  readonly message: string;
}

export const broken = (at: string, message: string): Broken => ({ at, message });

/** Tests one user, by position in the index. */
export type UserTest = (pos: number) => boolean;

export interface ConditionType<C = unknown> {
  /** The `type` value in rule JSON. */
  readonly type: string;
  /** Display name for pickers. */
  readonly label: string;
  /** Events after which a user's match may have changed. */
  readonly events: readonly SiteEventType[];
  /** Validates the condition's JSON (excluding `type`); records problems on the reader with JSON paths. */
  parse(raw: Record<string, unknown>, r: ConfigReader, at: string): C;
  /** Why the condition cannot be evaluated against this site (missing course, field, ...), or null. */
  broken(c: C, ctx: EvalContext): Broken | null;
  /** A per-user test; only called when `broken` returned null. Build indexes here, not per user. */
  compile(c: C, ctx: EvalContext): UserTest;
  /** One plain-English line: "Users who ...". The index may be absent (no site at hand). */
  describe(c: C, index: SiteIndex | undefined): string;
  /** Cohorts this condition reads membership of (for dependency ordering). */
  cohortsRead?(c: C, ctx: EvalContext): string[];
  /** Serialises the config back to rule JSON (without `type`). */
  toJson(c: C): Record<string, unknown>;
}

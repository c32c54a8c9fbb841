// The registry of condition types: the engine looks types up here, so a new type plugs in by
// registering, without touching the engine (COH-R1). Pure; no global mutation except via register.

import { cohortField, cohortMembership } from './conditions/cohorts.ts';
import {
  courseCompleted,
  courseCompletion,
  courseNotCompleted,
  userEnrolment,
  userRole,
} from './conditions/courses.ts';
import { quizResult, userProfileInterests } from './conditions/other.ts';
import type { ConditionType } from './conditions/types.ts';
import { authMethod, userCustomProfile, userProfile } from './conditions/user-profile.ts';
import { userCreated, userLastLogin } from './conditions/user-times.ts';

export class ConditionRegistry {
  private readonly types = new Map<string, ConditionType<unknown>>();
  constructor(types: readonly ConditionType<never>[] = []) {
    for (const t of types) this.register(t);
  }
  register<C>(t: ConditionType<C>): this {
    if (t.type === 'group') throw new Error('"group" is reserved for nested groups');
    this.types.set(t.type, t as unknown as ConditionType<unknown>);
    return this;
  }
  get(type: string): ConditionType<unknown> | undefined {
    return this.types.get(type);
  }
  /** Available types sorted by label (as the plugin's form lists them). */
  list(): ConditionType<unknown>[] {
    return [...this.types.values()].sort((a, b) => a.label.localeCompare(b.label));
  }
  /** A copy that can be extended without changing this one. */
  extend(): ConditionRegistry {
    const r = new ConditionRegistry();
    for (const t of this.types.values()) r.register(t);
    return r;
  }
}

/** The fourteen built-in types of the spec. */
export const BUILTIN_CONDITIONS = [
  userProfile,
  authMethod,
  userCustomProfile,
  cohortMembership,
  cohortField,
  userLastLogin,
  userCreated,
  userEnrolment,
  userRole,
  courseCompleted,
  courseNotCompleted,
  userProfileInterests,
  courseCompletion,
  quizResult,
] as unknown as readonly ConditionType<never>[];

export const defaultRegistry = new ConditionRegistry(BUILTIN_CONDITIONS);

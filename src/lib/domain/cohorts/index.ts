// Public API of the dynamic-cohorts domain, for the CRDT layer, the cohorts worker, the sync server's
// scheduled job and the screens. Re-exports only; never add logic here.

export { SiteIndex } from './site-index.ts';
export { compareIds } from './ids.ts';
export { ConditionRegistry, defaultRegistry, BUILTIN_CONDITIONS } from './registry.ts';
export type { ConditionType, EvalContext, SiteEventType, UserTest, Broken } from './conditions/types.ts';
export { SITE_EVENT_TYPES } from './conditions/types.ts';
export {
  parseRule,
  parseRules,
  ruleToJson,
  ruleToSpecJson,
  canonicalNode,
  conditionsOf,
  ruleSetProblems,
  type Rule,
  type RuleNode,
  type GroupNode,
  type ConditionNode,
  type Operator,
} from './rule.ts';
export {
  compileRule,
  describeRule,
  explainUser,
  matchingCount,
  matchingPositions,
  matchingUserIds,
  matchSite,
  previewRule,
  ruleBrokenReason,
  ruleProcessingProblem,
  RuleBrokenError,
  type EvalOptions,
  type Explanation,
  type ExplainNode,
  type Preview,
} from './evaluate.ts';
export {
  createRule,
  updateRule,
  enableRule,
  disableRule,
  deleteRules,
  setRuleRealtime,
  setRuleBulk,
  markBrokenRules,
  eligibleCohorts,
  manageCohort,
  unmanageCohort,
  type EnableOutcome,
} from './lifecycle.ts';
export {
  processRules,
  dependencyOrder,
  applyChanges,
  changeChunks,
  logEntries,
  DEFAULT_CHUNK,
  type MembershipChange,
  type MembershipLogEntry,
  type ProcessOptions,
  type ProcessResult,
} from './process.ts';
export { CohortEngine, type SiteEvent, type EngineSettings, type RealtimeResult } from './engine.ts';
export { rowEvents, siteEvents, diffSites, eventUserId, EVENT_COLLECTIONS, type SiteRowChange } from './site-events.ts';

// Insights: predictions listed per course for users allowed to see them, the suggested and feedback actions on
// each, recorded actions, and the "actions executed" report. Pure: ids, times and capability checks are injected.
import type { UnixSeconds } from '../shared/clock.ts';
import { ValidationError } from '../shared/errors.ts';
import type { PredictionRow } from './model.ts';
import type { FeedbackAction, SuggestedAction, Target } from './targets.ts';

export type InsightAction = SuggestedAction | FeedbackAction | 'predictiondetails';

/** [ANA-8.3] A recorded action (`analytics_prediction_actions`). */
export interface PredictionActionRow {
  readonly id: string;
  readonly predictionId: string;
  readonly userId: string;
  readonly action: InsightAction;
  readonly time: UnixSeconds;
}

/** Moodle hides predictions on which the viewer already gave one of these (`report_insights`). */
const HIDING_ACTIONS: readonly InsightAction[] = [
  'fixed',
  'notuseful',
  'useful',
  'notapplicable',
  'incorrectlyflagged',
];

/** Capability check injected by the caller (the gradebook's capabilities module). */
export type CanListInsights = (userId: string, courseId: string) => boolean;

export interface InsightRow {
  readonly prediction: PredictionRow;
  readonly suggestedActions: readonly SuggestedAction[];
  readonly feedbackActions: readonly FeedbackAction[];
  /** Indicator values with an outcome hint for the details view: positive value = good when the target is "at risk". */
  readonly details: ReadonlyArray<{ indicator: string; value: number | null }>;
}

export interface CourseInsights {
  readonly courseId: string;
  readonly modelId: string;
  readonly targetId: string;
  readonly rows: readonly InsightRow[];
}

/**
 * [ANA-8.2] Insights of one model in one course for a viewer with the listinsights capability: only the latest
 * range's prediction per sample; predictions the viewer already settled (fixed, useful, ...) are hidden.
 */
export function listInsights(args: {
  readonly viewerId: string;
  readonly canList: CanListInsights;
  readonly courseId: string;
  readonly modelId: string;
  readonly target: Target;
  readonly predictions: readonly PredictionRow[];
  readonly actions: readonly PredictionActionRow[];
}): CourseInsights {
  if (!args.canList(args.viewerId, args.courseId))
    throw new Error(`user ${args.viewerId} may not list insights in course ${args.courseId}`);
  const settled = new Set(
    args.actions
      .filter((a) => a.userId === args.viewerId && HIDING_ACTIONS.includes(a.action))
      .map((a) => a.predictionId),
  );
  const latest = new Map<string, PredictionRow>();
  for (const p of args.predictions) {
    if (p.modelId !== args.modelId || p.courseId !== args.courseId) continue;
    const cur = latest.get(p.sampleId);
    if (!cur || p.timeend > cur.timeend || (p.timeend === cur.timeend && p.modelVersion > cur.modelVersion))
      latest.set(p.sampleId, p);
  }
  const rows = [...latest.values()]
    .filter((p) => !settled.has(p.id))
    .sort((a, b) => b.score - a.score || a.sampleId.localeCompare(b.sampleId))
    .map((p) => ({
      prediction: p,
      suggestedActions: args.target.suggestedActions,
      feedbackActions: args.target.feedbackActions,
      details: Object.entries(p.calculations).map(([indicator, value]) => ({ indicator, value })),
    }));
  return { courseId: args.courseId, modelId: args.modelId, targetId: args.target.id, rows };
}

/** Courses with insights the viewer may list, with counts (the insights index page). */
export function insightCourses(
  viewerId: string,
  canList: CanListInsights,
  predictions: readonly PredictionRow[],
): Array<{ courseId: string; modelId: string; count: number }> {
  const counts = new Map<string, { courseId: string; modelId: string; samples: Set<string> }>();
  for (const p of predictions) {
    if (!canList(viewerId, p.courseId)) continue;
    const k = `${p.modelId}\u0000${p.courseId}`;
    const e = counts.get(k) ?? { courseId: p.courseId, modelId: p.modelId, samples: new Set<string>() };
    e.samples.add(p.sampleId);
    counts.set(k, e);
  }
  return [...counts.values()]
    .map((e) => ({ courseId: e.courseId, modelId: e.modelId, count: e.samples.size }))
    .sort((a, b) => a.courseId.localeCompare(b.courseId));
}

/** [ANA-8.3] Records an action after checking that the target offers it and the user may see the prediction. */
export function recordAction(args: {
  readonly id: string;
  readonly prediction: PredictionRow;
  readonly target: Target;
  readonly userId: string;
  readonly action: InsightAction;
  readonly time: UnixSeconds;
  readonly canList: CanListInsights;
}): PredictionActionRow {
  const { target, action } = args;
  const allowed: readonly InsightAction[] = [
    'predictiondetails',
    ...target.suggestedActions,
    ...target.feedbackActions,
  ];
  if (!allowed.includes(action))
    throw new ValidationError([
      {
        at: 'action',
        message: `"${action}" is not an action of target ${target.id} (allowed: ${allowed.join(', ')})`,
      },
    ]);
  if (!args.canList(args.userId, args.prediction.courseId))
    throw new ValidationError([
      {
        at: 'userId',
        message: `user ${args.userId} may not act on insights in course ${args.prediction.courseId}`,
      },
    ]);
  return { id: args.id, predictionId: args.prediction.id, userId: args.userId, action, time: args.time };
}

/** Who receives the insight notification of a course: users with the capability enrolled there (`insights_generator.php`). */
export function insightRecipients(
  courseUserIds: readonly string[],
  courseId: string,
  canList: CanListInsights,
): string[] {
  return [...new Set(courseUserIds)].filter((u) => canList(u, courseId)).sort();
}

export interface ActionsReport {
  readonly byAction: Readonly<Record<string, number>>;
  /** Share of feedback that calls the predictions right: (fixed + useful) / all feedback; null without feedback. */
  readonly usefulness: number | null;
  readonly predictionsWithFeedback: number;
}

/** [ANA-8.4] "Actions executed by users" report, with grouped usefulness. */
export function actionsReport(actions: readonly PredictionActionRow[]): ActionsReport {
  const byAction: Record<string, number> = {};
  for (const a of actions) byAction[a.action] = (byAction[a.action] ?? 0) + 1;
  const good = (byAction['fixed'] ?? 0) + (byAction['useful'] ?? 0);
  const bad = (byAction['incorrectlyflagged'] ?? 0) + (byAction['notuseful'] ?? 0);
  const neutral = byAction['notapplicable'] ?? 0;
  const fb = good + bad + neutral;
  const withFb = new Set(actions.filter((a) => HIDING_ACTIONS.includes(a.action)).map((a) => a.predictionId))
    .size;
  return { byAction, usefulness: fb === 0 ? null : good / fb, predictionsWithFeedback: withFb };
}

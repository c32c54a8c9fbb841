// Pure view helpers for the analytics screens: default models, field-addressed validation problems, metric tables
// for both evaluation protocols, chart geometry (ROC, per-range bars), indicator groups and insight links.
// No storage, no DOM, no clock: everything is passed in.
import type { EvaluationReport, MetricSet, RangeEvaluation } from '../domain/analytics/evaluation';
import type { ModelEditorData } from '../domain/analytics/model';
import type { RocPoint } from '../domain/analytics/metrics';
import type { SuggestedAction } from '../domain/analytics/targets';
import { MOODLE_DROPOUT_INDICATORS } from '../domain/analytics/indicators';
import { OULAD_FILES, type OuladTables } from '../domain/analytics/oulad';
import {
  OULAD_AVERAGES,
  OULAD_INDICATORS,
  OULAD_MISSING_FLAGS,
  OULAD_TEST_FROM,
} from '../domain/analytics/oulad-model';

/**
 * Models a new device starts with: Moodle's built-in models (`lib/db/analytics.php`: the dropout model without a
 * time splitting and disabled, no teaching, upcoming activities due) plus, second, the OULAD set-up the command
 * line evaluates (ANA-1.2).
 */
export function defaultModelConfigs(): Record<string, unknown>[] {
  return [
    {
      id: 'students-at-risk-of-dropping-out',
      name: 'Students at risk of dropping out',
      targetId: 'course_dropout',
      indicatorIds: [...MOODLE_DROPOUT_INDICATORS],
      timeSplittingId: null,
      backendId: 'lr',
      enabled: false,
      averages: 'moodle',
      missingFlags: false,
    },
    {
      id: 'oulad-at-risk',
      name: 'Students at risk of not passing (no click logs)',
      targetId: 'at_risk',
      indicatorIds: [...OULAD_INDICATORS],
      // A quarter into the presentation: early enough to act on, with the first assessment usually due.
      timeSplittingId: 'at_fraction_25',
      backendId: 'lr',
      enabled: true,
      averages: OULAD_AVERAGES,
      missingFlags: OULAD_MISSING_FLAGS,
    },
    // Moodle's two rule-based models, as shipped: no teaching (enabled), upcoming activities due (disabled).
    {
      id: 'no-teaching',
      name: 'No teaching',
      targetId: 'no_teaching',
      indicatorIds: ['no_teacher', 'no_student'],
      timeSplittingId: 'single_range',
      backendId: 'lr',
      enabled: true,
    },
    {
      id: 'upcoming-activities-due',
      name: 'Upcoming activities due',
      targetId: 'upcoming_activities_due',
      indicatorIds: ['activities_due'],
      timeSplittingId: 'upcoming_week',
      backendId: 'lr',
      enabled: false,
    },
  ];
}

/** Honest split point for OULAD rows (train on 2013 presentations, test on 2014); undefined = the median start. */
export const testFromFor = (hasOulad: boolean): number | undefined =>
  hasOulad ? OULAD_TEST_FROM : undefined;

/** [ANA-8.0] Groups problems by the top-level field their JSON path names (`$.indicatorIds[2]` -> indicatorIds). */
export function problemsByField(
  problems: readonly { at: string; message: string }[],
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of problems) {
    const m = /^\$\.?([A-Za-z_]\w*)?/.exec(p.at);
    const field = m?.[1] ?? '$';
    const idx = /\[(\d+)\]/.exec(p.at.slice(m?.[0].length ?? 0));
    (out[field] ??= []).push(idx ? `item ${Number(idx[1]) + 1}: ${p.message}` : p.message);
  }
  return out;
}

/** Indicators grouped by the data they need (the editor's checklist sections), in a stable order. */
export function indicatorGroups(
  editor: ModelEditorData,
): { key: string; label: string; items: ModelEditorData['indicators'][number][] }[] {
  const label: Record<string, string> = {
    logs: 'Activity logs',
    activities: 'Activities',
    submissions: 'Submissions',
    enrolments: 'Enrolments',
    profile: 'Student profile',
    course: 'Course settings',
  };
  const order = ['logs', 'submissions', 'activities', 'enrolments', 'profile', 'course'];
  const groups = new Map<string, ModelEditorData['indicators'][number][]>();
  for (const i of editor.indicators) {
    // Grouped by the most demanding need: anything that reads logs needs a log import first.
    const key = order.find((k) => (i.needs as readonly string[]).includes(k)) ?? 'course';
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(i);
  }
  return order
    .filter((k) => groups.has(k))
    .map((k) => ({ key: k, label: label[k] ?? k, items: groups.get(k)! }));
}

export type MetricKey = 'auc' | 'prAuc' | 'precision' | 'recall' | 'f1' | 'mcc' | 'brier' | 'weightedF1';
export const METRICS: readonly { key: MetricKey; label: string }[] = [
  { key: 'auc', label: 'AUC' },
  { key: 'prAuc', label: 'PR-AUC' },
  { key: 'precision', label: 'Precision' },
  { key: 'recall', label: 'Recall' },
  { key: 'f1', label: 'F1' },
  { key: 'mcc', label: 'MCC' },
  { key: 'brier', label: 'Brier' },
  { key: 'weightedF1', label: 'Weighted F1' },
];

/** A figure for a table cell: 3 decimals, an en dash for "not available" (NaN, null, missing). */
export function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export interface MetricTableRow {
  readonly metric: string;
  /** Honest protocol: model, majority baseline, rule baseline. */
  readonly honest: readonly [string, string, string];
  /** Moodle protocol (threshold 0.5, mean of the random splits): model, majority, rule. */
  readonly moodle: readonly [string, string, string];
}

export interface RangeTable {
  readonly rangeIndex: number;
  readonly honestNote: string | null;
  readonly honestSamples: string;
  readonly moodleStatus: string | null;
  readonly rows: readonly MetricTableRow[];
}

const triple = (
  m: MetricSet | null | undefined,
  maj: MetricSet | null | undefined,
  rule: MetricSet | null | undefined,
  k: MetricKey,
): [string, string, string] => [fmt(m?.[k]), fmt(maj?.[k]), fmt(rule?.[k])];

/** Moodle status bits as words (`\core_analytics\model` constants). */
export function moodleStatusText(status: number): string {
  if (status === 0) return 'OK';
  const words: string[] = [];
  if (status & 1) words.push('general error');
  if (status & 2) words.push('no dataset');
  if (status & 4) words.push('low score');
  if (status & 8) words.push('not enough data');
  return words.join(', ');
}

/** [ANA-7] Both protocols side by side, one table per range (ranges matched by index). */
export function rangeTables(honest: EvaluationReport | null, moodle: EvaluationReport | null): RangeTable[] {
  const idx = new Set<number>();
  for (const r of [...(honest?.ranges ?? []), ...(moodle?.ranges ?? [])]) idx.add(r.rangeIndex);
  return [...idx]
    .sort((a, b) => a - b)
    .map((i) => {
      const h: RangeEvaluation | undefined = honest?.ranges.find((r) => r.rangeIndex === i);
      const m: RangeEvaluation | undefined = moodle?.ranges.find((r) => r.rangeIndex === i);
      const mm = m?.moodle;
      return {
        rangeIndex: i,
        honestNote: h?.note ?? null,
        honestSamples: h ? `${h.trainSamples} training, ${h.testSamples} test samples` : 'not run',
        moodleStatus: mm
          ? `score ${fmt(mm.score)} ± ${fmt(mm.deviation)} (${moodleStatusText(mm.status)})`
          : null,
        rows: METRICS.map(({ key, label }) => ({
          metric: label,
          honest: triple(h?.model, h?.baselines.majority, h?.baselines.rule, key),
          moodle: triple(mm?.metrics?.model, mm?.metrics?.majority, mm?.metrics?.rule, key),
        })),
      };
    });
}

/** SVG path of a ROC curve in a size x size box (y up), starting at (0,0) and ending at (1,1). */
export function rocPath(points: readonly RocPoint[], size: number): string {
  const pts = [...points].sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr);
  const all = [{ fpr: 0, tpr: 0 }, ...pts, { fpr: 1, tpr: 1 }];
  const r = (v: number) => Math.round(v * 10) / 10;
  return all.map((p, i) => `${i === 0 ? 'M' : 'L'}${r(p.fpr * size)},${r(size - p.tpr * size)}`).join(' ');
}

export interface Bar {
  readonly label: string;
  readonly series: string;
  readonly value: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Bars for the per-range chart: for each range, AUC and F1 of the model and the two baselines (honest protocol).
 * Values outside [0, 1] (none expected for these metrics) are clamped so the chart never draws outside its box.
 */
export function rangeBars(honest: EvaluationReport | null, width: number, height: number): Bar[] {
  if (!honest) return [];
  const series: { name: string; get(r: RangeEvaluation): number | undefined }[] = [
    { name: 'Model AUC', get: (r) => r.model?.auc },
    { name: 'Model F1', get: (r) => r.model?.f1 },
    { name: 'Rule F1', get: (r) => r.baselines.rule?.f1 },
    { name: 'Majority F1', get: (r) => r.baselines.majority?.f1 },
  ];
  const groups = honest.ranges.length;
  if (groups === 0) return [];
  const groupW = width / groups;
  const barW = (groupW * 0.8) / series.length;
  const out: Bar[] = [];
  honest.ranges.forEach((r, g) =>
    series.forEach((s, k) => {
      const v = s.get(r);
      if (v === undefined || !Number.isFinite(v)) return;
      const c = Math.min(1, Math.max(0, v));
      out.push({
        label: `Range ${r.rangeIndex + 1}`,
        series: s.name,
        value: v,
        x: g * groupW + groupW * 0.1 + k * barW,
        y: height - c * height,
        width: barW,
        height: c * height,
      });
    }),
  );
  return out;
}

/** Where a suggested action leads (`report?id=<course>&user=<user>` is the user report). */
export function suggestedActionHref(
  action: SuggestedAction,
  courseId: string,
  userId: string | null,
): string | null {
  if (action === 'view_report' && userId)
    return `/report?id=${encodeURIComponent(courseId)}&user=${encodeURIComponent(userId)}`;
  if (action === 'message_student' && userId)
    return `/report?id=${encodeURIComponent(courseId)}&user=${encodeURIComponent(userId)}#message`;
  if (action === 'view_course') return `/course?id=${encodeURIComponent(courseId)}`;
  return null;
}

export const SUGGESTED_LABELS: Readonly<Record<string, string>> = {
  message_student: 'Message the student',
  view_report: 'Open their report',
  view_course: 'Open the course',
  view_participants: 'View participants',
  view_upcoming: 'View upcoming activities',
};

export const FEEDBACK_LABELS: Readonly<Record<string, string>> = {
  fixed: 'Fixed',
  notapplicable: 'Not applicable',
  incorrectlyflagged: 'Incorrectly flagged',
  useful: 'Useful',
  notuseful: 'Not useful',
};

/** `YYYY-MM-DD` (UTC) <-> unix seconds, for the analysis-date field. */
export function dateToUnix(s: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return null;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) ? t / 1000 : null;
}
export function unixToDate(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

/** Maps chosen files to OULAD tables by file name (`courses.csv` -> courses); reports missing and unknown files. */
export function matchOuladFiles(names: readonly string[]): {
  byTable: Partial<Record<keyof OuladTables, number>>;
  problems: { at: string; message: string }[];
} {
  const byTable: Partial<Record<keyof OuladTables, number>> = {};
  const problems: { at: string; message: string }[] = [];
  names.forEach((n, i) => {
    const base = n.split(/[\\/]/).pop()!;
    const t = (Object.keys(OULAD_FILES) as (keyof OuladTables)[]).find((k) => OULAD_FILES[k] === base);
    if (!t) problems.push({ at: base, message: 'is not one of the OULAD files' });
    else byTable[t] = i;
  });
  for (const [t, f] of Object.entries(OULAD_FILES))
    if (byTable[t as keyof OuladTables] === undefined) problems.push({ at: f, message: 'file not chosen' });
  return { byTable, problems };
}

// Time-splitting methods ("analysis intervals"): split an analysable's life into ranges {start, end, time}
// with Moodle's arithmetic. Pure: `now` is always passed in, never read from a clock.
import type { UnixSeconds } from '../shared/clock.ts';

export interface TimeRange {
  readonly index: number;
  readonly start: UnixSeconds;
  readonly end: UnixSeconds;
  /** When the range becomes predictable. */
  readonly time: UnixSeconds;
}

export interface AnalysableSpan {
  readonly start: UnixSeconds | null;
  readonly end: UnixSeconds | null;
  /** First time this model analysed the analysable (upcoming_* methods start there); null = never. */
  readonly firstAnalysis?: UnixSeconds | null;
}

/** 'before_now' methods only use the past; 'after_now' look into the future (upcoming_*). */
export type TimeSplittingFamily = 'before_now' | 'after_now';

export interface TimeSplitting {
  readonly id: string;
  readonly name: string;
  readonly family: TimeSplittingFamily;
  /** Moodle `include_range_info_in_training_data()`: one-hot range columns in datasets. */
  readonly includeRangeInfo: boolean;
  /** Moodle `valid_for_evaluation()`: false for methods that read future data. */
  readonly validForEvaluation: boolean;
  /** Moodle `cache_indicator_calculations()`: false when ranges move with `now`. */
  readonly cacheable: boolean;
  /** Moodle `is_valid_analysable()`. */
  isValidAnalysable(span: AnalysableSpan, now: UnixSeconds): boolean;
  /** All ranges of the analysable at `now` (empty if the analysable is not valid for this method). */
  ranges(span: AnalysableSpan, now: UnixSeconds): TimeRange[];
}

const DAY = 86400;
const WEEK = 7 * DAY;

/** [ANA-3] Moodle base rules (`analytics/classes/local/time_splitting/base.php`). */
export const readyToPredict = (r: TimeRange, now: UnixSeconds): boolean => r.time <= now;
export const readyToTrain = (r: TimeRange, now: UnixSeconds): boolean => r.time <= now && r.end <= now;

/** [ANA-3] Prediction uses only the most recent range that is ready to predict. */
export function predictionRange(ts: TimeSplitting, span: AnalysableSpan, now: UnixSeconds): TimeRange | null {
  let best: TimeRange | null = null;
  for (const r of ts.ranges(span, now))
    if (readyToPredict(r, now) && (!best || r.time >= best.time)) best = r;
  return best;
}

export function trainingRanges(ts: TimeSplitting, span: AnalysableSpan, now: UnixSeconds): TimeRange[] {
  return ts.ranges(span, now).filter((r) => readyToTrain(r, now));
}

/** Adds a calendar interval in UTC (PHP DateInterval P1M adds a calendar month). */
function addPeriod(t: UnixSeconds, p: Period, sign: 1 | -1): UnixSeconds {
  if (p.months) {
    const d = new Date(t * 1000);
    d.setUTCMonth(d.getUTCMonth() + sign * p.months);
    return Math.floor(d.getTime() / 1000);
  }
  return t + sign * p.seconds;
}

interface Period {
  readonly seconds: number;
  readonly months?: number;
}

const hasSpan = (s: AnalysableSpan): s is { start: number; end: number } =>
  s.start !== null && s.end !== null && s.end >= s.start;

/** [ANA-3.1] equal parts (`analytics/classes/local/time_splitting/equal_parts.php`). */
function equalParts(id: string, name: string, n: number): TimeSplitting {
  return {
    id,
    name,
    family: 'before_now',
    includeRangeInfo: true,
    validForEvaluation: true,
    cacheable: true,
    isValidAnalysable: (s) => hasSpan(s),
    ranges(s) {
      if (!hasSpan(s)) return [];
      const d = (s.end - s.start) / n;
      // Moodle only lets ranges share a boundary second when the whole span is shorter than n seconds per part.
      const allowShared = d < n;
      const out: TimeRange[] = [];
      for (let i = 0; i < n; i++) {
        let start = s.start + Math.trunc(d * i);
        let end = s.start + Math.trunc(d * (i + 1));
        if (!allowShared && i > 0 && start === out[i - 1]!.end) start += 1;
        if (i === n - 1) end = s.end;
        out.push({ index: i, start, end, time: end });
      }
      return out;
    },
  };
}

/** [ANA-3.2] accumulative parts (`analytics/classes/local/time_splitting/accumulative_parts.php`). */
function accumulativeParts(id: string, name: string, n: number): TimeSplitting {
  return {
    id,
    name,
    family: 'before_now',
    includeRangeInfo: true,
    validForEvaluation: true,
    cacheable: true,
    isValidAnalysable: (s) => hasSpan(s),
    ranges(s) {
      if (!hasSpan(s)) return [];
      const d = (s.end - s.start) / n;
      const out: TimeRange[] = [];
      for (let i = 0; i < n; i++) {
        const end = i === n - 1 ? s.end : s.start + Math.trunc(d * (i + 1));
        out.push({ index: i, start: s.start, end, time: end });
      }
      return out;
    },
  };
}

/** [ANA-3.3] single range [S, E], predictable from the start (`lib/classes/analytics/time_splitting/single_range.php`). */
const singleRange: TimeSplitting = {
  id: 'single_range',
  name: 'Single range',
  family: 'before_now',
  includeRangeInfo: false,
  validForEvaluation: true,
  cacheable: true,
  isValidAnalysable: (s) => hasSpan(s),
  ranges: (s) => (hasSpan(s) ? [{ index: 0, start: s.start, end: s.end, time: 0 }] : []),
};

/** [ANA-3.3] no splitting: one range covering all time, always ready (`no_splitting.php`). */
const MAX_TIME = 9999999999; // Moodle's MAX_TIMESTAMP-like sentinel: far future, still a safe integer.
const noSplitting: TimeSplitting = {
  id: 'no_splitting',
  name: 'No time splitting',
  family: 'before_now',
  includeRangeInfo: false,
  validForEvaluation: true,
  cacheable: true,
  isValidAnalysable: () => true,
  ranges: () => [{ index: 0, start: 0, end: MAX_TIME, time: 0 }],
};

/** [ANA-3.4] after start (`analytics/classes/local/time_splitting/after_start.php`): one range [S, now] once S <= now - P. */
function afterStart(id: string, name: string, wait: (s: AnalysableSpan) => Period | null): TimeSplitting {
  const valid = (s: AnalysableSpan, now: UnixSeconds): boolean => {
    if (s.start === null) return false;
    const p = wait(s);
    if (!p) return false;
    return s.start <= addPeriod(now, p, -1);
  };
  return {
    id,
    name,
    family: 'before_now',
    includeRangeInfo: false,
    validForEvaluation: true,
    cacheable: false,
    isValidAnalysable: valid,
    ranges: (s, now) => (valid(s, now) ? [{ index: 0, start: s.start!, end: now, time: now }] : []),
  };
}

/**
 * [ANA-3.5] past periodic (`analytics/classes/local/time_splitting/periodic.php`, `past_periodic.php`):
 * walk t = S, S+P, ... while t < now and t < E; each range is [t-P, t]; a range starting before S is skipped.
 * When the analysable has not ended, one more range ending exactly at `now` is added for prediction.
 */
function pastPeriodic(id: string, name: string, p: Period): TimeSplitting {
  return {
    id,
    name,
    family: 'before_now',
    includeRangeInfo: false,
    validForEvaluation: true,
    cacheable: true,
    isValidAnalysable: (s) => s.start !== null,
    ranges(s, now) {
      if (s.start === null) return [];
      const out: TimeRange[] = [];
      let t = s.start;
      while (t < now && (s.end === null || t < s.end)) {
        const start = addPeriod(t, p, -1);
        if (start >= s.start) out.push({ index: out.length, start, end: t, time: t });
        t = addPeriod(t, p, 1);
      }
      if (s.end === null || now < s.end) {
        const start = addPeriod(now, p, -1);
        const last = out[out.length - 1];
        if (start >= s.start && (!last || last.end < now))
          out.push({ index: out.length, start, end: now, time: now });
      }
      return out;
    },
  };
}

/**
 * [ANA-3.6] upcoming periodic (`upcoming_periodic.php`): ranges [t, t+P] predicted at t, starting at the
 * model's first analysis of the analysable (or now - 1 s). Never valid for evaluation (future data).
 */
function upcomingPeriodic(id: string, name: string, p: Period): TimeSplitting {
  return {
    id,
    name,
    family: 'after_now',
    includeRangeInfo: false,
    validForEvaluation: false,
    cacheable: false,
    isValidAnalysable: () => true,
    ranges(s, now) {
      const first = s.firstAnalysis ?? now - 1;
      const out: TimeRange[] = [];
      let t = first;
      // Every period start up to now, then the one that covers now is the prediction range.
      while (t <= now) {
        out.push({ index: out.length, start: t, end: addPeriod(t, p, 1), time: t });
        t = addPeriod(t, p, 1);
      }
      return out;
    },
  };
}

/**
 * Not in Moodle: one range [S, S + f·D] predicted at its end, for "predict at 25 % of the course" evaluations
 * (the honest protocol and the command line's `--at`).
 */
export function atFraction(fraction: number): TimeSplitting {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${fraction}`);
  const pct = Math.round(fraction * 1000) / 10;
  return {
    id: `at_fraction_${pct}`,
    name: `At ${pct} % of the course`,
    family: 'before_now',
    includeRangeInfo: false,
    validForEvaluation: true,
    cacheable: true,
    isValidAnalysable: (s) => hasSpan(s),
    ranges(s) {
      if (!hasSpan(s)) return [];
      const end = s.start + Math.trunc((s.end - s.start) * fraction);
      return [{ index: 0, start: s.start, end, time: end }];
    },
  };
}

/** Every built-in method, by Moodle id. */
export const TIME_SPLITTINGS: readonly TimeSplitting[] = [
  singleRange,
  noSplitting,
  equalParts('quarters', 'Quarters', 4),
  accumulativeParts('quarters_accum', 'Quarters accumulative', 4),
  equalParts('deciles', 'Deciles', 10),
  accumulativeParts('deciles_accum', 'Deciles accumulative', 10),
  afterStart('one_week_after_start', 'One week after start', () => ({ seconds: WEEK })),
  afterStart('one_month_after_start', 'One month after start', () => ({ seconds: 0, months: 1 })),
  afterStart('ten_percent_after_start', '10 % after start', (s) =>
    s.start !== null && s.end !== null ? { seconds: Math.floor((s.end - s.start) / 10) } : null,
  ),
  pastPeriodic('past_3_days', 'Past 3 days', { seconds: 3 * DAY }),
  pastPeriodic('past_week', 'Past week', { seconds: WEEK }),
  pastPeriodic('past_month', 'Past month', { seconds: 0, months: 1 }),
  upcomingPeriodic('upcoming_3_days', 'Upcoming 3 days', { seconds: 3 * DAY }),
  upcomingPeriodic('upcoming_week', 'Upcoming week', { seconds: WEEK }),
  upcomingPeriodic('upcoming_fortnight', 'Upcoming fortnight', { seconds: 2 * WEEK }),
];

/** Moodle's default evaluation set (`analytics/defaulttimesplittingsevaluation`). */
export const DEFAULT_EVALUATION_TIME_SPLITTINGS = ['quarters_accum', 'quarters', 'single_range'] as const;

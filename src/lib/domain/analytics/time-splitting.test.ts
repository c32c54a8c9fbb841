// Time-splitting arithmetic against hand-computed ranges (Moodle's equal_parts, accumulative_parts, periodic, after_start).
import { describe, expect, it } from 'vitest';
import {
  TIME_SPLITTINGS,
  atFraction,
  predictionRange,
  readyToTrain,
  trainingRanges,
  type TimeSplitting,
} from './time-splitting.ts';

const ts = (id: string): TimeSplitting => TIME_SPLITTINGS.find((t) => t.id === id)!;
const plain = (rs: { start: number; end: number; time: number }[]) => rs.map((r) => [r.start, r.end, r.time]);
const DAY = 86400;

describe('time splitting', () => {
  it('[ANA-3.1] quarters: floor of each quarter, later starts moved 1 s so a timestamp belongs to one range', () => {
    expect(plain(ts('quarters').ranges({ start: 1000, end: 1400 }, 5000))).toEqual([
      [1000, 1100, 1100],
      [1101, 1200, 1200],
      [1201, 1300, 1300],
      [1301, 1400, 1400],
    ]);
  });

  it('[ANA-3.1] quarters of a span shorter than 4 s per part share boundaries and the last ends exactly at E', () => {
    // d = 10 / 4 = 2.5 < 4: starts 1000, 1002, 1005, 1007 (floors), no +1 bump.
    expect(plain(ts('quarters').ranges({ start: 1000, end: 1010 }, 5000))).toEqual([
      [1000, 1002, 1002],
      [1002, 1005, 1005],
      [1005, 1007, 1007],
      [1007, 1010, 1010],
    ]);
  });

  it('[ANA-3.1] deciles make ten ranges whose last one ends at E', () => {
    const rs = ts('deciles').ranges({ start: 0, end: 1003 }, 5000);
    expect(rs).toHaveLength(10);
    expect(rs[0]).toMatchObject({ start: 0, end: 100 });
    expect(rs[1]).toMatchObject({ start: 101, end: 200 });
    expect(rs[9]).toMatchObject({ end: 1003, time: 1003 });
  });

  it('[ANA-3.2] quarters accumulative all start at S', () => {
    expect(plain(ts('quarters_accum').ranges({ start: 1000, end: 1400 }, 5000))).toEqual([
      [1000, 1100, 1100],
      [1000, 1200, 1200],
      [1000, 1300, 1300],
      [1000, 1400, 1400],
    ]);
  });

  it('[ANA-3.2] a course without an end date has no equal-part ranges', () => {
    expect(ts('quarters').ranges({ start: 1000, end: null }, 5000)).toEqual([]);
    expect(ts('quarters').isValidAnalysable({ start: 1000, end: null }, 5000)).toBe(false);
  });

  it('[ANA-3] only ranges that have ended are used for training, and prediction uses the latest ready one', () => {
    const q = ts('quarters');
    const span = { start: 1000, end: 1400 };
    expect(trainingRanges(q, span, 1250).map((r) => r.index)).toEqual([0, 1]);
    expect(predictionRange(q, span, 1250)?.index).toBe(1);
    expect(predictionRange(q, span, 1050)).toBeNull();
    expect(readyToTrain({ index: 0, start: 0, end: 10, time: 5 }, 8)).toBe(false);
  });

  it('[ANA-3.3] single range covers the course and is predictable from the start', () => {
    const r = ts('single_range').ranges({ start: 1000, end: 2000 }, 1500);
    expect(plain(r)).toEqual([[1000, 2000, 0]]);
  });

  it('[ANA-3.4] one week after start is valid only once a week has passed, with one range [S, now]', () => {
    const w = ts('one_week_after_start');
    expect(w.isValidAnalysable({ start: 0, end: null }, 7 * DAY - 1)).toBe(false);
    expect(plain(w.ranges({ start: 0, end: null }, 8 * DAY))).toEqual([[0, 8 * DAY, 8 * DAY]]);
    expect(w.cacheable).toBe(false);
  });

  it('[ANA-3.4] one month after start waits a calendar month (31 days in January)', () => {
    const m = ts('one_month_after_start');
    const jan1 = Date.UTC(2024, 0, 1) / 1000;
    expect(m.isValidAnalysable({ start: jan1, end: null }, jan1 + 30 * DAY)).toBe(false);
    expect(m.isValidAnalysable({ start: jan1, end: null }, jan1 + 31 * DAY)).toBe(true);
  });

  it('[ANA-3.4] ten percent after start needs the end date and waits a tenth of the course', () => {
    const t = ts('ten_percent_after_start');
    expect(t.isValidAnalysable({ start: 0, end: null }, 10 ** 9)).toBe(false);
    expect(t.isValidAnalysable({ start: 0, end: 1000 }, 99)).toBe(false);
    expect(t.isValidAnalysable({ start: 0, end: 1000 }, 100)).toBe(true);
  });

  it('[ANA-3.5] past week walks weekly from the start, skipping the range before S, and ends at now while running', () => {
    const p = ts('past_week');
    const W = 7 * DAY;
    // Course S = 0, E = 10 weeks; now = 2.5 weeks: ranges [0, W], [W, 2W], then the prediction range [now - W, now].
    expect(plain(p.ranges({ start: 0, end: 10 * W }, 2.5 * W))).toEqual([
      [0, W, W],
      [W, 2 * W, 2 * W],
      [1.5 * W, 2.5 * W, 2.5 * W],
    ]);
    expect(p.includeRangeInfo).toBe(false);
  });

  it('[ANA-3.5] a finished course gets no range past its end', () => {
    const W = 7 * DAY;
    const rs = ts('past_week').ranges({ start: 0, end: 3 * W }, 100 * W);
    expect(plain(rs)).toEqual([
      [0, W, W],
      [W, 2 * W, 2 * W],
    ]);
  });

  it('[ANA-3.6] upcoming methods look ahead from the first analysis and are never used for evaluation', () => {
    const u = ts('upcoming_week');
    expect(u.validForEvaluation).toBe(false);
    const rs = u.ranges({ start: null, end: null, firstAnalysis: 1000 }, 1000 + 8 * DAY);
    expect(plain(rs)).toEqual([
      [1000, 1000 + 7 * DAY, 1000],
      [1000 + 7 * DAY, 1000 + 14 * DAY, 1000 + 7 * DAY],
    ]);
    expect(predictionRange(u, { start: null, end: null, firstAnalysis: 1000 }, 1000 + 8 * DAY)?.index).toBe(
      1,
    );
  });

  it('[ANA-3.6] at_fraction gives one range ending at that share of the course', () => {
    expect(plain(atFraction(0.25).ranges({ start: 100, end: 501 }, 0))).toEqual([[100, 200, 200]]);
    expect(() => atFraction(0)).toThrow(/fraction/);
  });

  it('[ANA-3] every method Moodle documents is available', () => {
    const ids = TIME_SPLITTINGS.map((t) => t.id);
    for (const id of [
      'single_range',
      'no_splitting',
      'quarters',
      'quarters_accum',
      'deciles',
      'deciles_accum',
      'one_week_after_start',
      'one_month_after_start',
      'ten_percent_after_start',
      'past_3_days',
      'past_week',
      'past_month',
      'upcoming_3_days',
      'upcoming_week',
      'upcoming_fortnight',
    ])
      expect(ids).toContain(id);
  });
});

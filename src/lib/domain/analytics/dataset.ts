// Builds Moodle-style datasets: one row per valid (sample, range) with indicator columns, per-analysable mean
// columns, optional range one-hot columns and the label. Pure; long runs report progress and honour a cancel token.
import type { UnixSeconds } from '../shared/clock.ts';
import { throwIfCancelled, type JobOptions } from '../shared/cancel.ts';
import { courseOf, type Analysable, type Analyser } from './analysers.ts';
import type { ActivityData } from './data.ts';
import { checkValue, type Indicator, type IndicatorContext, type Sample } from './indicators.ts';
import type { Target } from './targets.ts';
import { predictionRange, trainingRanges, type TimeRange, type TimeSplitting } from './time-splitting.ts';

/** Per (sample, range) cache of indicator values, reused across models (Moodle `analytics_indicator_calc`). */
export interface IndicatorCache {
  get(sampleId: string, start: number, end: number): Map<string, number | null> | undefined;
  set(sampleId: string, start: number, end: number, values: Map<string, number | null>): void;
}

export interface IndicatorCacheRow {
  readonly indicator: string;
  readonly sampleId: string;
  readonly start: number;
  readonly end: number;
  readonly value: number | null;
}

/** In-memory cache; `rows()` flattens it into `analyticsIndicatorCache` table rows. */
export class MemoryIndicatorCache implements IndicatorCache {
  private readonly map = new Map<string, Map<string, number | null>>();
  private static key(s: string, a: number, b: number): string {
    return `${s}|${a}|${b}`;
  }
  get(sampleId: string, start: number, end: number) {
    return this.map.get(MemoryIndicatorCache.key(sampleId, start, end));
  }
  set(sampleId: string, start: number, end: number, values: Map<string, number | null>): void {
    const k = MemoryIndicatorCache.key(sampleId, start, end);
    const old = this.map.get(k);
    if (old) for (const [i, v] of values) old.set(i, v);
    else this.map.set(k, new Map(values));
  }
  get size(): number {
    return this.map.size;
  }
  *rows(): Generator<IndicatorCacheRow> {
    for (const [k, values] of this.map) {
      const [sampleId, a, b] = k.split('|');
      for (const [indicator, value] of values)
        yield { indicator, sampleId: sampleId!, start: Number(a), end: Number(b), value };
    }
  }
}

export interface Dataset {
  readonly featureNames: readonly string[];
  /** Row-major features; NaN marks a null indicator value (backends fill with 0, as Moodle's Python backend does). */
  readonly x: Float64Array;
  /** Labels; NaN for unlabelled (prediction) rows. */
  readonly y: Float64Array;
  readonly rows: number;
  readonly nFeatures: number;
  readonly sampleIds: readonly string[];
  readonly analysableIds: readonly string[];
  readonly rangeIndex: Int32Array;
  readonly rangeStart: Float64Array;
  readonly rangeEnd: Float64Array;
  /** Analysable start time per row (the honest protocol splits by it). */
  readonly analysableStart: Float64Array;
  /** Indicator ids, in the order of `values`. */
  readonly indicatorIds: readonly string[];
  /** Raw indicator values, rows x indicatorIds.length (NaN = null): what a prediction's details show. */
  readonly values: Float64Array;
  /** Samples x ranges skipped because every indicator was null (Moodle still marks them processed). */
  readonly droppedAllNull: number;
  /** Analysables skipped and why. */
  readonly skipped: ReadonlyArray<{ analysableId: string; reason: string }>;
}

export interface BuildOptions extends JobOptions {
  readonly data: ActivityData;
  readonly analyser: Analyser;
  readonly target: Target;
  readonly indicators: readonly Indicator[];
  readonly timeSplitting: TimeSplitting;
  readonly now: UnixSeconds;
  /** 'training': labelled rows from finished analysables; 'prediction': unlabelled rows from the latest ready range. */
  readonly mode: 'training' | 'prediction';
  /** Only these analysables (model context restriction); all when omitted. */
  readonly analysableIds?: ReadonlySet<string>;
  /** Keys `${sampleId}#${rangeIndex}` already used (training or predicted) by this model: skipped ([ANA-2.5]). */
  readonly used?: ReadonlySet<string>;
  readonly cache?: IndicatorCache;
  /**
   * Replaces the ranges (used by evaluations at a fraction of the course): a fixed time splitting per analysable,
   * taking every range regardless of `now`.
   */
  readonly allRanges?: boolean;
  /**
   * Per-analysable average columns of linear indicators: 'moodle' (the mean itself, Moodle `linear::include_averages`),
   * 'relative' (an extra column: the sample's value minus that mean, its standing within its course; not in Moodle),
   * 'centered' (the raw column itself replaced by value minus mean, so no course-level level is left for the model
   * to over-learn from a handful of courses; not in Moodle) or 'none'.
   */
  readonly averages?: AverageColumns;
  /** Not in Moodle: one extra 0/1 column per indicator marking a null value (Moodle fills nulls with 0 silently). */
  readonly missingFlags?: boolean;
}

export type AverageColumns = 'moodle' | 'relative' | 'centered' | 'none';

export const usedKey = (sampleId: string, rangeIndex: number): string => `${sampleId}#${rangeIndex}`;

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** [ANA-2.4] Builds a dataset. Throws CancelledError (nothing returned) if cancelled. */
export function buildDataset(o: BuildOptions): Dataset {
  const steps = datasetSteps(o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The same, awaiting `o.pause()` after each analysable so a worker can receive a cancel message between courses
 * (a synchronous loop would never let it in).
 */
export async function buildDatasetAsync(o: BuildOptions): Promise<Dataset> {
  const steps = datasetSteps(o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await o.pause?.();
  }
}

function* datasetSteps(o: BuildOptions): Generator<void, Dataset, void> {
  const { data, analyser, target, indicators, timeSplitting: ts, now } = o;
  const forTraining = o.mode === 'training';
  const indicatorIds = indicators.map((i) => i.id);
  const extra = target.requiredIndicators.filter((id) => !indicatorIds.includes(id));
  if (extra.length > 0)
    throw new Error(`target ${target.id} needs indicators ${extra.join(', ')} in the model`);
  const useCache = ts.cacheable && o.cache !== undefined;
  const skipped: { analysableId: string; reason: string }[] = [];
  const analysables = analyser.analysables(data).filter((a) => !o.analysableIds || o.analysableIds.has(a.id));
  const nInd = indicators.length;
  const averages = o.averages ?? 'moodle';
  const avgCols =
    averages === 'none'
      ? []
      : indicators
          .map((ind, j) => (ind.kind === 'linear' && ind.includeAverage ? j : -1))
          .filter((j) => j >= 0);

  // First pass: per analysable, collect ranges and rows of raw indicator values.
  interface Pending {
    a: Analysable;
    ranges: TimeRange[];
    rows: { sample: Sample; range: TimeRange; values: Float64Array; label: number }[];
  }
  const pendings: Pending[] = [];
  let maxRanges = 1;
  let droppedAllNull = 0;
  let done = 0;
  const total = analysables.length;
  for (const a of analysables) {
    throwIfCancelled(o.cancel, 'dataset');
    const validity = ts.isValidAnalysable(a.span, now)
      ? target.isValidAnalysable(data, a, forTraining, now)
      : 'time splitting does not apply';
    if (validity !== true) {
      skipped.push({ analysableId: a.id, reason: validity });
      o.onProgress?.(++done, total);
      yield;
      continue;
    }
    let ranges: TimeRange[];
    if (o.allRanges) ranges = ts.ranges(a.span, now);
    else if (forTraining) ranges = trainingRanges(ts, a.span, now);
    else {
      const r = predictionRange(ts, a.span, now);
      ranges = r ? [r] : [];
    }
    maxRanges = Math.max(maxRanges, ts.ranges(a.span, now).length);
    const p: Pending = { a, ranges, rows: [] };
    const samples = analyser.samples(data, a);
    for (const sample of samples) {
      const ctx: IndicatorContext = { data, course: courseOf(data, a, sample) };
      for (const range of ranges) {
        if (o.used?.has(usedKey(sample.id, range.index))) continue;
        if (!target.isValidSample(ctx, sample, a, forTraining, range, now)) continue;
        const values = new Float64Array(nInd);
        let allNull = true;
        const cached = useCache ? o.cache!.get(sample.id, range.start, range.end) : undefined;
        let fresh: Map<string, number | null> | null = null;
        for (let j = 0; j < nInd; j++) {
          const ind = indicators[j]!;
          let v: number | null | undefined = cached?.get(ind.id);
          if (v === undefined) {
            v = ind.sampleKinds.includes(sample.kind)
              ? checkValue(ind.id, ind.calculate(ctx, sample, range))
              : null;
            if (useCache) (fresh ??= new Map()).set(ind.id, v);
          }
          values[j] = v === null ? NaN : v;
          if (v !== null) allNull = false;
        }
        if (fresh) o.cache!.set(sample.id, range.start, range.end, fresh);
        let label = NaN;
        if (forTraining || target.isStatic) {
          let map: Map<string, number | null> | undefined;
          if (target.requiredIndicators.length > 0) {
            map = new Map();
            for (const id of target.requiredIndicators) {
              const v = values[indicatorIds.indexOf(id)]!;
              map.set(id, Number.isNaN(v) ? null : v);
            }
          }
          const l = target.calculate(ctx, sample, a, range, map ?? new Map());
          if (l === null) continue;
          label = l;
        }
        if (allNull) {
          droppedAllNull++;
          continue;
        }
        p.rows.push({ sample, range, values, label });
      }
    }
    pendings.push(p);
    o.onProgress?.(++done, total);
    yield;
  }

  // Columns: range one-hot (only if the method asks and has > 1 range), indicators, then averages.
  const rangeCols = ts.includeRangeInfo && maxRanges > 1 ? maxRanges : 0;
  const featureNames: string[] = [];
  for (let r = 0; r < rangeCols; r++) featureNames.push(`range/${r}`);
  const centered = averages === 'centered';
  const isAvg = new Set(avgCols);
  indicators.forEach((ind, j) => featureNames.push(centered && isAvg.has(j) ? `${ind.id}/centered` : ind.id));
  const suffix = averages === 'relative' ? '/relative' : '/mean';
  if (!centered) for (const j of avgCols) featureNames.push(`${indicators[j]!.id}${suffix}`);
  const flagBase = featureNames.length;
  if (o.missingFlags) for (const ind of indicators) featureNames.push(`${ind.id}/missing`);
  const nFeatures = featureNames.length;
  const rows = pendings.reduce((n, p) => n + p.rows.length, 0);
  const x = new Float64Array(rows * nFeatures);
  const y = new Float64Array(rows);
  const values = new Float64Array(rows * nInd);
  const sampleIds: string[] = new Array(rows);
  const analysableIds: string[] = new Array(rows);
  const rangeIndex = new Int32Array(rows);
  const rangeStart = new Float64Array(rows);
  const rangeEnd = new Float64Array(rows);
  const analysableStart = new Float64Array(rows);
  let i = 0;
  for (const p of pendings) {
    // Per-range means of linear indicators over the analysable's samples (Moodle rounds them to 2 dp).
    const means = new Map<number, Float64Array>();
    for (const r of p.ranges) {
      const sum = new Float64Array(avgCols.length);
      const cnt = new Float64Array(avgCols.length);
      for (const row of p.rows) {
        if (row.range.index !== r.index) continue;
        avgCols.forEach((j, k) => {
          const v = row.values[j]!;
          if (!Number.isNaN(v)) {
            sum[k] = sum[k]! + v;
            cnt[k] = cnt[k]! + 1;
          }
        });
      }
      means.set(
        r.index,
        sum.map((s, k) => (cnt[k]! > 0 ? round2(s / cnt[k]!) : NaN)),
      );
    }
    for (const row of p.rows) {
      const base = i * nFeatures;
      if (rangeCols > 0) x[base + row.range.index] = 1;
      x.set(row.values, base + rangeCols);
      values.set(row.values, i * nInd);
      const m = means.get(row.range.index)!;
      if (centered) {
        avgCols.forEach((j, k) => {
          const v = row.values[j]!;
          x[base + rangeCols + j] = Number.isNaN(v) || Number.isNaN(m[k]!) ? NaN : v - m[k]!;
        });
      } else if (averages === 'relative') {
        avgCols.forEach((j, k) => {
          const v = row.values[j]!;
          x[base + rangeCols + nInd + k] = Number.isNaN(v) || Number.isNaN(m[k]!) ? NaN : v - m[k]!;
        });
      } else x.set(m, base + rangeCols + nInd);
      if (o.missingFlags)
        for (let j = 0; j < nInd; j++) x[base + flagBase + j] = Number.isNaN(row.values[j]!) ? 1 : 0;
      y[i] = row.label;
      sampleIds[i] = row.sample.id;
      analysableIds[i] = p.a.id;
      rangeIndex[i] = row.range.index;
      rangeStart[i] = row.range.start;
      rangeEnd[i] = row.range.end;
      analysableStart[i] = p.a.span.start ?? 0;
      i++;
    }
  }
  return {
    featureNames,
    x,
    y,
    values,
    rows,
    nFeatures,
    sampleIds,
    analysableIds,
    rangeIndex,
    rangeStart,
    rangeEnd,
    analysableStart,
    indicatorIds,
    droppedAllNull,
    skipped,
  };
}

/** Rows of `d` whose index passes `keep`, as a new dataset (same columns). */
export function subsetDataset(d: Dataset, keep: (row: number) => boolean): Dataset {
  const idx: number[] = [];
  for (let r = 0; r < d.rows; r++) if (keep(r)) idx.push(r);
  const n = idx.length;
  const x = new Float64Array(n * d.nFeatures);
  idx.forEach((r, k) => x.set(d.x.subarray(r * d.nFeatures, (r + 1) * d.nFeatures), k * d.nFeatures));
  const pick = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
    const out = make(n);
    idx.forEach((r, k) => (out[k] = a[r]!));
    return out;
  };
  const nInd = d.indicatorIds.length;
  const values = new Float64Array(n * nInd);
  idx.forEach((r, k) => values.set(d.values.subarray(r * nInd, (r + 1) * nInd), k * nInd));
  return {
    ...d,
    x,
    values,
    rows: n,
    y: pick(d.y, (m) => new Float64Array(m)),
    sampleIds: idx.map((r) => d.sampleIds[r]!),
    analysableIds: idx.map((r) => d.analysableIds[r]!),
    rangeIndex: pick(d.rangeIndex, (m) => new Int32Array(m)),
    rangeStart: pick(d.rangeStart, (m) => new Float64Array(m)),
    rangeEnd: pick(d.rangeEnd, (m) => new Float64Array(m)),
    analysableStart: pick(d.analysableStart, (m) => new Float64Array(m)),
  };
}

/** Indicator values of one row (the `calculations` kept with a prediction), null for missing. */
export function rowCalculations(d: Dataset, row: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const n = d.indicatorIds.length;
  d.indicatorIds.forEach((id, j) => {
    const v = d.values[row * n + j]!;
    out[id] = Number.isNaN(v) ? null : v;
  });
  return out;
}

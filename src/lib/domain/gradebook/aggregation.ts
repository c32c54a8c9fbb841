// The nine aggregation methods over one user's normalised child values, with the weights each child got.
// Pure and allocation-free on the hot path: callers pass scratch arrays. Never reads children's grades itself.
// Follows grade_category::aggregate_values_and_adjust_bounds in lib/grade/grade_category.php ([AGG-1]..[AGG-9]).
import type { Aggregation } from '../interchange/course-types.ts';
import { boundedGrade, standardise } from './range.ts';

/** Per-child facts for one category, indexed by child position (the category's child order). */
export interface AggChildren {
  /** aggregationcoef: weight (weighted mean), extra-credit flag/multiplier (others). */
  readonly coef: Float64Array;
  /** aggregationcoef2: Natural weight as stored (5 decimals). */
  readonly coef2: Float64Array;
  readonly weightOverride: Uint8Array;
  /** The child item's own range (simple weighted mean uses it, not the per-user one). */
  readonly itemMin: Float64Array;
  readonly itemMax: Float64Array;
}

export interface AggResult {
  /** Normalised 0..1 grade (NaN = null). */
  grade: number;
  grademin: number;
  grademax: number;
}

/**
 * Aggregates `n` children whose positions are `pos[0..n)` sorted ascending by `vals[pos]` (stable).
 * userMin/userMax: each child's effective range for this user (Natural uses them). catMin/catMax: the
 * category item's range (bound for extra-credit weight checks). Writes each used child's weight into
 * `weights[pos]` (0 for children given no weight) and returns the normalised grade and the result range.
 */
export function aggregateValues(
  method: Aggregation,
  n: number,
  pos: Int32Array,
  vals: Float64Array,
  ch: AggChildren,
  userMin: Float64Array,
  userMax: Float64Array,
  catMin: number,
  catMax: number,
  weights: Float64Array,
  out: AggResult,
): void {
  out.grademin = catMin;
  out.grademax = catMax;
  switch (method) {
    case 'median': {
      // [AGG-2] odd: the middle; even: mean of the two middle values, 0.5 weight each.
      for (let i = 0; i < n; i++) weights[pos[i]!] = 0;
      if (n % 2 === 0) {
        const a = pos[n / 2 - 1]!;
        const b = pos[n / 2]!;
        weights[a] = 0.5;
        weights[b] = 0.5;
        out.grade = (vals[a]! + vals[b]!) / 2;
      } else {
        const m = pos[(n - 1) / 2]!;
        weights[m] = 1;
        out.grade = vals[m]!;
      }
      return;
    }
    case 'lowest': {
      // [AGG-3]
      for (let i = 0; i < n; i++) weights[pos[i]!] = 0;
      weights[pos[0]!] = 1;
      out.grade = vals[pos[0]!]!;
      return;
    }
    case 'highest': {
      // [AGG-4]
      for (let i = 0; i < n; i++) weights[pos[i]!] = 0;
      weights[pos[n - 1]!] = 1;
      out.grade = vals[pos[n - 1]!]!;
      return;
    }
    case 'mode': {
      // [AGG-5] values compared as PHP strings (14 significant digits); highest of the most frequent wins,
      // and the result is that string's value. Weight 1/top goes to children equal to it as a number.
      // `weights` doubles as scratch for the string values until the end.
      for (let i = 0; i < n; i++) weights[pos[i]!] = phpFloatString(vals[pos[i]!]!);
      let topCount = 0;
      let best = -Infinity;
      for (let i = 0; i < n; i++) {
        const k = weights[pos[i]!]!;
        let c = 0;
        for (let j = 0; j < n; j++) if (weights[pos[j]!] === k) c++;
        if (c > topCount || (c === topCount && k > best)) {
          topCount = c;
          best = k;
        }
      }
      out.grade = best;
      for (let i = 0; i < n; i++) weights[pos[i]!] = vals[pos[i]!] === best ? 1 / topCount : 0;
      return;
    }
    case 'weighted_mean': {
      // [AGG-6]
      let wsum = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const p = pos[i]!;
        const c = ch.coef[p]!;
        weights[p] = c;
        if (c <= 0) continue;
        wsum += c;
        sum += c * vals[p]!;
      }
      if (wsum === 0) {
        out.grade = NaN;
      } else {
        out.grade = sum / wsum;
        for (let i = 0; i < n; i++) weights[pos[i]!] = weights[pos[i]!]! / wsum;
      }
      return;
    }
    case 'simple_weighted_mean': {
      // [AGG-7] weight = item range; extra credit adds to the sum only.
      let wsum = 0;
      let sum = 0;
      let sumNull = true;
      for (let i = 0; i < n; i++) {
        const p = pos[i]!;
        if (ch.coef[p]! > 0) continue;
        const w = ch.itemMax[p]! - ch.itemMin[p]!;
        if (w <= 0) continue;
        wsum += w;
        sum += w * vals[p]!;
        sumNull = false;
      }
      for (let i = 0; i < n; i++) {
        const p = pos[i]!;
        if (ch.coef[p]! <= 0) continue;
        const w = ch.itemMax[p]! - ch.itemMin[p]!;
        if (w <= 0) {
          weights[p] = 0;
          continue;
        }
        const oldsum = sum;
        const wg = w * vals[p]!;
        sum += wg;
        sumNull = false;
        if (wsum <= 0) {
          weights[p] = 0;
          continue;
        }
        weights[p] = ecWeight(oldsum / wsum, sum / wsum, vals[p]!, catMin, catMax, w / wsum);
      }
      out.grade = wsum === 0 ? (sumNull ? NaN : sum) : sum / wsum;
      for (let i = 0; i < n; i++) {
        const p = pos[i]!;
        if (ch.coef[p]! > 0) continue;
        weights[p] = wsum > 0 ? (ch.itemMax[p]! - ch.itemMin[p]!) / wsum : 0;
      }
      return;
    }
    case 'extra_credit_mean': {
      // [AGG-8]
      let num = 0;
      let sum = 0;
      let sumNull = true;
      for (let i = 0; i < n; i++) {
        const p = pos[i]!;
        weights[p] = 0;
        if (ch.coef[p]! === 0) {
          num++;
          sum += vals[p]!;
          sumNull = false;
          weights[p] = 1;
        }
      }
      for (let i = 0; i < n; i++) {
        const p = pos[i]!;
        const c = ch.coef[p]!;
        if (c <= 0) continue;
        const oldsum = sum;
        sum += c * vals[p]!;
        sumNull = false;
        if (num <= 0) continue;
        weights[p] = ecWeight(oldsum / num, sum / num, vals[p]!, catMin, catMax, 1 / num);
      }
      if (num > 0) {
        for (let i = 0; i < n; i++) {
          const p = pos[i]!;
          if (ch.coef[p]! > 0) continue;
          if (weights[p]) weights[p] = 1 / num;
        }
      }
      out.grade = num === 0 ? (sumNull ? NaN : sum) : sum / num;
      return;
    }
    case 'natural': {
      naturalSum(n, pos, vals, ch, userMin, userMax, catMin, catMax, weights, out);
      return;
    }
    case 'mean':
    default: {
      // [AGG-1]
      let sum = 0;
      for (let i = 0; i < n; i++) sum += vals[pos[i]!]!;
      out.grade = sum / n;
      for (let i = 0; i < n; i++) weights[pos[i]!] = 1 / n;
      return;
    }
  }
}

/** The effective weight of an extra-credit child once the category bound may have cut it ([AGG-7], [AGG-8]). */
function ecWeight(
  oldgrade: number,
  grade: number,
  x: number,
  catMin: number,
  catMax: number,
  full: number,
): number {
  const normold = standardise(oldgrade, 0, 1, catMin, catMax);
  const norm = standardise(grade, 0, 1, catMin, catMax);
  const bold = boundedGrade(normold, catMin, catMax, false);
  const bnew = boundedGrade(norm, catMin, catMax, false);
  if (bnew - bold <= 0) return 0;
  if (bnew < norm) {
    const diff = bnew - normold;
    return standardise(diff, catMin, catMax, 0, 1) / x;
  }
  return full;
}

/** [AGG-9] Natural (SUM): per-user maxima, overridden weights renormalised, extra credit capped at the category max. */
function naturalSum(
  n: number,
  pos: Int32Array,
  vals: Float64Array,
  ch: AggChildren,
  userMin: Float64Array,
  userMax: Float64Array,
  catMin: number,
  catMax: number,
  weights: Float64Array,
  out: AggResult,
): void {
  let sumweights = 0;
  let gmin = 0;
  let gmax = 0;
  for (let i = 0; i < n; i++) {
    const p = pos[i]!;
    if (ch.coef[p]! > 0) continue;
    if (ch.coef2[p]! > 0) {
      gmin += userMin[p]!;
      gmax += userMax[p]!;
      sumweights += ch.coef2[p]!;
    }
  }
  // Per-user weights are written straight into `weights`.
  let totalOverW = 0;
  let totalOverMax = 0;
  for (let i = 0; i < n; i++) {
    const p = pos[i]!;
    if (!ch.weightOverride[p]) continue;
    if (ch.coef2[p]! <= 0) {
      weights[p] = 0;
      continue;
    }
    weights[p] = sumweights ? ch.coef2[p]! / sumweights : 0;
    if (ch.coef[p]! > 0) continue;
    totalOverW += weights[p]!;
    totalOverMax += userMax[p]!;
  }
  const nonOverPoints = gmax - totalOverMax;
  for (let i = 0; i < n; i++) {
    const p = pos[i]!;
    if (ch.weightOverride[p] || ch.coef[p]! > 0) continue;
    if (nonOverPoints > 0) {
      weights[p] = (userMax[p]! / nonOverPoints) * (1 - totalOverW);
    } else {
      weights[p] = 0;
      // Quirk kept: a zero-weight item's max leaves the total only when its weight was set to 0.
      if (ch.coef2[p]! > 0) gmax -= userMax[p]!;
    }
  }
  for (let i = 0; i < n; i++) {
    const p = pos[i]!;
    if (ch.weightOverride[p] || !(ch.coef[p]! > 0)) continue;
    weights[p] = gmax ? userMax[p]! / gmax : 0;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = pos[i]!;
    if (ch.coef[p]! > 0) continue;
    sum += vals[p]! * weights[p]! * gmax;
  }
  // Extra credit, one by one, bounded by the category item's stored range for the weight report.
  for (let i = 0; i < n; i++) {
    const p = pos[i]!;
    if (!(ch.coef[p]! > 0)) continue;
    const oldsum = sum;
    const wg = vals[p]! * weights[p]! * gmax;
    sum += wg;
    if (gmax <= 0) continue;
    const bold = boundedGrade(oldsum, catMin, catMax, false);
    const bnew = boundedGrade(sum, catMin, catMax, false);
    const diff = bnew - bold;
    if (diff <= 0) weights[p] = 0;
    else if (diff < wg) weights[p] = diff / (vals[p]! * gmax);
  }
  if (gmax > 0) {
    out.grade = sum / gmax;
  } else {
    out.grade = sum;
    gmax = sum;
  }
  out.grademin = gmin;
  out.grademax = gmax;
}

/** PHP's (string) of a float: 14 significant digits (precision ini), read back as a number. */
export function phpFloatString(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const e = 13 - Math.floor(Math.log10(Math.abs(v)));
  if (e > 0 && e < 300) {
    const f = 10 ** e;
    const s = v * f;
    const r = Math.round(s);
    // Away from a half, rounding the scaled value is exact enough; near one, let the runtime decide.
    if (Math.abs(Math.abs(s - r) - 0.5) > 1e-3) return r / f;
  }
  return Number(v.toPrecision(14));
}

// Grade ranges: raw -> final adjustment, standardising, bounding, 5-decimal storage and rescaling.
// Pure arithmetic on numbers; never reads a clock or touches storage. Follows lib/grade/grade_item.php
// (adjust_raw_grade, bounded_grade, rescale_grades_keep_percentage) and lib/grade/grade_grade.php (standardise_score).

/** Moodle stores every grade number as DECIMAL(10,5) (lib/db/install.xml, grade_floatval): [RNG-6]. */
export function round5(v: number): number {
  if (!Number.isFinite(v)) return v;
  const s = Math.abs(v) * 1e5;
  const fl = Math.floor(s);
  const frac = s - fl;
  let r: number;
  // Fast path away from a half; near a half, remove binary noise first (as PHP's round does), so
  // 1.000005 rounds up. 1e-6 is far above double noise at these magnitudes and far below 0.5.
  if (Math.abs(frac - 0.5) > 1e-6) r = frac < 0.5 ? fl : fl + 1;
  else r = Math.round(Number(s.toPrecision(15)));
  const out = (Math.sign(v) * r) / 1e5;
  return out === 0 ? 0 : out;
}

/** grade_grade::standardise_score [RNG-2]: maps v from [smin,smax] to [tmin,tmax]; zero-width ranges give tmax. NaN = null. */
export function standardise(v: number, smin: number, smax: number, tmin: number, tmax: number): number {
  if (Number.isNaN(v)) return NaN;
  if (smax - smin === 0 || tmax - tmin === 0) return tmax;
  return ((v - smin) / (smax - smin)) * (tmax - tmin) + tmin;
}

/** grade_item::bounded_grade [RNG-3]: scale items round half up (+0.00001) then clamp; value items clamp. */
export function boundedGrade(v: number, min: number, max: number, isScale: boolean): number {
  if (Number.isNaN(v)) return NaN;
  if (isScale) {
    const r = Math.round(v + 0.00001);
    return Math.trunc(Math.max(min, Math.min(max, r)));
  }
  if (v < min) return min;
  if (v > max) return max;
  return v;
}

export interface ItemRange {
  readonly min: number;
  readonly max: number;
  readonly isScale: boolean;
  readonly multfactor: number;
  readonly plusfactor: number;
}

/**
 * grade_item::adjust_raw_grade [RNG-1]: raw grade graded on [rawmin, rawmax] -> final grade of the item.
 * Value items: rescale when ranges differ, x multfactor + plusfactor, clamp. Scales: rescale, round, clamp;
 * factors are not applied to scales. NaN (null) stays NaN.
 */
export function adjustRawGrade(raw: number, rawmin: number, rawmax: number, item: ItemRange): number {
  if (Number.isNaN(raw)) return NaN;
  const { min, max } = item;
  if (!item.isScale) {
    if (max < min) return NaN;
    if (max === min) return max;
    let g = raw;
    if (rawmin !== min || rawmax !== max) g = standardise(raw, rawmin, rawmax, min, max);
    g = g * item.multfactor + item.plusfactor;
    return boundedGrade(g, min, max, false);
  }
  if (max < 0) return NaN;
  if (max === 0) return 0;
  let g = raw;
  if (rawmin !== min || rawmax !== max) g = standardise(raw, rawmin, rawmax, min, max);
  return boundedGrade(g, min, max, true);
}

/**
 * grade_item::rescale_grades_keep_percentage [RNG-4]: maps a stored grade from the old range to the new one.
 * Throws when the old range is empty or the new width is below 1, as Moodle refuses those.
 */
export function rescaleKeepPercentage(
  g: number,
  oldmin: number,
  oldmax: number,
  newmin: number,
  newmax: number,
): number {
  const oldw = oldmax - oldmin;
  const neww = newmax - newmin;
  if (oldw === 0 || neww < 1)
    throw new RangeError(`cannot rescale from ${oldmin}..${oldmax} to ${newmin}..${newmax}`);
  if (Number.isNaN(g)) return NaN;
  return (g - oldmin) * (neww / oldw) + newmin;
}

// Natural (SUM) setup numbers: automatic item weights and the category maximum ([NAT-1]..[NAT-4]).
// Course-level, not per user; run deepest category first before each full regrade. Pure arithmetic.
// Follows grade_category::auto_update_weights / auto_update_max / can_apply_limit_rules (lib/grade/grade_category.php).
import { round5 } from './range.ts';
import { applyLimitRules } from './limit-rules.ts';

export interface NaturalChild {
  /** extra credit flag (aggregationcoef > 0) */
  extra: boolean;
  weightOverride: boolean;
  /** aggregationcoef2: on input the stored/overridden weight; updated in place. */
  coef2: number;
  grademax: number;
  isCategory: boolean;
}

/** [NAT-1]/[NAT-2] Recomputes coef2 of `weighted` children in place (rounded to 5 decimals as stored). */
export function autoUpdateWeights(children: NaturalChild[]): void {
  let totalGrademax = 0;
  let totalOverW = 0;
  let totalOverMax = 0;
  let automaticPresent = false;
  for (const c of children) {
    if (!c.weightOverride && !c.extra) automaticPresent = true;
    if (c.extra) continue;
    if (c.weightOverride && c.coef2 <= 0) continue;
    totalGrademax += c.grademax;
    if (c.weightOverride) {
      totalOverW += c.coef2;
      totalOverMax += c.grademax;
    }
  }
  let normaliseTotal = 0;
  let overriddenTotal = 0;
  for (const c of children) {
    if (!c.extra) normaliseTotal += c.coef2;
    if (c.weightOverride && !c.extra && c.coef2 > 0) overriddenTotal += c.coef2;
  }
  let requiresNormalising = false;
  if (overriddenTotal > 1) {
    requiresNormalising = true;
    normaliseTotal = overriddenTotal;
  }
  const totalNonOverMax = totalGrademax - totalOverMax;
  for (const c of children) {
    if (c.extra && c.weightOverride) continue;
    let w = c.coef2;
    if (c.extra) {
      w = totalGrademax ? c.grademax / totalGrademax : 0;
    } else if (!c.weightOverride) {
      if (totalOverW >= 1 || totalNonOverMax === 0 || c.grademax === 0) w = 0;
      else w = (c.grademax / totalNonOverMax) * (1 - totalOverW);
    } else if ((!automaticPresent && normaliseTotal !== 1) || requiresNormalising || c.coef2 < 0) {
      w = normaliseTotal === 0 || c.coef2 < 0 ? 0 : c.coef2 / normaliseTotal;
    }
    c.coef2 = round5(w);
  }
}

/** [NAT-4] Limit rules apply in Natural only with no sub-category, no extra credit, equal weights and maxima. */
export function canApplyLimitRulesNatural(children: readonly NaturalChild[]): boolean {
  let lastW: number | null = null;
  let lastMax: number | null = null;
  for (const c of children) {
    if (c.isCategory || c.extra) return false;
    if (lastW !== null && lastW !== c.coef2) return false;
    if (lastMax !== null && lastMax !== c.grademax) return false;
    lastW = c.coef2;
    lastMax = c.grademax;
  }
  return true;
}

/** [NAT-3] The category maximum: non-extra-credit children with weight > 0, after the limit rules on maxima. */
export function autoUpdateMax(
  children: readonly NaturalChild[],
  dropLowest: number,
  keepHighest: number,
  canApplyLimits: boolean,
): number {
  const vals = new Float64Array(children.length);
  const pos = new Int32Array(children.length);
  const maxes = new Float64Array(children.length);
  const noExtra = new Uint8Array(children.length);
  let n = 0;
  children.forEach((c, i) => {
    maxes[i] = c.grademax;
    if (c.extra || c.coef2 <= 0) return;
    vals[i] = c.grademax;
    pos[n++] = i;
  });
  if (canApplyLimits) n = applyLimitRules(dropLowest, keepHighest, pos, n, vals, maxes, noExtra, true);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += vals[pos[i]!]!;
  return round5(sum);
}

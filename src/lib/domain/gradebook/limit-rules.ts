// Drop lowest / keep highest over one user's child values, with Moodle's tie-breaks ([LIM-1]..[LIM-3]).
// Pure; works in place on a position list. Follows grade_category::apply_limit_rules (lib/grade/grade_category.php).

/** Stable ascending sort of pos[0..n) by vals[pos] (PHP 8 asort is stable). Insertion sort: n is a category's child count. */
export function sortAsc(pos: Int32Array, n: number, vals: Float64Array): void {
  for (let i = 1; i < n; i++) {
    const p = pos[i]!;
    const v = vals[p]!;
    let j = i - 1;
    while (j >= 0 && vals[pos[j]!]! > v) {
      pos[j + 1] = pos[j]!;
      j--;
    }
    pos[j + 1] = p;
  }
}

/** Stable descending sort (PHP arsort): equal values keep their order. */
function sortDesc(pos: Int32Array, n: number, vals: Float64Array): void {
  for (let i = 1; i < n; i++) {
    const p = pos[i]!;
    const v = vals[p]!;
    let j = i - 1;
    while (j >= 0 && vals[pos[j]!]! < v) {
      pos[j + 1] = pos[j]!;
      j--;
    }
    pos[j + 1] = p;
  }
}

/**
 * Applies drop-lowest (wins when both are set) or keep-highest to pos[0..n); returns the new count.
 * Removed positions are written to `dropped` (if given) in removal order; the count of those is returned
 * in dropCount[0]. `isExtra(p)` is true for extra-credit children when the method uses extra credit.
 */
export function applyLimitRules(
  dropLowest: number,
  keepHighest: number,
  pos: Int32Array,
  n: number,
  vals: Float64Array,
  itemMax: Float64Array,
  isExtra: Uint8Array,
  extraUsed: boolean,
): number {
  if (dropLowest > 0) {
    sortAsc(pos, n, vals);
    let dropped = 0;
    while (dropped < dropLowest && n > 0) {
      // [LIM-1] the first non-extra-credit value, then among following equal values the largest grademax.
      let found = -1;
      for (let i = 0; i < n; i++) {
        if (!extraUsed || !isExtra[pos[i]!]) {
          found = i;
          break;
        }
      }
      if (found < 0) break;
      let foundMax = itemMax[pos[found]!]!;
      const v = vals[pos[found]!]!;
      for (let i = found + 1; i < n; i++) {
        const q = pos[i]!;
        if (vals[q] !== v) break;
        if (extraUsed && isExtra[q]) continue;
        if (foundMax < itemMax[q]!) {
          foundMax = itemMax[q]!;
          found = i;
        }
      }
      for (let i = found; i < n - 1; i++) pos[i] = pos[i + 1]!;
      n--;
      dropped++;
    }
    return n;
  }
  if (keepHighest > 0) {
    // [LIM-2] keep the k highest non-extra-credit values and every extra-credit one.
    sortDesc(pos, n, vals);
    let kept = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const p = pos[i]!;
      if (extraUsed && isExtra[p]) pos[m++] = p;
      else if (kept < keepHighest) {
        kept++;
        pos[m++] = p;
      }
    }
    return m;
  }
  return n;
}

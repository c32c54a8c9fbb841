// Grade letters: the default table, level inheritance (site -> category -> course) and value -> letter ([LET-1]..[LET-3]).
// Pure. Follows grade_get_letters and grade_format_gradevalue_letter (lib/gradelib.php).
import { standardise } from './range.ts';

/** A letter table: lower boundary percent -> letter. */
export type LetterTable = ReadonlyMap<number, string>;

/** [LET-1] Moodle's default letters (lib/gradelib.php grade_get_letters). */
export const DEFAULT_LETTERS: LetterTable = new Map([
  [93, 'A'],
  [90, 'A-'],
  [87, 'B+'],
  [83, 'B'],
  [80, 'B-'],
  [77, 'C+'],
  [73, 'C'],
  [70, 'C-'],
  [67, 'D+'],
  [60, 'D'],
  [0, 'F'],
]);

/** Builds a table from course JSON `settings.letters` ({"93": "A", ...}); boundaries kept to 5 decimals. */
export function letterTable(record: Readonly<Record<string, string>>): LetterTable {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(record)) m.set(Math.round(Number(k) * 1e5) / 1e5, v);
  return m;
}

/** [LET-2] The nearest level that defines letters wins: pass levels from the context itself outwards. */
export function resolveLetters(...levels: ReadonlyArray<LetterTable | undefined>): LetterTable {
  for (const l of levels) if (l && l.size > 0) return l;
  return DEFAULT_LETTERS;
}

/**
 * [LET-3] Letter for a grade on [min, max]: no rounding before comparing; boundaries are inclusive and pass
 * through the same standardise call so both sides carry the same floating-point error. null when no
 * boundary matches (or no grade).
 */
export function gradeLetter(
  value: number | null,
  min: number,
  max: number,
  letters: LetterTable,
): string | null {
  if (value === null || Number.isNaN(value)) return null;
  let p = standardise(value, min, max, 0, 100);
  if (p > 100) p = 100;
  if (p < 0) p = 0;
  for (const b of sortedBounds(letters)) if (p >= standardise(b, 0, 100, 0, 100)) return letters.get(b)!;
  return null;
}

const boundsCache = new WeakMap<LetterTable, number[]>();

/** Boundaries highest first, sorted once per table. */
function sortedBounds(letters: LetterTable): number[] {
  let b = boundsCache.get(letters);
  if (!b) {
    b = [...letters.keys()].sort((x, y) => y - x);
    boundsCache.set(letters, b);
  }
  return b;
}

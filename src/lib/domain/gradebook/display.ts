// Display formatting of grades: real, percentage, letter and the six combinations, with PHP-style rounding.
// Pure string formatting ([DISP-1]..[DISP-3]); never changes stored values. Follows grade_format_gradevalue
// (lib/gradelib.php) and format_float (lib/moodlelib.php, PHP number_format).
import { gradeLetter, type LetterTable, DEFAULT_LETTERS } from './letters.ts';
import { boundedGrade } from './range.ts';

export type DisplayBase = 'real' | 'percentage' | 'letter';
export type DisplayType = DisplayBase | `${DisplayBase}_${DisplayBase}`;

const CODES: Record<string, DisplayType> = {
  '1': 'real',
  '2': 'percentage',
  '3': 'letter',
  '12': 'real_percentage',
  '13': 'real_letter',
  '21': 'percentage_real',
  '23': 'percentage_letter',
  '31': 'letter_real',
  '32': 'letter_percentage',
};

/** Accepts `real`, `real_percentage`, `real (percentage)`, `Real (Letter)` or Moodle's codes 1..32. */
export function parseDisplayType(s: string): DisplayType | null {
  const t = s.trim().toLowerCase();
  if (CODES[t]) return CODES[t];
  const m = /^(real|percentage|letter)(?:\s*(?:_|\(|\s)\s*(real|percentage|letter)\)?)?$/.exec(t);
  if (!m) return null;
  if (!m[2]) return m[1] as DisplayBase;
  if (m[1] === m[2]) return null;
  return `${m[1]}_${m[2]}` as DisplayType;
}

/**
 * [DISP-1] PHP number_format: halves away from zero after removing binary noise, so 1.005 -> "1.01"
 * (JS toFixed gives "1.00"). No thousands separator, "." as the decimal point.
 */
export function formatFloat(v: number, decimals: number): string {
  const f = 10 ** decimals;
  const s = Number((Math.abs(v) * f).toPrecision(15));
  const r = Math.round(s);
  const out = (r / f).toFixed(decimals);
  return v < 0 && r !== 0 ? `-${out}` : out;
}

export interface FormatContext {
  min: number;
  max: number;
  decimals?: number;
  letters?: LetterTable;
  /** Scale labels: real display of a scale item shows the label. */
  scale?: readonly string[] | null;
}

/** [DISP-2] One value in one display type; "-" for no grade. Combinations show the second in brackets. */
export function formatGrade(value: number | null, type: DisplayType, ctx: FormatContext): string {
  if (value === null || Number.isNaN(value)) return '-';
  const parts = type.split('_') as DisplayBase[];
  const first = formatOne(value, parts[0]!, ctx);
  if (parts.length === 1) return first;
  return `${first} (${formatOne(value, parts[1]!, ctx)})`;
}

function formatOne(value: number, base: DisplayBase, ctx: FormatContext): string {
  const decimals = ctx.decimals ?? 2;
  switch (base) {
    case 'real': {
      if (ctx.scale && ctx.scale.length) {
        const i = Math.trunc(boundedGrade(value, ctx.min, ctx.max, true));
        return ctx.scale[i - 1] ?? '-';
      }
      return formatFloat(value, decimals);
    }
    case 'percentage': {
      const p = percentage(value, ctx.min, ctx.max);
      return p === null ? '' : `${formatFloat(p, decimals)} %`;
    }
    case 'letter':
      return gradeLetter(value, ctx.min, ctx.max, ctx.letters ?? DEFAULT_LETTERS) ?? '-';
  }
}

/** [DISP-3] Percentage of the range after bounding; null when min = max or no grade. */
export function percentage(value: number | null, min: number, max: number): number | null {
  if (value === null || Number.isNaN(value) || min === max) return null;
  const v = boundedGrade(value, min, max, false);
  return ((v - min) * 100) / (max - min);
}

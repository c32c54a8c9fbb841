// Text comparison as the plugin's SQL does it: ignoring case and accents (COH-F1).
// Pure string functions; never locale- or clock-dependent.

const MARKS = /\p{M}+/gu;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Lower-cases and strips accents ("Émile" -> "emile"); ASCII takes the fast path. */
export function foldText(s: string): string {
  if (isAscii(s)) return s.toLowerCase();
  return s.normalize('NFD').replace(MARKS, '').toLowerCase();
}

export const TEXT_OPERATORS = [
  'contains',
  'not_contains',
  'equals',
  'not_equals',
  'starts_with',
  'ends_with',
  'is_empty',
  'is_not_empty',
] as const;
export type TextOperator = (typeof TEXT_OPERATORS)[number];

export const MENU_OPERATORS = ['equals', 'not_equals'] as const;
export type MenuOperator = (typeof MENU_OPERATORS)[number];

export const DATE_OPERATORS = [
  'is_after',
  'is_before',
  'is_empty',
  'is_not_empty',
  'in_the_past',
  'in_the_future',
] as const;
export type DateOperator = (typeof DATE_OPERATORS)[number];

/** Operators that do not read the configured value. */
export const VALUELESS = new Set(['is_empty', 'is_not_empty', 'in_the_past', 'in_the_future']);

/**
 * A text test over an already-folded stored string. `null` stored means "no stored value": every
 * operator fails on it, negative ones included (the plugin's SQL: NULL satisfies no comparison).
 */
export function textTest(op: TextOperator, foldedValue: string): (stored: string | null) => boolean {
  const v = foldedValue;
  switch (op) {
    case 'contains':
      return (s) => s !== null && s.includes(v);
    case 'not_contains':
      return (s) => s !== null && !s.includes(v);
    case 'equals':
      return (s) => s !== null && s === v;
    case 'not_equals':
      return (s) => s !== null && s !== v;
    case 'starts_with':
      return (s) => s !== null && s.startsWith(v);
    case 'ends_with':
      return (s) => s !== null && s.endsWith(v);
    case 'is_empty':
      return (s) => s === '';
    case 'is_not_empty':
      return (s) => s !== null && s !== '';
  }
}

const TEXT_LABEL: Record<string, string> = {
  contains: 'contains',
  not_contains: "doesn't contain",
  equals: 'is equal to',
  not_equals: 'is not equal to',
  starts_with: 'starts with',
  ends_with: 'ends with',
  is_empty: 'is empty',
  is_not_empty: 'is not empty',
  is_after: 'is after',
  is_before: 'is before',
  in_the_past: 'is in the past',
  in_the_future: 'is in the future',
};

export function operatorLabel(op: string): string {
  return TEXT_LABEL[op] ?? op;
}

/** Formats unix seconds as a UTC date (and time when not midnight) for descriptions. */
export function formatTime(t: number): string {
  const iso = new Date(t * 1000).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

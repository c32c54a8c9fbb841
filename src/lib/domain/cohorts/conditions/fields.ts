// Shared field machinery for user profile, custom profile and cohort field conditions (COH-F1..F6).
// Follows tool_dynamic_cohorts classes/local/tool_dynamic_cohorts/condition/fields_trait.php. Pure.

import type { FieldDefType, FieldValue } from '../../interchange/site-json.ts';
import {
  DATE_OPERATORS,
  MENU_OPERATORS,
  TEXT_OPERATORS,
  VALUELESS,
  foldText,
  formatTime,
  operatorLabel,
  textTest,
  type TextOperator,
} from '../text.ts';
import { broken, type Broken } from './types.ts';

export type FieldKind = 'text' | 'menu' | 'checkbox' | 'datetime' | 'autocomplete';

/** Maps a stored datatype to how it compares; null = not supported (textarea). */
export function kindOf(datatype: FieldDefType): FieldKind | null {
  switch (datatype) {
    case 'select':
      return 'menu';
    case 'date':
      return 'datetime';
    case 'textarea':
      return null;
    default:
      return datatype;
  }
}

export function operatorsFor(kind: FieldKind): readonly string[] {
  switch (kind) {
    case 'text':
      return TEXT_OPERATORS;
    case 'datetime':
      return DATE_OPERATORS;
    default:
      return MENU_OPERATORS;
  }
}

/** Every operator any field kind accepts (what the JSON reader lets through before the kind is known). */
export const ANY_FIELD_OPERATOR = [...new Set<string>([...TEXT_OPERATORS, ...DATE_OPERATORS])];

/**
 * Why a field condition cannot run: the operator is not one this kind of field has, or the value is
 * blank while the operator needs one (COH-F6, plugin test_is_broken). `at` names the condition.
 */
export function fieldBroken(kind: FieldKind, op: string, value: string | number | null): Broken | null {
  if (!operatorsFor(kind).includes(op))
    return broken(
      'operator',
      `"${op}" is not an operator for a ${kind} field (use ${operatorsFor(kind).join(', ')})`,
    );
  if (VALUELESS.has(op)) return null;
  if (value === null || value === '') return broken('value', `a value is required for "${op}"`);
  if (kind === 'datetime' && !Number.isFinite(toNumber(value)))
    return broken('value', `"${value}" is not a time (unix seconds)`);
  return null;
}

function toNumber(v: string | number): number {
  return typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
}

/** Stored text as the database would hold it: arrays joined with comma-space, numbers as text. */
export function storedText(v: FieldValue | undefined): string | null {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

function checkboxBit(v: FieldValue | string | number): '0' | '1' {
  if (v === true || v === 1) return '1';
  if (
    typeof v === 'string' &&
    (v.trim() === '1' || foldText(v.trim()) === 'true' || foldText(v.trim()) === 'yes')
  )
    return '1';
  return '0';
}

/** Dates stored as text are cast to integers (plugin fix #160: never compared as strings). */
export function storedTime(v: FieldValue | undefined): number | null {
  if (v === undefined) return null;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean' || Array.isArray(v)) return 0;
  const n = Number(v.trim());
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

function options(v: FieldValue): string[] {
  const list = Array.isArray(v) ? v : String(v).split(',');
  return list.map((s) => foldText(s.trim())).filter((s) => s !== '');
}

/**
 * The test over one stored value (`undefined` = no stored value). Call only when fieldBroken is null.
 * Missing values fail every operator (negative ones too) except date "is empty"; `includeMissing`
 * ORs them in (COH-F2, COH-F3).
 */
export function storedTest(
  kind: FieldKind,
  op: string,
  value: string | number | null,
  includeMissing: boolean,
  now: number,
): (v: FieldValue | undefined) => boolean {
  const onMissing = includeMissing || (kind === 'datetime' && op === 'is_empty');
  let present: (v: FieldValue) => boolean;
  switch (kind) {
    case 'text': {
      const t = textTest(op as TextOperator, foldText(String(value ?? '')));
      present = (v) => t(foldText(storedText(v)!));
      break;
    }
    case 'menu': {
      const want = foldText(String(value ?? '').trim());
      present =
        op === 'equals'
          ? (v) => foldText(storedText(v)!.trim()) === want
          : (v) => foldText(storedText(v)!.trim()) !== want;
      break;
    }
    case 'checkbox': {
      const want = checkboxBit(value ?? 0);
      present = op === 'equals' ? (v) => checkboxBit(v) === want : (v) => checkboxBit(v) !== want;
      break;
    }
    case 'autocomplete': {
      // Exact option match: deliberately NOT the plugin's unanchored prefix (where "Option 1" matched "Option 10").
      const want = foldText(String(value ?? '').trim());
      present = op === 'equals' ? (v) => options(v).includes(want) : (v) => !options(v).includes(want);
      break;
    }
    case 'datetime': {
      const t = value === null ? 0 : toNumber(value);
      // 0 is Moodle's "no date": it is empty, and is never before, after, past or future.
      switch (op) {
        case 'is_empty':
          present = (v) => storedTime(v) === 0;
          break;
        case 'is_not_empty':
          // Deliberately against 0, not the plugin's bug of comparing with the hidden date value.
          present = (v) => storedTime(v) !== 0;
          break;
        case 'is_after':
          present = (v) => nonzero(v, (x) => x >= t);
          break;
        case 'is_before':
          present = (v) => nonzero(v, (x) => x <= t);
          break;
        case 'in_the_past':
          present = (v) => nonzero(v, (x) => x <= now);
          break;
        default:
          present = (v) => nonzero(v, (x) => x >= now);
      }
      break;
    }
  }
  return (v) => (v === undefined ? onMissing : present(v));
}

function nonzero(v: FieldValue, f: (x: number) => boolean): boolean {
  const x = storedTime(v)!;
  return x !== 0 && f(x);
}

/** "⟨label⟩ ⟨operator⟩ ⟨value⟩" with the value dropped for valueless operators (COH-D1). */
export function describeField(
  label: string,
  kind: FieldKind,
  op: string,
  value: string | number | null,
  includeMissing: boolean,
): string {
  let s = `${label} ${operatorLabel(op)}`;
  if (!VALUELESS.has(op)) {
    if (kind === 'datetime' && value !== null && Number.isFinite(toNumber(value)))
      s += ` ${formatTime(toNumber(value))}`;
    else if (kind === 'checkbox') s += ` ${checkboxBit(value ?? 0) === '1' ? '"Yes"' : '"No"'}`;
    else s += ` "${value ?? ''}"`;
  }
  if (includeMissing) s += ' (including missing data)';
  return s;
}

// Course JSON (shared/spec/course-json.md): parse and validate with errors naming the JSON path, and serialise.
// Pure; all-or-nothing: returns a validated copy or throws one ValidationError listing every problem found.
// Never applies defaults or changes a field's meaning: unknown extra fields pass through untouched.
import { ValidationError, jsonPath, type Problem } from '../shared/errors.ts';
import {
  AGGREGATIONS,
  type CourseCategory,
  type CourseGrade,
  type CourseItem,
  type CourseJson,
  type CourseSettings,
} from './course-types.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly problems: Problem[] = [];
  add(at: string, message: string): void {
    this.problems.push({ at, message });
  }
  /** Type checks one field; returns false (and records why) when present and wrong, or missing and required. */
  field(o: Obj, key: string, at: string, kind: FieldKind, required = false): boolean {
    const v = o[key];
    if (v === undefined) {
      if (required) this.add(jsonPath(at, key), `is required (${describe(kind)})`);
      return !required;
    }
    const ok = check(kind, v);
    if (!ok) this.add(jsonPath(at, key), `must be ${describe(kind)}, got ${show(v)}`);
    return ok;
  }
}

type FieldKind =
  | 'string'
  | 'nonEmptyString'
  | 'stringOrNull'
  | 'number'
  | 'numberOrNull'
  | 'bool'
  | 'count'
  | 'flagOrTime'
  | 'stringArrayOrNull';

function check(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'nonEmptyString':
      return typeof v === 'string' && v.length > 0;
    case 'stringOrNull':
      return v === null || typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'numberOrNull':
      return v === null || (typeof v === 'number' && Number.isFinite(v));
    case 'bool':
      return typeof v === 'boolean';
    case 'count':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0;
    case 'flagOrTime':
      return typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
    case 'stringArrayOrNull':
      return v === null || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  }
}

function describe(kind: FieldKind): string {
  return {
    string: 'a string',
    nonEmptyString: 'a non-empty string',
    stringOrNull: 'a string or null',
    number: 'a finite number',
    numberOrNull: 'a finite number or null',
    bool: 'true or false',
    count: 'a whole number >= 0',
    flagOrTime: 'true, false or unix seconds',
    stringArrayOrNull: 'an array of strings or null',
  }[kind];
}

function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Validates a course document (already JSON-parsed). Throws ValidationError listing every problem. */
export function validateCourseJson(input: unknown): CourseJson {
  const c = new Checker();
  if (!isObj(input))
    throw new ValidationError([{ at: '$', message: 'a course document must be a JSON object' }]);
  for (const key of ['categories', 'items', 'grades'] as const) {
    if (!Array.isArray(input[key])) c.add(jsonPath('$', key), 'is required (an array)');
  }
  if (!isObj(input.settings)) c.add('$.settings', 'is required (an object)');
  if (input.users !== undefined && !Array.isArray(input.users)) c.add('$.users', 'must be an array');
  if (c.problems.length) throw new ValidationError(c.problems);

  const categories = input.categories as unknown[];
  const items = input.items as unknown[];
  const grades = input.grades as unknown[];
  const settings = input.settings as Obj;

  const catIds = new Map<string, number>();
  const idnumbers = new Map<string, string>();
  let roots = 0;
  categories.forEach((raw, i) => {
    const at = jsonPath('$', 'categories', i);
    if (!isObj(raw)) return c.add(at, 'must be an object');
    if (c.field(raw, 'id', at, 'nonEmptyString', true)) {
      const id = raw.id as string;
      if (id === 'course') c.add(jsonPath(at, 'id'), '"course" is reserved for the course total');
      else if (catIds.has(id))
        c.add(jsonPath(at, 'id'), `duplicate category id "${id}" (also $.categories[${catIds.get(id)}])`);
      else catIds.set(id, i);
    }
    if (!('parent' in raw)) c.add(jsonPath(at, 'parent'), 'is required (a category id or null)');
    else if (c.field(raw, 'parent', at, 'stringOrNull') && raw.parent === null) roots++;
    c.field(raw, 'name', at, 'string', true);
    if (!AGGREGATIONS.includes(raw.aggregation as never)) {
      c.add(
        jsonPath(at, 'aggregation'),
        `must be one of ${AGGREGATIONS.join(', ')}, got ${show(raw.aggregation)}`,
      );
    }
    for (const k of [
      'aggregateOnlyGraded',
      'aggregateSubcategories',
      'aggregateOutcomes',
      'weightOverride',
      'extraCredit',
    ])
      c.field(raw, k, at, 'bool');
    c.field(raw, 'dropLowest', at, 'count');
    c.field(raw, 'keepHighest', at, 'count');
    for (const k of ['grademin', 'grademax', 'weight']) c.field(raw, k, at, 'numberOrNull');
    c.field(raw, 'extraCreditWeight', at, 'number');
    c.field(raw, 'hidden', at, 'flagOrTime');
    c.field(raw, 'locked', at, 'flagOrTime');
    c.field(raw, 'calculation', at, 'stringOrNull');
    if (c.field(raw, 'idnumber', at, 'string') && typeof raw.idnumber === 'string' && raw.idnumber !== '') {
      const prev = idnumbers.get(raw.idnumber);
      if (prev) c.add(jsonPath(at, 'idnumber'), `duplicate idnumber "${raw.idnumber}" (also ${prev})`);
      else idnumbers.set(raw.idnumber, at);
    }
  });
  if (roots !== 1 && Array.isArray(categories)) {
    c.add('$.categories', `must have exactly one course category (parent null), found ${roots}`);
  }
  // Parents exist and form a tree.
  categories.forEach((raw, i) => {
    if (!isObj(raw) || typeof raw.parent !== 'string') return;
    const at = jsonPath('$', 'categories', i, 'parent');
    if (!catIds.has(raw.parent)) return c.add(at, `unknown category "${raw.parent}"`);
    const seen = new Set<number>([i]);
    let p: unknown = raw.parent;
    while (typeof p === 'string' && catIds.has(p)) {
      const j = catIds.get(p)!;
      if (seen.has(j)) return c.add(at, `categories form a cycle through "${p}"`);
      seen.add(j);
      p = (categories[j] as Obj).parent;
    }
  });

  const itemIds = new Map<string, number>();
  items.forEach((raw, i) => {
    const at = jsonPath('$', 'items', i);
    if (!isObj(raw)) return c.add(at, 'must be an object');
    if (c.field(raw, 'id', at, 'nonEmptyString', true)) {
      const id = raw.id as string;
      if (id === 'course' || catIds.has(id))
        c.add(jsonPath(at, 'id'), `item id "${id}" is already a category id`);
      else if (itemIds.has(id))
        c.add(jsonPath(at, 'id'), `duplicate item id "${id}" (also $.items[${itemIds.get(id)}])`);
      else itemIds.set(id, i);
    }
    if (c.field(raw, 'idnumber', at, 'string', true) && raw.idnumber !== '') {
      const idn = raw.idnumber as string;
      const prev = idnumbers.get(idn);
      if (prev) c.add(jsonPath(at, 'idnumber'), `duplicate idnumber "${idn}" (also ${prev})`);
      else idnumbers.set(idn, at);
    }
    if (c.field(raw, 'category', at, 'nonEmptyString', true) && !catIds.has(raw.category as string)) {
      c.add(jsonPath(at, 'category'), `unknown category "${raw.category as string}"`);
    }
    c.field(raw, 'name', at, 'string', true);
    if (raw.gradetype !== undefined && raw.gradetype !== 'value' && raw.gradetype !== 'scale') {
      c.add(jsonPath(at, 'gradetype'), `must be "value" or "scale", got ${show(raw.gradetype)}`);
    }
    const hasMin = c.field(raw, 'grademin', at, 'number', true);
    const hasMax = c.field(raw, 'grademax', at, 'number', true);
    if (hasMin && hasMax && (raw.grademax as number) < (raw.grademin as number)) {
      c.add(jsonPath(at, 'grademax'), `must not be below grademin (${raw.grademin as number})`);
    }
    for (const k of ['multfactor', 'plusfactor', 'extraCreditWeight']) c.field(raw, k, at, 'number');
    c.field(raw, 'weight', at, 'numberOrNull');
    for (const k of ['weightOverride', 'extraCredit', 'outcome']) c.field(raw, k, at, 'bool');
    c.field(raw, 'hidden', at, 'flagOrTime');
    c.field(raw, 'locked', at, 'flagOrTime');
    if (c.field(raw, 'calculation', at, 'stringOrNull') && typeof raw.calculation === 'string') {
      if (!raw.calculation.trimStart().startsWith('='))
        c.add(jsonPath(at, 'calculation'), 'a formula must start with "="');
    }
    if (c.field(raw, 'scale', at, 'stringArrayOrNull') && raw.gradetype === 'scale') {
      if (!Array.isArray(raw.scale) || raw.scale.length === 0)
        c.add(jsonPath(at, 'scale'), 'a scale item needs its labels');
    }
  });

  const userIds = new Set<string>();
  if (Array.isArray(input.users)) {
    input.users.forEach((raw, i) => {
      const at = jsonPath('$', 'users', i);
      if (!isObj(raw)) return c.add(at, 'must be an object');
      if (c.field(raw, 'id', at, 'nonEmptyString', true)) {
        if (userIds.has(raw.id as string))
          c.add(jsonPath(at, 'id'), `duplicate user id "${raw.id as string}"`);
        userIds.add(raw.id as string);
      }
      c.field(raw, 'name', at, 'string', true);
    });
  }

  const cells = new Map<string, number>();
  grades.forEach((raw, i) => {
    const at = `$.grades[${i}]`;
    if (!isObj(raw)) return c.add(at, 'must be an object');
    const userOk = c.field(raw, 'user', at, 'nonEmptyString', true);
    if (c.field(raw, 'item', at, 'nonEmptyString', true)) {
      const item = raw.item as string;
      const isTotal = item === 'course' || catIds.has(item);
      if (!isTotal && !itemIds.has(item)) c.add(jsonPath(at, 'item'), `unknown item "${item}"`);
      if (isTotal && typeof raw.raw === 'number') {
        c.add(jsonPath(at, 'raw'), 'a category or course total has no raw grade (use overridden)');
      }
      if (userOk) {
        const key = `${raw.user as string}\u0000${item === 'course' ? rootId(categories) : item}`;
        if (cells.has(key))
          c.add(
            at,
            `a second grade for user "${raw.user as string}" and item "${item}" (first at $.grades[${cells.get(key)}])`,
          );
        else cells.set(key, i);
      }
    }
    c.field(raw, 'raw', at, 'numberOrNull');
    if (c.field(raw, 'final', at, 'number') && typeof raw.final === 'number' && typeof raw.raw === 'number') {
      c.add(jsonPath(at, 'raw'), 'must be null when a stored final is given');
    }
    c.field(raw, 'rawgrademin', at, 'number');
    c.field(raw, 'rawgrademax', at, 'number');
    c.field(raw, 'overridden', at, 'numberOrNull');
    c.field(raw, 'excluded', at, 'bool');
    c.field(raw, 'hidden', at, 'flagOrTime');
    c.field(raw, 'locked', at, 'flagOrTime');
    c.field(raw, 'feedback', at, 'string');
  });

  const enumField = (key: string, values: readonly string[]): void => {
    const v = settings[key];
    if (v !== undefined && !values.includes(v as string)) {
      c.add(jsonPath('$', 'settings', key), `must be one of ${values.join(', ')}, got ${show(v)}`);
    }
  };
  enumField('hideTotalsWithHiddenItems', ['none', 'exclude_hidden', 'include_hidden']);
  enumField('minmaxtouse', ['item', 'grade']);
  c.field(settings, 'includeScalesInAggregation', '$.settings', 'bool');
  c.field(settings, 'enableOutcomes', '$.settings', 'bool');
  c.field(settings, 'displayType', '$.settings', 'string');
  if (settings.letters !== undefined) {
    if (!isObj(settings.letters))
      c.add('$.settings.letters', 'must be an object of "boundary percent": "letter"');
    else {
      for (const [k, v] of Object.entries(settings.letters)) {
        const b = Number(k);
        const at = jsonPath('$', 'settings', 'letters', k);
        if (k.trim() === '' || !Number.isFinite(b) || b < 0 || b > 100)
          c.add(at, 'the boundary must be a percentage 0..100');
        if (typeof v !== 'string') c.add(at, `the letter must be a string, got ${show(v)}`);
      }
    }
  }

  if (c.problems.length) throw new ValidationError(c.problems);
  return {
    ...(input as Obj),
    categories: categories.map((x) => ({ ...(x as Obj) }) as unknown as CourseCategory),
    items: items.map((x) => ({ ...(x as Obj) }) as unknown as CourseItem),
    grades: grades.map((x) => ({ ...(x as Obj) }) as unknown as CourseGrade),
    settings: { ...settings } as CourseSettings,
  } as CourseJson;
}

function rootId(categories: unknown[]): string {
  const r = categories.find((x) => isObj(x) && x.parent === null) as Obj | undefined;
  return typeof r?.id === 'string' ? r.id : 'course';
}

/** Parses course JSON text; a syntax error is reported at `$` with the parser's message. */
export function parseCourseJson(text: string): CourseJson {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ValidationError([{ at: '$', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return validateCourseJson(data);
}

/** Serialises a course document; parseCourseJson(serialiseCourseJson(c)) gives back an equal course. */
export function serialiseCourseJson(course: CourseJson, indent = 0): string {
  return JSON.stringify(course, null, indent || undefined);
}

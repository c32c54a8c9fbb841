// The rule editor's model: a rule-JSON draft edited by path (the same `$.conditions[0]...` paths the domain's
// errors name), the form of every condition type with its fields and operators, and problems mapped to fields.
// Plain TypeScript (no Svelte, no storage): every function returns a new draft and never changes its input.
import { STANDARD_ENROL_METHODS, STANDARD_ROLES } from '../domain/cohorts/site-index.ts';
import { DATE_OPERATORS, MENU_OPERATORS, TEXT_OPERATORS, VALUELESS } from '../domain/cohorts/text.ts';
import { PERIOD_UNITS } from '../domain/cohorts/conditions/user-times.ts';
import { USER_PROFILE_FIELDS } from '../domain/cohorts/conditions/user-profile.ts';
import type { SiteDocument } from '../domain/interchange/site-json.ts';

export type Json = Record<string, unknown>;
export type Option = { value: string; label: string };

export type FieldKind = 'select' | 'text' | 'number' | 'checkbox' | 'date' | 'multi' | 'tags' | 'period';

export interface FieldSpec {
  key: string;
  label: string;
  kind: FieldKind;
  /** Choices for select/multi; computed from the site and the condition (operators depend on the field). */
  options?: (site: SiteDocument, c: Json) => Option[];
  /** Whether the field applies to the condition as it stands (e.g. a time only for before/after). */
  when?: (c: Json) => boolean;
  /** For selects whose JSON value may be null ("any"). */
  nullable?: string;
}

export interface ConditionForm {
  type: string;
  label: string;
  fields: FieldSpec[];
  /** A new condition of this type, filled with the first sensible choices. */
  blank(site: SiteDocument): Json;
}

const opts = (values: readonly string[], labels: Record<string, string> = {}): Option[] =>
  values.map((v) => ({ value: v, label: labels[v] ?? v.replaceAll('_', ' ') }));

const OP_LABEL: Record<string, string> = {
  not_contains: "doesn't contain",
  not_equals: "isn't equal to",
  is_empty: 'is empty',
  is_not_empty: 'is not empty',
  starts_with: 'starts with',
  ends_with: 'ends with',
  equals: 'is equal to',
  is_after: 'is after',
  is_before: 'is before',
  in_the_past: 'is in the past',
  in_the_future: 'is in the future',
  member_of: 'is a member of',
  not_member_of: 'is not a member of',
  not_enrolled: 'is not enrolled',
  has_role: 'has the role',
  not_has_role: 'does not have the role',
  in_last: 'in the last',
  not_completed: 'not completed',
};

const courses = (s: SiteDocument): Option[] =>
  s.courses.map((c) => ({ value: c.id, label: c.fullname || c.id }));
const categories = (s: SiteDocument): Option[] =>
  s.categories.map((c) => ({ value: c.id, label: c.name || c.id }));
const cohorts = (s: SiteDocument): Option[] => s.cohorts.map((c) => ({ value: c.id, label: c.name || c.id }));
const roles = (s: SiteDocument): Option[] =>
  opts([...new Set([...STANDARD_ROLES, ...s.roles.map((r) => r.role)])]);
const methods = (s: SiteDocument): Option[] =>
  opts([...new Set([...STANDARD_ENROL_METHODS, ...s.enrolments.map((e) => e.method)])]);
const AUTHS = ['manual', 'email', 'oauth2', 'ldap', 'cas', 'shibboleth', 'lti', 'nologin'];
const auths = (s: SiteDocument): Option[] => opts([...new Set([...AUTHS, ...s.users.map((u) => u.auth)])]);

const needsValue = (c: Json): boolean => !VALUELESS.has(String(c['operator']));
const timeOps = (c: Json): boolean => c['operator'] === 'before' || c['operator'] === 'after';

function customKind(
  site: SiteDocument,
  field: unknown,
): 'text' | 'menu' | 'checkbox' | 'datetime' | 'autocomplete' | null {
  const def = site.profileFields.find((f) => f.shortname === field);
  if (!def) return null;
  if (def.datatype === 'select') return 'menu';
  if (def.datatype === 'date') return 'datetime';
  if (def.datatype === 'textarea') return null;
  return def.datatype;
}

function fieldOperators(kind: string | null): readonly string[] {
  if (kind === 'text') return TEXT_OPERATORS;
  if (kind === 'datetime') return DATE_OPERATORS;
  return MENU_OPERATORS;
}

const LOGIN_OPS = ['ever', 'never', 'before', 'after', 'in_last'];
const CREATED_OPS = ['in_last', 'before', 'after'];

/** Every condition type the editor offers, in the plugin's order of families. */
export const CONDITION_FORMS: readonly ConditionForm[] = [
  {
    type: 'user_profile',
    label: 'User standard profile field',
    fields: [
      { key: 'field', label: 'Field', kind: 'select', options: () => opts(USER_PROFILE_FIELDS) },
      {
        key: 'operator',
        label: 'Operator',
        kind: 'select',
        options: (_s, c) =>
          opts(
            c['field'] === 'auth' || c['field'] === 'suspended' ? MENU_OPERATORS : TEXT_OPERATORS,
            OP_LABEL,
          ),
      },
      { key: 'value', label: 'Value', kind: 'text', when: needsValue },
    ],
    blank: () => ({ type: 'user_profile', field: 'city', operator: 'equals', value: '' }),
  },
  {
    type: 'auth_method',
    label: 'Authentication method',
    fields: [
      { key: 'operator', label: 'Operator', kind: 'select', options: () => opts(MENU_OPERATORS, OP_LABEL) },
      { key: 'value', label: 'Method', kind: 'select', options: auths },
    ],
    blank: () => ({ type: 'auth_method', operator: 'equals', value: 'manual' }),
  },
  {
    type: 'user_custom_profile',
    label: 'User custom profile field',
    fields: [
      {
        key: 'field',
        label: 'Field',
        kind: 'select',
        options: (s) => s.profileFields.map((f) => ({ value: f.shortname, label: f.name ?? f.shortname })),
      },
      {
        key: 'operator',
        label: 'Operator',
        kind: 'select',
        options: (s, c) => opts(fieldOperators(customKind(s, c['field'])), OP_LABEL),
      },
      { key: 'value', label: 'Value', kind: 'text', when: needsValue },
      { key: 'includeMissingData', label: 'Include users with no value stored', kind: 'checkbox' },
    ],
    blank: (s) => {
      const f = s.profileFields[0];
      return {
        type: 'user_custom_profile',
        field: f?.shortname ?? '',
        operator: fieldOperators(f ? customKind(s, f.shortname) : 'text')[0],
        value: '',
        includeMissingData: false,
      };
    },
  },
  {
    type: 'cohort_membership',
    label: 'Cohort membership',
    fields: [
      {
        key: 'operator',
        label: 'Operator',
        kind: 'select',
        options: () => opts(['member_of', 'not_member_of'], OP_LABEL),
      },
      { key: 'cohorts', label: 'Cohorts (any of)', kind: 'multi', options: cohorts },
    ],
    blank: () => ({ type: 'cohort_membership', operator: 'member_of', cohorts: [] }),
  },
  {
    type: 'cohort_field',
    label: 'Cohort field',
    fields: [
      {
        key: 'membership',
        label: 'Membership',
        kind: 'select',
        options: () => opts(['member_of', 'not_member_of'], OP_LABEL),
      },
      {
        key: 'field',
        label: 'Cohort field',
        kind: 'select',
        options: (s) => [
          ...opts(['name', 'idnumber', 'contextid', 'visible', 'component', 'theme'], {
            idnumber: 'cohort ID',
            contextid: 'context',
          }),
          ...s.cohortCustomFields.map((f) => ({
            value: `custom:${f.shortname}`,
            label: f.name ?? f.shortname,
          })),
        ],
      },
      {
        key: 'operator',
        label: 'Operator',
        kind: 'select',
        options: (_s, c) =>
          opts(
            ['contextid', 'visible'].includes(String(c['field'])) ? MENU_OPERATORS : TEXT_OPERATORS,
            OP_LABEL,
          ),
      },
      { key: 'value', label: 'Value', kind: 'text', when: needsValue },
      { key: 'includeMissingData', label: 'Include cohorts with no value stored', kind: 'checkbox' },
    ],
    blank: () => ({
      type: 'cohort_field',
      membership: 'member_of',
      field: 'name',
      operator: 'contains',
      value: '',
      includeMissingData: false,
    }),
  },
  {
    type: 'user_last_login',
    label: 'User last login',
    fields: [
      { key: 'operator', label: 'Last login', kind: 'select', options: () => opts(LOGIN_OPS, OP_LABEL) },
      { key: 'time', label: 'Date', kind: 'date', when: timeOps },
      { key: 'period', label: 'Period', kind: 'period', when: (c) => c['operator'] === 'in_last' },
    ],
    blank: () => ({
      type: 'user_last_login',
      operator: 'in_last',
      time: null,
      period: { value: 30, unit: 'days' },
    }),
  },
  {
    type: 'user_created',
    label: 'User created time',
    fields: [
      { key: 'operator', label: 'Created', kind: 'select', options: () => opts(CREATED_OPS, OP_LABEL) },
      { key: 'time', label: 'Date', kind: 'date', when: timeOps },
      { key: 'period', label: 'Period', kind: 'period', when: (c) => c['operator'] === 'in_last' },
    ],
    blank: () => ({
      type: 'user_created',
      operator: 'in_last',
      time: null,
      period: { value: 1, unit: 'years' },
    }),
  },
  {
    type: 'user_enrolment',
    label: 'User enrolment',
    fields: [
      {
        key: 'operator',
        label: 'Operator',
        kind: 'select',
        options: () => opts(['enrolled', 'not_enrolled'], OP_LABEL),
      },
      { key: 'courseId', label: 'Course', kind: 'select', options: courses },
      { key: 'role', label: 'Role', kind: 'select', options: roles, nullable: 'Any role' },
      { key: 'method', label: 'Enrolment method', kind: 'select', options: methods, nullable: 'Any method' },
    ],
    blank: (s) => ({
      type: 'user_enrolment',
      operator: 'enrolled',
      courseId: s.courses[0]?.id ?? '',
      role: null,
      method: null,
    }),
  },
  {
    type: 'user_role',
    label: 'User role',
    fields: [
      {
        key: 'operator',
        label: 'Operator',
        kind: 'select',
        options: () => opts(['has_role', 'not_has_role'], OP_LABEL),
      },
      { key: 'role', label: 'Role', kind: 'select', options: roles },
      {
        key: 'contextLevel',
        label: 'Context',
        kind: 'select',
        options: () => opts(['system', 'category', 'course']),
      },
      {
        key: 'categoryId',
        label: 'Category',
        kind: 'select',
        options: categories,
        when: (c) => c['contextLevel'] === 'category',
      },
      {
        key: 'includeChildren',
        label: 'Include sub-categories and their courses',
        kind: 'checkbox',
        when: (c) => c['contextLevel'] === 'category',
      },
      {
        key: 'courseId',
        label: 'Course',
        kind: 'select',
        options: courses,
        when: (c) => c['contextLevel'] === 'course',
      },
    ],
    blank: () => ({
      type: 'user_role',
      operator: 'has_role',
      role: 'student',
      contextLevel: 'system',
      includeChildren: false,
    }),
  },
  {
    type: 'course_completed',
    label: 'Course completed',
    fields: [
      { key: 'courseId', label: 'Course', kind: 'select', options: courses },
      {
        key: 'operator',
        label: 'When',
        kind: 'select',
        options: () => opts(['any', 'before', 'after'], { any: 'at any time' }),
      },
      { key: 'time', label: 'Date', kind: 'date', when: timeOps },
    ],
    blank: (s) => ({ type: 'course_completed', operator: 'any', courseId: s.courses[0]?.id ?? '' }),
  },
  {
    type: 'course_not_completed',
    label: 'Course not completed',
    fields: [{ key: 'courseId', label: 'Course', kind: 'select', options: courses }],
    blank: (s) => ({ type: 'course_not_completed', courseId: s.courses[0]?.id ?? '' }),
  },
  {
    type: 'course_completion',
    label: 'Completion of several courses',
    fields: [
      { key: 'courseIds', label: 'Courses', kind: 'multi', options: courses },
      {
        key: 'completion',
        label: 'Completion',
        kind: 'select',
        options: () => opts(['completed', 'not_completed'], OP_LABEL),
      },
      { key: 'selection', label: 'Of the courses', kind: 'select', options: () => opts(['any', 'all']) },
      {
        key: 'period',
        label: 'When',
        kind: 'select',
        options: () => opts(['any', 'before', 'after'], { any: 'at any time' }),
      },
      {
        key: 'time',
        label: 'Date',
        kind: 'date',
        when: (c) => c['period'] === 'before' || c['period'] === 'after',
      },
    ],
    blank: () => ({
      type: 'course_completion',
      courseIds: [],
      completion: 'completed',
      selection: 'any',
      period: 'any',
    }),
  },
  {
    type: 'user_profile_interests',
    label: 'User interests',
    fields: [
      {
        key: 'operator',
        label: 'Operator',
        kind: 'select',
        options: () =>
          opts(['contains', 'not_contains'], { contains: 'has any of', not_contains: 'has none of' }),
      },
      { key: 'tags', label: 'Tags (comma-separated)', kind: 'tags' },
    ],
    blank: () => ({ type: 'user_profile_interests', operator: 'contains', tags: [] }),
  },
  {
    type: 'quiz_result',
    label: 'Quiz result',
    fields: [
      {
        key: 'quizId',
        label: 'Quiz',
        kind: 'select',
        options: (s) =>
          s.quizzes.map((q) => ({
            value: q.id,
            label: `${q.id} (${s.courses.find((c) => c.id === q.courseId)?.fullname ?? q.courseId}, out of ${q.grade})`,
          })),
      },
      { key: 'minGrade', label: 'Minimum grade', kind: 'number' },
      { key: 'maxGrade', label: 'Maximum grade', kind: 'number' },
    ],
    blank: (s) => ({
      type: 'quiz_result',
      quizId: s.quizzes[0]?.id ?? '',
      minGrade: 0,
      maxGrade: s.quizzes[0]?.grade ?? 10,
    }),
  },
];

export const PERIOD_UNIT_OPTIONS: Option[] = opts(PERIOD_UNITS);

export function formFor(type: string): ConditionForm | undefined {
  return CONDITION_FORMS.find((f) => f.type === type);
}

// ---------------------------------------------------------------------------------------------
// Draft editing by path. A path is `$` (the rule) or `$.conditions[i]` nested through groups.

type Segment = number;

function segments(path: string): Segment[] {
  if (path === '$') return [];
  const out: Segment[] = [];
  const re = /\.conditions\[(\d+)\]/gy;
  re.lastIndex = 1;
  let m: RegExpExecArray | null;
  let end = 1;
  while ((m = re.exec(path))) {
    out.push(Number(m[1]));
    end = re.lastIndex;
  }
  if (!path.startsWith('$') || end !== path.length) throw new Error(`not a rule node path: ${path}`);
  return out;
}

export function childPath(parent: string, i: number): string {
  return `${parent}.conditions[${i}]`;
}

export function nodeAt(draft: Json, path: string): Json | undefined {
  let cur: Json | undefined = draft;
  for (const i of segments(path)) {
    const list: unknown = cur?.['conditions'];
    cur = Array.isArray(list) ? (list[i] as Json | undefined) : undefined;
  }
  return cur;
}

/** A copy of `draft` with the node at `path` replaced by `fn(node)` (undefined removes it). */
function updateAt(draft: Json, path: string, fn: (node: Json) => Json | undefined): Json {
  const segs = segments(path);
  const rec = (node: Json, k: number): Json | undefined => {
    if (k === segs.length) return fn(node);
    const list = Array.isArray(node['conditions']) ? [...(node['conditions'] as Json[])] : [];
    const i = segs[k]!;
    if (i >= list.length) throw new Error(`no node at ${path}`);
    const next = rec(list[i]!, k + 1);
    if (next === undefined) list.splice(i, 1);
    else list[i] = next;
    return { ...node, conditions: list };
  };
  return rec(draft, 0) ?? draft;
}

export function setKey(draft: Json, path: string, key: string, value: unknown): Json {
  return updateAt(draft, path, (n) => {
    const out = { ...n, [key]: value };
    if (value === undefined) delete out[key];
    return out;
  });
}

/** Sets a condition field, resetting fields that no longer fit (an operator the new field lacks). */
export function setConditionField(
  draft: Json,
  path: string,
  key: string,
  value: unknown,
  site: SiteDocument,
): Json {
  let next = setKey(draft, path, key, value);
  const node = nodeAt(next, path)!;
  const form = formFor(String(node['type']));
  const op = form?.fields.find((f) => f.key === 'operator');
  if (form && op?.options && key !== 'operator') {
    const allowed = op.options(site, node).map((o) => o.value);
    if (!allowed.includes(String(node['operator']))) next = setKey(next, path, 'operator', allowed[0]);
  }
  return next;
}

export function addCondition(draft: Json, groupPath: string, type: string, site: SiteDocument): Json {
  const form = formFor(type);
  if (!form) throw new Error(`unknown condition type ${type}`);
  return updateAt(draft, groupPath, (g) => ({
    ...g,
    conditions: [...((g['conditions'] as Json[] | undefined) ?? []), form.blank(site)],
  }));
}

export function addGroup(draft: Json, groupPath: string): Json {
  return updateAt(draft, groupPath, (g) => ({
    ...g,
    conditions: [
      ...((g['conditions'] as Json[] | undefined) ?? []),
      { type: 'group', operator: 'OR', conditions: [] },
    ],
  }));
}

export function removeNode(draft: Json, path: string): Json {
  if (path === '$') throw new Error('the rule itself cannot be removed');
  return updateAt(draft, path, () => undefined);
}

export function setGroupOperator(draft: Json, path: string, operator: 'AND' | 'OR'): Json {
  return setKey(draft, path, 'operator', operator);
}

export function setGroupNot(draft: Json, path: string, not: boolean): Json {
  return setKey(draft, path, 'not', not ? true : undefined);
}

/** Problems whose path is the field `key` of the node at `path` (or inside it, e.g. `period.value`). */
export function problemsAt(
  problems: readonly { at: string; message: string }[],
  path: string,
  key?: string,
): string[] {
  const target = key ? `${path}.${key}` : path;
  return problems
    .filter(
      (p) =>
        p.at === target ||
        (key !== undefined && (p.at.startsWith(`${target}.`) || p.at.startsWith(`${target}[`))),
    )
    .map((p) => p.message);
}

/** A broken reason (`$.conditions[0].courseId: course "x" does not exist`) split into path and message. */
export function splitReason(reason: string | null): { at: string; message: string } | null {
  if (!reason) return null;
  const m = /^(\$[^:\s]*): (.*)$/s.exec(reason);
  return m ? { at: m[1]!, message: m[2]! } : { at: '$', message: reason };
}

/** The draft the editor saves: only the rule-file keys (drops editor-only state). */
export function draftForSave(draft: Json): Json {
  const keep = ['id', 'name', 'description', 'operator', 'cohortId', 'conditions', 'not', 'realtime', 'bulk'];
  const out: Json = {};
  for (const k of keep) if (draft[k] !== undefined) out[k] = draft[k];
  return out;
}

/** Unix seconds <-> the value of an `<input type="date">` (UTC dates, as the domain compares). */
export function dateInputValue(t: unknown): string {
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) return '';
  return new Date(t * 1000).toISOString().slice(0, 10);
}

export function fromDateInput(v: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return null;
  return Math.floor(Date.parse(`${v}T00:00:00Z`) / 1000);
}

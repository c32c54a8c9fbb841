// Conditions on a user's own record: user_profile, auth_method, user_custom_profile (COH-C1..C3).
// Follows tool_dynamic_cohorts condition/user_profile.php, auth_method.php, user_custom_profile.php. Pure.

import type { SiteUser } from '../../interchange/site-json.ts';
import { MENU_OPERATORS, TEXT_OPERATORS, foldText, textTest, type TextOperator } from '../text.ts';
import {
  ANY_FIELD_OPERATOR,
  describeField,
  fieldBroken,
  kindOf,
  storedTest,
  type FieldKind,
} from './fields.ts';
import { broken, type ConditionType } from './types.ts';

export const USER_TEXT_FIELDS = [
  'firstname',
  'lastname',
  'username',
  'email',
  'idnumber',
  'city',
  'country',
  'institution',
  'department',
] as const;
export const USER_PROFILE_FIELDS = ['auth', ...USER_TEXT_FIELDS, 'suspended'] as const;
type UserProfileField = (typeof USER_PROFILE_FIELDS)[number];

const FIELD_LABEL: Record<UserProfileField, string> = {
  auth: 'Authentication',
  firstname: 'First name',
  lastname: 'Last name',
  username: 'Username',
  email: 'Email address',
  idnumber: 'ID number',
  city: 'City/town',
  country: 'Country',
  institution: 'Institution',
  department: 'Department',
  suspended: 'Suspended account',
};

export interface UserProfileConfig {
  field: UserProfileField;
  operator: string;
  value: string | number | null;
}

function profileKind(field: UserProfileField): FieldKind {
  return field === 'auth' ? 'menu' : field === 'suspended' ? 'checkbox' : 'text';
}

export const userProfile: ConditionType<UserProfileConfig> = {
  type: 'user_profile',
  label: 'User standard profile field',
  events: ['user_created', 'user_updated'],
  parse(raw, r, at) {
    r.keys(raw, at, ['field', 'operator', 'value']);
    const field = r.oneOf(raw, 'field', at, USER_PROFILE_FIELDS);
    const ops = profileKind(field) === 'text' ? TEXT_OPERATORS : MENU_OPERATORS;
    const operator = r.oneOf(raw, 'operator', at, ops);
    return { field, operator, value: r.value(raw, 'value', at) };
  },
  broken(c) {
    return fieldBroken(profileKind(c.field), c.operator, c.value);
  },
  compile(c, ctx) {
    const kind = profileKind(c.field);
    const users = ctx.index.users;
    if (kind === 'text') {
      const col = ctx.index.foldedColumn(c.field);
      const t = textTest(c.operator as TextOperator, foldText(String(c.value ?? '')));
      return (p) => t(col[p]!);
    }
    const test = storedTest(kind, c.operator, c.value, false, ctx.now);
    const f = c.field as keyof SiteUser;
    return (p) => test(users[p]![f] as string | number);
  },
  describe(c) {
    return `Users with ${describeField(FIELD_LABEL[c.field], profileKind(c.field), c.operator, c.value, false)}`;
  },
  toJson(c) {
    return { field: c.field, operator: c.operator, value: c.value };
  },
};

export interface AuthMethodConfig {
  operator: 'equals' | 'not_equals';
  value: string;
}

export const authMethod: ConditionType<AuthMethodConfig> = {
  type: 'auth_method',
  label: 'Authentication method',
  events: ['user_created', 'user_updated'],
  parse(raw, r, at) {
    r.keys(raw, at, ['operator', 'value']);
    return { operator: r.oneOf(raw, 'operator', at, MENU_OPERATORS), value: r.str(raw, 'value', at) };
  },
  broken(c) {
    return c.value === '' ? broken('value', 'an authentication method is required') : null;
  },
  compile(c, ctx) {
    const want = foldText(c.value);
    const users = ctx.index.users;
    return c.operator === 'equals'
      ? (p) => foldText(users[p]!.auth) === want
      : (p) => foldText(users[p]!.auth) !== want;
  },
  describe(c) {
    return `Users with Authentication ${c.operator === 'equals' ? 'is equal to' : 'is not equal to'} "${c.value}"`;
  },
  toJson(c) {
    return { operator: c.operator, value: c.value };
  },
};

export interface CustomProfileConfig {
  field: string;
  operator: string;
  value: string | number | null;
  includeMissingData: boolean;
}

export const userCustomProfile: ConditionType<CustomProfileConfig> = {
  type: 'user_custom_profile',
  label: 'User custom profile field',
  events: ['user_created', 'user_updated'],
  parse(raw, r, at) {
    r.keys(raw, at, ['field', 'operator', 'value', 'includeMissingData']);
    return {
      field: r.str(raw, 'field', at),
      operator: r.oneOf(raw, 'operator', at, ANY_FIELD_OPERATOR),
      value: r.value(raw, 'value', at),
      includeMissingData: r.bool(raw, 'includeMissingData', at),
    };
  },
  broken(c, ctx) {
    const def = ctx.index.profileFields.get(c.field);
    if (!def) return broken('field', `custom profile field "${c.field}" does not exist`);
    const kind = kindOf(def.datatype);
    if (!kind)
      return broken('field', `custom profile field "${c.field}" has unsupported type ${def.datatype}`);
    return fieldBroken(kind, c.operator, c.value);
  },
  compile(c, ctx) {
    const kind = kindOf(ctx.index.profileFields.get(c.field)!.datatype)!;
    const test = storedTest(kind, c.operator, c.value, c.includeMissingData, ctx.now);
    const users = ctx.index.users;
    const f = c.field;
    return (p) => test(users[p]!.profile[f]);
  },
  describe(c, index) {
    const def = index?.profileFields.get(c.field);
    const kind = (def && kindOf(def.datatype)) ?? guessKind(c.operator);
    return `Users with ${describeField(def?.name ?? c.field, kind, c.operator, c.value, c.includeMissingData)}`;
  },
  toJson(c) {
    return { field: c.field, operator: c.operator, value: c.value, includeMissingData: c.includeMissingData };
  },
};

/** When the field is gone, describe by the operator's family. */
export function guessKind(op: string): FieldKind {
  return ['is_after', 'is_before', 'in_the_past', 'in_the_future'].includes(op) ? 'datetime' : 'text';
}

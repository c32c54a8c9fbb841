// Conditions on cohort membership: cohort_membership and cohort_field (COH-C4, COH-C5).
// Follows tool_dynamic_cohorts condition/cohort_membership.php and cohort_field.php. Pure.

import { RULE_COMPONENT, type FieldValue, type SiteCohort } from '../../interchange/site-json.ts';
import type { SiteIndex } from '../site-index.ts';
import {
  ANY_FIELD_OPERATOR,
  describeField,
  fieldBroken,
  kindOf,
  storedTest,
  type FieldKind,
} from './fields.ts';
import { guessKind } from './user-profile.ts';
import { broken, type ConditionType, type EvalContext } from './types.ts';

const MEMBERSHIP = ['member_of', 'not_member_of'] as const;

/** A cohort a rule may read: unowned, or owned by the rules engine (others' cohorts are not eligible). */
function eligible(c: SiteCohort): boolean {
  return c.component === '' || c.component === RULE_COMPONENT;
}

/** "Member of any of these cohorts", reading the live member sets (so realtime changes are seen). */
function anyOf(ctx: EvalContext, ids: readonly string[]): (p: number) => boolean {
  const sets = ids.map((id) => ctx.members(id)).filter((s): s is ReadonlySet<number> => s !== undefined);
  if (sets.length === 0) return () => false;
  if (sets.length === 1) {
    const s = sets[0]!;
    return (p) => s.has(p);
  }
  return (p) => {
    for (const s of sets) if (s.has(p)) return true;
    return false;
  };
}

export interface CohortMembershipConfig {
  operator: (typeof MEMBERSHIP)[number];
  cohorts: string[];
}

export const cohortMembership: ConditionType<CohortMembershipConfig> = {
  type: 'cohort_membership',
  label: 'Cohort membership',
  events: ['cohort_member_added', 'cohort_member_removed'],
  parse(raw, r, at) {
    r.keys(raw, at, ['operator', 'cohorts']);
    return { operator: r.oneOf(raw, 'operator', at, MEMBERSHIP), cohorts: r.ids(raw, 'cohorts', at) };
  },
  broken(c, ctx) {
    if (c.cohorts.length === 0) return broken('cohorts', 'at least one cohort is required');
    for (let i = 0; i < c.cohorts.length; i++) {
      const id = c.cohorts[i]!;
      // The plugin refuses a rule that reads its own cohort: the result would feed itself.
      if (id === ctx.ruleCohortId)
        return broken(
          `cohorts[${i}]`,
          `cohort "${id}" is the rule's own cohort; a rule cannot depend on itself`,
        );
      const co = ctx.index.cohorts.get(id);
      if (!co) return broken(`cohorts[${i}]`, `cohort "${id}" does not exist`);
      if (!eligible(co)) return broken(`cohorts[${i}]`, `cohort "${id}" is owned by ${co.component}`);
    }
    return null;
  },
  compile(c, ctx) {
    const inAny = anyOf(ctx, c.cohorts);
    return c.operator === 'member_of' ? inAny : (p) => !inAny(p);
  },
  cohortsRead(c) {
    return c.cohorts;
  },
  describe(c, index) {
    const names = c.cohorts.map((id) => {
      const co = index?.cohorts.get(id);
      return co ? `"${co.name}"` : id;
    });
    return `Users who ${c.operator === 'member_of' ? 'are' : 'are not'} members of ${names.join(' OR ') || '(no cohorts)'}`;
  },
  toJson(c) {
    return { operator: c.operator, cohorts: c.cohorts };
  },
};

const STANDARD_COHORT_FIELDS = ['name', 'idnumber', 'contextid', 'visible', 'component', 'theme'] as const;
const COHORT_FIELD_LABEL: Record<string, string> = {
  name: 'Name',
  idnumber: 'Cohort ID',
  contextid: 'Context',
  visible: 'Visible',
  component: 'Component',
  theme: 'Theme',
};

export interface CohortFieldConfig {
  membership: (typeof MEMBERSHIP)[number];
  field: string;
  operator: string;
  value: string | number | null;
  includeMissingData: boolean;
}

function cohortFieldKind(field: string, index: SiteIndex): FieldKind | null {
  if (field === 'contextid') return 'menu';
  if (field === 'visible') return 'checkbox';
  if ((STANDARD_COHORT_FIELDS as readonly string[]).includes(field)) return 'text';
  const def = index.cohortFields.get(field.slice('custom:'.length));
  return def ? kindOf(def.datatype) : null;
}

/** Cohorts whose field matches, never the rule's own cohort (fixing the plugin's precedence bug where it leaked into OR). */
function matchingCohorts(c: CohortFieldConfig, ctx: EvalContext): string[] {
  const kind = cohortFieldKind(c.field, ctx.index)!;
  const custom = c.field.startsWith('custom:') ? c.field.slice('custom:'.length) : null;
  // Standard cohort fields are never NULL, so "include missing" only applies to custom fields.
  const test = storedTest(kind, c.operator, c.value, custom !== null && c.includeMissingData, ctx.now);
  const out: string[] = [];
  for (const co of ctx.index.cohorts.values()) {
    if (co.id === ctx.ruleCohortId) continue;
    const v: FieldValue | undefined =
      custom !== null ? co.customFields[custom] : (co[c.field as keyof SiteCohort] as FieldValue);
    if (test(v)) out.push(co.id);
  }
  return out;
}

export const cohortField: ConditionType<CohortFieldConfig> = {
  type: 'cohort_field',
  label: 'Cohort field',
  events: ['cohort_member_added', 'cohort_member_removed'],
  parse(raw, r, at) {
    r.keys(raw, at, ['membership', 'field', 'operator', 'value', 'includeMissingData']);
    const field = r.str(raw, 'field', at);
    if (
      field !== '' &&
      !(STANDARD_COHORT_FIELDS as readonly string[]).includes(field) &&
      !field.startsWith('custom:')
    )
      r.fail(
        `${at}.field`,
        `unknown cohort field "${field}"; expected ${STANDARD_COHORT_FIELDS.join(', ')} or custom:<shortname>`,
      );
    return {
      membership: r.oneOf(raw, 'membership', at, MEMBERSHIP),
      field,
      operator: r.oneOf(raw, 'operator', at, ANY_FIELD_OPERATOR),
      value: r.value(raw, 'value', at),
      includeMissingData: r.bool(raw, 'includeMissingData', at),
    };
  },
  broken(c, ctx) {
    const kind = cohortFieldKind(c.field, ctx.index);
    if (!kind) return broken('field', `cohort field "${c.field}" does not exist or has an unsupported type`);
    if (
      c.field === 'contextid' &&
      c.value !== null &&
      c.value !== 'system' &&
      !ctx.index.categories.has(String(c.value))
    )
      return broken('value', `category "${c.value}" does not exist`);
    return fieldBroken(kind, c.operator, c.value);
  },
  compile(c, ctx) {
    const inAny = anyOf(ctx, matchingCohorts(c, ctx));
    return c.membership === 'member_of' ? inAny : (p) => !inAny(p);
  },
  cohortsRead(c, ctx) {
    return matchingCohorts(c, ctx);
  },
  describe(c, index) {
    const custom = c.field.startsWith('custom:') ? c.field.slice(7) : null;
    const label =
      custom !== null
        ? (index?.cohortFields.get(custom)?.name ?? custom)
        : (COHORT_FIELD_LABEL[c.field] ?? c.field);
    const kind = (index && cohortFieldKind(c.field, index)) ?? guessKind(c.operator);
    // A context is shown by name, as the plugin does ("System" or the category's name).
    let value = c.value;
    if (c.field === 'contextid' && value !== null)
      value = value === 'system' ? 'System' : (index?.categories.get(String(value))?.name ?? value);
    const field = describeField(label, kind, c.operator, value, c.includeMissingData);
    return `Users who ${c.membership === 'member_of' ? 'are members of' : 'are not members of'} cohorts with field ${field}`;
  },
  toJson(c) {
    return {
      membership: c.membership,
      field: c.field,
      operator: c.operator,
      value: c.value,
      includeMissingData: c.includeMissingData,
    };
  },
};

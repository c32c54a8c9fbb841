// Rule combination, parsing errors, descriptions, explanations, preview and the rule lifecycle.
// Scenarios marked "(plugin: <test>)" re-encode tool_dynamic_cohorts PHPUnit tests.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from '../shared/errors.ts';
import { describeRule, explainUser, matchingCount, previewRule, ruleBrokenReason } from './evaluate.ts';
import {
  createRule,
  deleteRules,
  eligibleCohorts,
  enableRule,
  manageCohort,
  markBrokenRules,
  unmanageCohort,
  updateRule,
} from './lifecycle.ts';
import { ConditionRegistry, defaultRegistry } from './registry.ts';
import { parseRule, parseRules, ruleToSpecJson } from './rule.ts';
import { SiteIndex } from './site-index.ts';
import { makeSite, matchIds, matchOne, ruleJson, u } from './test-helpers.ts';
import { broken, type ConditionType } from './conditions/types.ts';

const NOW = 1_767_225_600;

const site = makeSite({
  users: [
    u('1', { city: 'Paris', department: 'Physics' }),
    u('2', { city: 'Paris', department: 'History' }),
    u('3', { city: 'Leeds', department: 'Physics' }),
    u('4', { city: 'Leeds', department: 'History', deleted: 1 }),
    u('5', { city: 'Rome', department: 'Physics', suspended: 1 }),
  ],
  cohorts: [{ id: 'c', name: 'Target', members: [] }],
});
const paris = { type: 'user_profile', field: 'city', operator: 'equals', value: 'Paris' };
const physics = { type: 'user_profile', field: 'department', operator: 'equals', value: 'Physics' };

function errorsOf(f: () => unknown): { at: string; message: string }[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('combining conditions', () => {
  it('[COH-E2] AND intersects, OR unites', () => {
    expect(matchIds(site, ruleJson([paris, physics], 'AND'))).toEqual(['1']);
    expect(matchIds(site, ruleJson([paris, physics], 'OR'))).toEqual(['1', '2', '3', '5']);
  });

  it('[COH-E1] deleted users never match, under AND or OR (plugin fix #102); suspended users are not excluded', () => {
    const leeds = { type: 'user_profile', field: 'city', operator: 'equals', value: 'Leeds' };
    expect(matchIds(site, ruleJson([leeds], 'OR'))).toEqual(['3']);
    expect(
      matchOne(site, { type: 'user_profile', field: 'city', operator: 'not_equals', value: 'x' }),
    ).toEqual(['1', '2', '3', '5']);
  });

  it('[COH-E2] nested groups with NOT go beyond the plugin', () => {
    const notParis = { type: 'group', operator: 'AND', not: true, conditions: [paris] };
    expect(matchIds(site, ruleJson([physics, notParis], 'AND'))).toEqual(['3', '5']);
    const either = {
      type: 'group',
      operator: 'OR',
      conditions: [paris, { type: 'user_profile', field: 'city', operator: 'equals', value: 'Rome' }],
    };
    expect(matchIds(site, ruleJson([physics, either], 'AND'))).toEqual(['1', '5']);
    expect(
      matchIds(site, { operator: 'OR', not: true, cohortId: null, conditions: [paris, physics] }),
    ).toEqual([]);
  });

  it('[COH-E4] matched ids are listed numerically first, then as text, whatever the site order', () => {
    const s = makeSite({ users: ['b', '10', '9', 'B', '010', 'a1', '2'].map((id) => u(id)) });
    expect(
      matchOne(s, { type: 'user_profile', field: 'username', operator: 'starts_with', value: 'user-' }),
    ).toEqual(['2', '9', '10', '010', 'B', 'a1', 'b']);
  });

  it('[COH-E3] a rule with no conditions matches nobody (plugin: rule_test count 0)', () => {
    expect(matchIds(site, ruleJson([], 'AND'))).toEqual([]);
    expect(matchIds(site, ruleJson([], 'OR'))).toEqual([]);
  });

  it('[COH-E2] property: OR of conditions is the union, AND the intersection, NOT the complement among non-deleted users', () => {
    const fields = ['city', 'department'] as const;
    const values = ['Paris', 'Leeds', 'Rome', 'Physics', 'History', 'a', ''];
    const ops = ['equals', 'not_equals', 'contains', 'starts_with', 'is_empty', 'is_not_empty'];
    const cond = fc.record({
      type: fc.constant('user_profile'),
      field: fc.constantFrom(...fields),
      operator: fc.constantFrom(...ops),
      value: fc.constantFrom(...values.filter((v) => v !== '')),
    });
    const alive = ['1', '2', '3', '5'];
    fc.assert(
      fc.property(fc.array(cond, { minLength: 1, maxLength: 4 }), (conds) => {
        const each = conds.map((c) => new Set(matchOne(site, c)));
        const union = new Set(each.flatMap((s) => [...s]));
        const inter = alive.filter((id) => each.every((s) => s.has(id)));
        expect(new Set(matchIds(site, ruleJson(conds, 'OR')))).toEqual(union);
        expect(matchIds(site, ruleJson(conds, 'AND'))).toEqual(inter);
        const negated = matchIds(site, { operator: 'OR', not: true, cohortId: null, conditions: conds });
        expect(negated).toEqual(alive.filter((id) => !union.has(id)));
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe('parsing rule JSON', () => {
  it('[COH-R2] malformed rules are rejected with errors naming the JSON path', () => {
    const problems = errorsOf(() =>
      parseRule({
        operator: 'XOR',
        cohortId: 5,
        conditions: [
          { type: 'user_profile', field: 'city', operator: 'resembles', value: 'x' },
          { type: 'user_last_login', operator: 'in_last', period: { value: 2, unit: 'fortnights' } },
          {
            type: 'group',
            operator: 'AND',
            conditions: [{ type: 'user_enrolment', operator: 'enrolled', courseId: 'c', extra: 1 }],
          },
          'nonsense',
        ],
      }),
    );
    const at = problems.map((p) => p.at);
    expect(at).toContain('$.operator');
    expect(at).toContain('$.cohortId');
    expect(at).toContain('$.conditions[0].operator');
    expect(at).toContain('$.conditions[1].period.unit');
    expect(at).toContain('$.conditions[2].conditions[0].extra');
    expect(at).toContain('$.conditions[3]');
    expect(problems.find((p) => p.at === '$.conditions[0].operator')!.message).toMatch(/"resembles"/);
  });

  it('[COH-R2] property: any JSON value either parses or is rejected with a ValidationError naming paths', () => {
    const conditionish = fc.record(
      {
        type: fc.constantFrom(
          'user_profile',
          'cohort_membership',
          'user_role',
          'group',
          'quiz_result',
          'nope',
        ),
        operator: fc.oneof(fc.constantFrom('AND', 'OR', 'equals', 'member_of', 'has_role'), fc.anything()),
        field: fc.oneof(fc.constantFrom('city', 'auth'), fc.anything()),
        value: fc.anything(),
        cohorts: fc.anything(),
        conditions: fc.anything(),
      },
      { requiredKeys: ['type'] },
    );
    const ruleish = fc.record(
      {
        operator: fc.anything(),
        cohortId: fc.anything(),
        conditions: fc.oneof(fc.array(conditionish), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), ruleish), (input) => {
        try {
          parseRule(input);
        } catch (e) {
          expect(e).toBeInstanceOf(ValidationError);
          const problems = (e as ValidationError).problems;
          expect(problems.length).toBeGreaterThan(0);
          for (const p of problems) expect(p.at.startsWith('$')).toBe(true);
        }
      }),
      { numRuns: 400, seed: 3 },
    );
  });

  it('[COH-R3] an unknown condition type parses but makes the rule broken, naming the type', () => {
    const rule = parseRule(ruleJson([paris, { type: 'moon_phase', phase: 'full' }]));
    expect(ruleBrokenReason(new SiteIndex(site), rule, { now: NOW })).toBe(
      '$.conditions[1].type: condition type "moon_phase" is not available',
    );
    // The unknown condition survives a round trip untouched.
    expect(ruleToSpecJson(rule)['conditions']).toEqual([paris, { type: 'moon_phase', phase: 'full' }]);
  });

  it('[COH-R4] a rules file may not give one cohort two rules, nor repeat an id', () => {
    const problems = errorsOf(() =>
      parseRules([
        { id: 'a', ...ruleJson([paris], 'AND', 'c') },
        { id: 'a', ...ruleJson([physics], 'AND', 'c') },
      ]),
    );
    expect(problems.map((p) => p.at)).toEqual(['$[1].id', '$[1].cohortId']);
  });

  it('[COH-R1] a new condition type plugs in through the registry without touching the engine', () => {
    const evenId: ConditionType<{ parity: 'even' | 'odd' }> = {
      type: 'id_parity',
      label: 'Id parity',
      events: ['user_created'],
      parse: (raw, r, at) => ({ parity: r.oneOf(raw, 'parity', at, ['even', 'odd'] as const) }),
      broken: () => null,
      compile: (c, ctx) => (p) => (Number(ctx.index.users[p]!.id) % 2 === 0) === (c.parity === 'even'),
      describe: (c) => `Users with an ${c.parity} id`,
      toJson: (c) => ({ parity: c.parity }),
    };
    const registry: ConditionRegistry = defaultRegistry.extend().register(evenId);
    const rule = parseRule(ruleJson([{ type: 'id_parity', parity: 'even' }]), { registry });
    const index = new SiteIndex(site);
    expect(matchingCount(index, rule, { now: NOW, registry })).toBe(1); // user 2 (user 4 is deleted)
    expect(describeRule(rule, index, registry)).toEqual(['Users with an even id']);
    expect(defaultRegistry.get('id_parity')).toBeUndefined();
    const b: ConditionType<null> = {
      type: 'always_broken',
      label: 'Always broken',
      events: [],
      parse: () => null,
      broken: () => broken('', 'nope'),
      compile: () => () => true,
      describe: () => 'Always broken',
      toJson: () => ({}),
    };
    const reg2 = defaultRegistry.extend().register(b);
    expect(
      ruleBrokenReason(index, parseRule(ruleJson([paris, { type: 'always_broken' }]), { registry: reg2 }), {
        now: NOW,
        registry: reg2,
      }),
    ).toBe('$.conditions[1]: nope');
  });
});

describe('plain words, explanations and preview', () => {
  const index = new SiteIndex(site);
  it('[COH-D1] each condition describes itself; the rule reads as lines joined by its operator', () => {
    const rule = parseRule(
      ruleJson([paris, { type: 'group', operator: 'OR', not: true, conditions: [physics, paris] }], 'AND'),
    );
    expect(describeRule(rule, index)).toEqual([
      'Users with City/town is equal to "Paris"',
      'AND NOT (Users with Department is equal to "Physics" OR Users with City/town is equal to "Paris")',
    ]);
    expect(describeRule(parseRule(ruleJson([])), index)).toEqual(['No conditions: matches nobody']);
  });

  it('[COH-E5] "would this user match, and which condition fails?"', () => {
    const rule = parseRule(ruleJson([paris, physics], 'AND'));
    const ex = explainUser(index, rule, '2', { now: NOW });
    expect(ex.matches).toBe(false);
    expect(ex.failing).toEqual([
      { at: '$.conditions[1]', description: 'Users with Department is equal to "Physics"' },
    ]);
    expect(ex.reason).toContain('Department is equal to "Physics"');
    expect(explainUser(index, rule, '1', { now: NOW }).matches).toBe(true);
    const deleted = explainUser(index, parseRule(ruleJson([physics], 'OR')), '4', { now: NOW });
    expect(deleted.matches).toBe(false);
    expect(deleted.reason).toMatch(/deleted/);
    expect(() => explainUser(index, rule, 'nobody', { now: NOW })).toThrow(/"nobody" does not exist/);
  });

  it('[COH-E6] live preview: count and sample, or the problems, or why it is broken, without throwing', () => {
    const ok = previewRule(index, ruleJson([physics]), { now: NOW, sampleSize: 2 });
    expect(ok).toMatchObject({ problems: [], broken: null, count: 3, sample: ['1', '3'] });
    const bad = previewRule(index, ruleJson([{ type: 'user_profile', field: 'city' }]), { now: NOW });
    expect(bad.problems.map((p) => p.at)).toEqual(['$.conditions[0].operator']);
    const br = previewRule(
      index,
      ruleJson([{ type: 'user_enrolment', operator: 'enrolled', courseId: 'gone' }]),
      { now: NOW },
    );
    expect(br.broken).toMatch(/\$\.conditions\[0\]\.courseId/);
  });
});

describe('rule lifecycle', () => {
  const index = new SiteIndex(
    makeSite({
      users: [u('1', { city: 'Paris' })],
      cohorts: [{ id: 'c' }, { id: 'd' }, { id: 'ldap', component: 'auth_ldap' }],
    }),
  );

  it('[COH-L1] new rules start disabled even if the input says enabled (plugin: rule_manager_test)', () => {
    const r = createRule([], { id: 'r1', enabled: true, ...ruleJson([paris], 'AND', 'c') }, index);
    expect(r.enabled).toBe(false);
    expect(r.broken).toBe(false);
  });

  it('[COH-R4] one rule per cohort; a cohort owned by another component is refused (plugin: rule_manager_test)', () => {
    const r1 = createRule([], { id: 'r1', ...ruleJson([paris], 'AND', 'c') }, index);
    expect(
      errorsOf(() => createRule([r1], { id: 'r2', ...ruleJson([paris], 'AND', 'c') }, index))[0]!.message,
    ).toMatch(/already managed by rule "r1"/);
    expect(
      errorsOf(() => createRule([], { id: 'r3', ...ruleJson([paris], 'AND', 'ldap') }, index))[0]!.message,
    ).toMatch(/owned by auth_ldap/);
    expect(
      errorsOf(() => createRule([], { id: 'r4', ...ruleJson([paris], 'AND', 'zz') }, index))[0]!.at,
    ).toBe('$.cohortId');
  });

  it('[COH-L2] every edit disables the rule, even a name change, and clears the broken flag (plugin: rule_test)', () => {
    const r1 = { ...createRule([], { id: 'r1', ...ruleJson([paris], 'AND', 'c') }, index), enabled: true };
    const renamed = updateRule([r1], 'r1', { name: 'Parisians' }, index);
    expect(renamed).toMatchObject({ name: 'Parisians', enabled: false });
    expect(renamed.root.children).toHaveLength(1);
    const wasBroken = { ...r1, broken: true, brokenReason: 'x', enabled: false };
    expect(updateRule([wasBroken], 'r1', { conditions: [physics] }, index)).toMatchObject({
      broken: false,
      enabled: false,
    });
  });

  it('[COH-L3] enabling shows the count; a broken rule cannot be enabled and is flagged (plugin: toggle forces it off)', () => {
    const good = createRule([], { id: 'r1', ...ruleJson([paris], 'AND', 'c') }, index);
    expect(enableRule(good, index, { now: NOW })).toMatchObject({
      ok: true,
      count: 1,
      rule: { enabled: true },
    });
    const bad = createRule(
      [],
      { id: 'r2', ...ruleJson([{ type: 'course_not_completed', courseId: 'nope' }], 'AND', 'd') },
      index,
    );
    const out = enableRule(bad, index, { now: NOW });
    expect(out.ok).toBe(false);
    expect(out.rule).toMatchObject({ enabled: false, broken: true });
    expect(out.rule.brokenReason).toMatch(/courseId/);
  });

  it('[COH-L4] deleting rules is all-or-nothing across the given ids and releases their cohorts (plugin: rule delete web service test)', () => {
    const r1 = createRule([], { id: 'r1', ...ruleJson([paris], 'AND', 'c') }, index);
    const r2 = createRule([r1], { id: 'r2', ...ruleJson([paris], 'AND', 'd') }, index);
    expect(() => deleteRules([r1, r2], ['r1', 'zz'])).toThrow(ValidationError);
    expect(deleteRules([r1, r2], ['r1'])).toEqual({ rules: [r2], releasedCohorts: ['c'] });
  });

  it('[COH-R4] eligible cohorts, managing and releasing (plugin: cohort_manager_test)', () => {
    const s = makeSite({
      cohorts: [
        { id: 'mine', component: 'tool_dynamic_cohorts' },
        { id: 'free1' },
        { id: 'free2' },
        { id: 'assign', component: 'mod_assign' },
      ],
    });
    expect(eligibleCohorts(s).map((c) => c.id)).toEqual(['mine', 'free1', 'free2']);
    expect(eligibleCohorts(s, true).map((c) => c.id)).toEqual(['free1', 'free2']);
    const managed = manageCohort(s, 'free1');
    expect(managed.cohorts[1]!.component).toBe('tool_dynamic_cohorts');
    expect(unmanageCohort(managed, 'free1').cohorts[1]!.component).toBe('');
    expect(() => manageCohort(s, 'nope')).toThrow(/"nope" does not exist/);
  });

  it('[COH-L3] when a course disappears, the rules that used it are flagged broken with the reason and disabled', () => {
    const before = makeSite({
      users: [u('1')],
      courses: [{ id: 'c1', fullname: 'C1' }],
      cohorts: [{ id: 'c' }, { id: 'd' }],
    });
    const rs = parseRules([
      {
        id: 'uses',
        enabled: true,
        operator: 'AND',
        cohortId: 'c',
        conditions: [{ type: 'user_enrolment', operator: 'enrolled', courseId: 'c1' }],
      },
      { id: 'other', enabled: true, operator: 'AND', cohortId: 'd', conditions: [paris] },
    ]);
    const after = new SiteIndex({ ...before, courses: [] });
    const { rules: out, newlyBroken } = markBrokenRules(after, rs, { now: NOW });
    expect(newlyBroken).toEqual([
      { ruleId: 'uses', reason: '$.conditions[0].courseId: course "c1" does not exist' },
    ]);
    expect(out[0]).toMatchObject({ broken: true, enabled: false });
    expect(out[1]).toBe(rs[1]);
  });
});

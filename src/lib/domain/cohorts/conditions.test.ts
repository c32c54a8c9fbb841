// Per-condition, per-operator behaviour. Scenarios marked "(plugin: <test>)" re-encode the
// tool_dynamic_cohorts PHPUnit test of that name in our own words and data.
import { describe, expect, it } from 'vitest';
import { parseRule } from './rule.ts';
import { describeRule, ruleBrokenReason } from './evaluate.ts';
import { SiteIndex } from './site-index.ts';
import { makeSite, matchOne, u } from './test-helpers.ts';

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const DAY = 86_400;

function brokenOf(
  site: ReturnType<typeof makeSite>,
  condition: Record<string, unknown>,
  cohortId: string | null = null,
): string | null {
  return ruleBrokenReason(
    new SiteIndex(site),
    parseRule({ operator: 'AND', cohortId, conditions: [condition] }),
    { now: NOW },
  );
}

describe('user_profile', () => {
  const site = makeSite({
    users: [
      u('1', { username: 'guest' }),
      u('2', { username: 'admin' }),
      u('3', { username: 'test user 1' }),
      u('4', { username: 'test user 2', suspended: 1 }),
      u('5', { username: 'Émile', firstname: 'Émile', city: '' }),
    ],
  });
  const cond = (operator: string, value: unknown, field = 'username') => ({
    type: 'user_profile',
    field,
    operator,
    value,
  });

  it('[COH-C1] equals, starts with, ends with and not equals on usernames (plugin: user_profile_test get_sql)', () => {
    expect(matchOne(site, cond('equals', 'test user 1'))).toEqual(['3']);
    expect(matchOne(site, cond('starts_with', 'test user'))).toEqual(['3', '4']);
    expect(matchOne(site, cond('ends_with', 'user 2'))).toEqual(['4']);
    // Not equals includes the guest and admin accounts.
    expect(matchOne(site, cond('not_equals', 'test user 1'))).toEqual(['1', '2', '4', '5']);
  });

  it('[COH-C1] contains and does not contain', () => {
    expect(matchOne(site, cond('contains', 'user'))).toEqual(['3', '4']);
    expect(matchOne(site, cond('not_contains', 'user'))).toEqual(['1', '2', '5']);
  });

  it('[COH-F1] text comparison ignores case and accents', () => {
    expect(matchOne(site, cond('equals', 'EMILE', 'firstname'))).toEqual(['5']);
    expect(matchOne(site, cond('starts_with', 'émi', 'username'))).toEqual(['5']);
  });

  it('[COH-C1] is empty / is not empty on a standard field (stored empty string)', () => {
    const s = makeSite({ users: [u('1', { city: 'Paris' }), u('2', { city: '' }), u('3')] });
    expect(matchOne(s, cond('is_empty', '', 'city'))).toEqual(['2', '3']);
    expect(matchOne(s, cond('is_not_empty', '', 'city'))).toEqual(['1']);
  });

  it('[COH-C1] suspended = 1 picks the suspended account, suspended != 1 everyone else (plugin: user_profile_test suspended)', () => {
    expect(matchOne(site, cond('equals', 1, 'suspended'))).toEqual(['4']);
    expect(matchOne(site, cond('not_equals', 1, 'suspended'))).toEqual(['1', '2', '3', '5']);
  });

  it('[COH-F6] a blank value with a value-needing operator is broken; empty / not empty are not', () => {
    expect(brokenOf(site, cond('equals', ''))).toMatch(/\$\.conditions\[0\]\.value: a value is required/);
    expect(brokenOf(site, cond('is_empty', ''))).toBeNull();
  });

  it('[COH-R2] auth and suspended only take equals / not equals; unknown fields are rejected', () => {
    expect(() =>
      parseRule({ operator: 'AND', cohortId: null, conditions: [cond('contains', 'man', 'auth')] }),
    ).toThrow(/\$\.conditions\[0\]\.operator/);
    expect(() =>
      parseRule({ operator: 'AND', cohortId: null, conditions: [cond('equals', 'x', 'timecreated')] }),
    ).toThrow(/\$\.conditions\[0\]\.field/);
  });
});

describe('auth_method', () => {
  const site = makeSite({
    users: [u('1', { auth: 'manual' }), u('2', { auth: 'oauth2' }), u('3', { auth: 'OAuth2' })],
  });
  it('[COH-C2] equals and not equals over the auth plugin name', () => {
    expect(matchOne(site, { type: 'auth_method', operator: 'equals', value: 'oauth2' })).toEqual(['2', '3']);
    expect(matchOne(site, { type: 'auth_method', operator: 'not_equals', value: 'oauth2' })).toEqual(['1']);
  });
});

describe('user_custom_profile', () => {
  const site = makeSite({
    profileFields: [
      { shortname: 'house', datatype: 'text', param1: '' },
      { shortname: 'level', datatype: 'menu', param1: 'One\nTwo' },
      { shortname: 'agreed', datatype: 'checkbox', param1: '' },
      { shortname: 'start', datatype: 'datetime', param1: '' },
      { shortname: 'langs', datatype: 'autocomplete', param1: '' },
    ] as unknown[],
    users: [
      u('1', {
        profile: {
          house: 'Red',
          level: 'One',
          agreed: '1',
          start: NOW - 10 * DAY,
          langs: 'Option 1, Option 2',
        },
      }),
      u('2', {
        profile: {
          house: 'Blue',
          level: 'two',
          agreed: 0,
          start: String(NOW + 10 * DAY),
          langs: ['Option 10'],
        },
      }),
      u('3', { profile: { house: '', start: 0 } }),
      u('4'),
    ],
  });
  const c = (field: string, operator: string, value: unknown, includeMissingData = false) => ({
    type: 'user_custom_profile',
    field,
    operator,
    value,
    includeMissingData,
  });

  it('[COH-F2] users with no stored value fail "not equals" and "does not contain" unless missing data is included (plugin: user_custom_profile_test)', () => {
    expect(matchOne(site, c('house', 'not_equals', 'Red'))).toEqual(['2', '3']);
    expect(matchOne(site, c('house', 'not_equals', 'Red', true))).toEqual(['2', '3', '4']);
    expect(matchOne(site, c('house', 'not_contains', 'e'))).toEqual(['3']);
    expect(matchOne(site, c('house', 'not_contains', 'e', true))).toEqual(['3', '4']);
  });

  it('[COH-F2] text "is empty" means a stored empty string: a missing value is not empty', () => {
    expect(matchOne(site, c('house', 'is_empty', ''))).toEqual(['3']);
    expect(matchOne(site, c('house', 'is_not_empty', ''))).toEqual(['1', '2']);
  });

  it('[COH-C3] menu equals / not equals compare option text ignoring case; missing never matches', () => {
    expect(matchOne(site, c('level', 'equals', 'Two'))).toEqual(['2']);
    expect(matchOne(site, c('level', 'not_equals', 'Two'))).toEqual(['1']);
  });

  it('[COH-F5] checkbox equals 0 does not match users with no stored row', () => {
    expect(matchOne(site, c('agreed', 'equals', 1))).toEqual(['1']);
    expect(matchOne(site, c('agreed', 'equals', 0))).toEqual(['2']);
    expect(matchOne(site, c('agreed', 'equals', 0, true))).toEqual(['2', '3', '4']);
  });

  it('[COH-F3] dates: after and before are inclusive; text dates are compared as numbers (plugin: user_custom_profile_test dates, fix #160)', () => {
    expect(matchOne(site, c('start', 'is_after', NOW + 10 * DAY))).toEqual(['2']);
    expect(matchOne(site, c('start', 'is_before', NOW - 10 * DAY))).toEqual(['1']);
    expect(matchOne(site, c('start', 'is_after', NOW - 10 * DAY))).toEqual(['1', '2']);
  });

  it('[COH-F3] date "is empty" includes users with no stored value and a 0 date; "is not empty" compares with 0', () => {
    expect(matchOne(site, c('start', 'is_empty', null))).toEqual(['3', '4']);
    expect(matchOne(site, c('start', 'is_not_empty', null))).toEqual(['1', '2']);
  });

  it('[COH-F3] in the past / in the future are measured from the injected now', () => {
    expect(matchOne(site, c('start', 'in_the_past', null))).toEqual(['1']);
    expect(matchOne(site, c('start', 'in_the_future', null))).toEqual(['2']);
    expect(matchOne(site, c('start', 'in_the_future', null), NOW + 20 * DAY)).toEqual([]);
  });

  it('[COH-F4] autocomplete equals matches a whole option, not a prefix ("Option 1" is not "Option 10")', () => {
    expect(matchOne(site, c('langs', 'equals', 'Option 1'))).toEqual(['1']);
    expect(matchOne(site, c('langs', 'equals', 'Option 10'))).toEqual(['2']);
    expect(matchOne(site, c('langs', 'not_equals', 'Option 2'))).toEqual(['2']);
  });

  it('[COH-F6] a deleted field or a wrong operator for the type makes the condition broken (plugin: test_is_broken)', () => {
    expect(brokenOf(site, c('gone', 'equals', 'x'))).toMatch(
      /\$\.conditions\[0\]\.field: .*"gone" does not exist/,
    );
    expect(brokenOf(site, c('level', 'contains', 'x'))).toMatch(/\$\.conditions\[0\]\.operator/);
    expect(brokenOf(site, c('house', 'equals', ''))).toMatch(/value/);
    expect(brokenOf(site, c('house', 'is_not_empty', ''))).toBeNull();
  });
});

describe('cohort_membership', () => {
  const site = makeSite({
    users: [u('1'), u('2'), u('3'), u('4')],
    cohorts: [
      { id: 'A', name: 'A', members: ['1', '2'] },
      { id: 'B', name: 'B', members: ['2', '3'] },
      { id: 'own', name: 'Own', members: [] },
      { id: 'other', name: 'Other', component: 'auth_ldap', members: ['4'] },
    ],
  });
  it('[COH-C4] member of = any of the cohorts; not member of = none of them (plugin: cohort_membership_test)', () => {
    expect(matchOne(site, { type: 'cohort_membership', operator: 'member_of', cohorts: ['A', 'B'] })).toEqual(
      ['1', '2', '3'],
    );
    expect(
      matchOne(site, { type: 'cohort_membership', operator: 'not_member_of', cohorts: ['A', 'B'] }),
    ).toEqual(['4']);
  });
  it("[COH-C4] the rule's own cohort, a missing cohort or another component's cohort make it broken", () => {
    expect(
      brokenOf(site, { type: 'cohort_membership', operator: 'member_of', cohorts: ['A', 'own'] }, 'own'),
    ).toMatch(/cohorts\[1\].*own cohort/);
    expect(brokenOf(site, { type: 'cohort_membership', operator: 'member_of', cohorts: ['nope'] })).toMatch(
      /"nope" does not exist/,
    );
    expect(brokenOf(site, { type: 'cohort_membership', operator: 'member_of', cohorts: ['other'] })).toMatch(
      /owned by auth_ldap/,
    );
  });
});

describe('cohort_field', () => {
  const site = makeSite({
    users: [u('1'), u('2'), u('3')],
    cohortCustomFields: [
      { shortname: 'start', datatype: 'date', param1: '' },
      { shortname: 'notes', datatype: 'textarea', param1: '' },
    ] as unknown[],
    cohorts: [
      { id: 'empty', name: 'Empty cohort', members: [] },
      { id: 'dated', name: 'Dated', members: ['1'], customFields: { start: NOW - DAY } },
      { id: 'undated', name: 'Undated', visible: 0, members: ['2'] },
      { id: 'own', name: 'Own', members: ['3'], customFields: {} },
    ],
  });
  const c = (
    membership: string,
    field: string,
    operator: string,
    value: unknown,
    includeMissingData = false,
  ) => ({
    type: 'cohort_field',
    membership,
    field,
    operator,
    value,
    includeMissingData,
  });
  it('[COH-C5] not members of an empty cohort matched by name selects everyone (plugin: cohort_field_test)', () => {
    expect(matchOne(site, c('not_member_of', 'name', 'equals', 'Empty cohort'))).toEqual(['1', '2', '3']);
    expect(matchOne(site, c('member_of', 'name', 'equals', 'Empty cohort'))).toEqual([]);
  });
  it('[COH-C5] "not members of cohorts whose date is empty" excludes the members of the cohorts without a date (plugin: cohort_field_test)', () => {
    expect(matchOne(site, c('not_member_of', 'custom:start', 'is_empty', null))).toEqual(['1']);
  });
  it('[COH-C5] no cohort has a future date, so "in the future" selects nobody (plugin: cohort_field_test)', () => {
    expect(matchOne(site, c('member_of', 'custom:start', 'in_the_future', null))).toEqual([]);
  });
  it("[COH-C5] the rule's own cohort is never one of the matched cohorts, even under include-missing", () => {
    expect(matchOne(site, c('member_of', 'custom:start', 'is_before', NOW, true), NOW, 'own')).toEqual([
      '1',
      '2',
    ]);
    expect(matchOne(site, c('member_of', 'custom:start', 'is_before', NOW, true), NOW, null)).toEqual([
      '1',
      '2',
      '3',
    ]);
  });
  it('[COH-C5] context: a missing category is broken; the description names the category (plugin: cohort_field_test)', () => {
    const s2 = makeSite({
      categories: [{ id: 'cat', name: 'Science', parentId: null }],
      cohorts: [{ id: 'k', contextid: 'cat' }],
    });
    const cond = c('member_of', 'contextid', 'equals', 'cat');
    expect(brokenOf(s2, cond)).toBeNull();
    expect(brokenOf(s2, c('member_of', 'contextid', 'equals', '7777'))).toMatch(
      /value: category "7777" does not exist/,
    );
    expect(brokenOf(s2, c('member_of', 'name', 'equals', ''))).toMatch(/value/);
    expect(brokenOf(s2, c('member_of', 'name', 'is_empty', ''))).toBeNull();
    const idx = new SiteIndex(s2);
    expect(describeRule(parseRule({ operator: 'AND', cohortId: null, conditions: [cond] }), idx)).toEqual([
      'Users who are members of cohorts with field Context is equal to "Science"',
    ]);
  });

  it('[COH-C5] visible is a checkbox', () => {
    expect(matchOne(site, c('member_of', 'visible', 'equals', 0))).toEqual(['2']);
  });
  it('[COH-C5] an unknown or unsupported (textarea) custom field is broken; an unknown standard field is rejected', () => {
    expect(brokenOf(site, c('member_of', 'custom:gone', 'equals', 'x'))).toMatch(/conditions\[0\]\.field/);
    expect(brokenOf(site, c('member_of', 'custom:notes', 'equals', 'x'))).toMatch(/unsupported type/);
    expect(() =>
      parseRule({ operator: 'AND', cohortId: null, conditions: [c('member_of', 'colour', 'equals', 'x')] }),
    ).toThrow(/field/);
  });
});

describe('user_last_login and user_created', () => {
  const site = makeSite({
    users: [
      u('never', { lastaccess: 0, timecreated: 0 }),
      u('at', { lastaccess: NOW - 10 * DAY, lastlogin: 5, timecreated: NOW - 10 * DAY }),
      u('old', { lastaccess: NOW - 400 * DAY, timecreated: NOW - 400 * DAY }),
      u('new', { lastaccess: NOW - 1 * DAY, timecreated: NOW - 1 * DAY }),
    ],
  });
  const threshold = NOW - 10 * DAY;
  it('[COH-C6] ever / never read the last ACCESS time', () => {
    expect(matchOne(site, { type: 'user_last_login', operator: 'ever' })).toEqual(['at', 'new', 'old']);
    expect(matchOne(site, { type: 'user_last_login', operator: 'never' })).toEqual(['never']);
  });
  it('[COH-C6] before and after are strict: a value equal to the threshold matches neither, and never-logged-in never counts', () => {
    expect(matchOne(site, { type: 'user_last_login', operator: 'before', time: threshold })).toEqual(['old']);
    expect(matchOne(site, { type: 'user_last_login', operator: 'after', time: threshold })).toEqual(['new']);
  });
  it('[COH-C6] in the last N units, inclusive of the start; months and years are calendar steps', () => {
    expect(
      matchOne(site, { type: 'user_last_login', operator: 'in_last', period: { value: 10, unit: 'days' } }),
    ).toEqual(['at', 'new']);
    expect(
      matchOne(site, { type: 'user_last_login', operator: 'in_last', period: { value: 1, unit: 'weeks' } }),
    ).toEqual(['new']);
    expect(
      matchOne(site, { type: 'user_last_login', operator: 'in_last', period: { value: 24, unit: 'hours' } }),
    ).toEqual(['new']);
    expect(
      matchOne(site, { type: 'user_last_login', operator: 'in_last', period: { value: 1, unit: 'years' } }),
    ).toEqual(['at', 'new']);
    // 31 March minus one month is 3 March (2026 is not a leap year), as PHP strtotime does it.
    const mar31 = Date.UTC(2026, 2, 31) / 1000;
    const s = makeSite({
      users: [
        u('a', { lastaccess: Date.UTC(2026, 2, 2) / 1000 }),
        u('b', { lastaccess: Date.UTC(2026, 2, 3) / 1000 }),
      ],
    });
    expect(
      matchOne(
        s,
        { type: 'user_last_login', operator: 'in_last', period: { value: 1, unit: 'months' } },
        mar31,
      ),
    ).toEqual(['b']);
  });
  it('[COH-C6] in the last 0 units, or before without a time, is broken', () => {
    expect(
      brokenOf(site, { type: 'user_last_login', operator: 'in_last', period: { value: 0, unit: 'days' } }),
    ).toMatch(/period/);
    expect(brokenOf(site, { type: 'user_last_login', operator: 'before' })).toMatch(/time/);
  });
  it('[COH-C7] accounts created at time 0 never match (plugin: user_created test, guest and admin)', () => {
    expect(matchOne(site, { type: 'user_created', operator: 'before', time: NOW })).toEqual([
      'at',
      'new',
      'old',
    ]);
    expect(
      matchOne(site, { type: 'user_created', operator: 'in_last', period: { value: 2, unit: 'days' } }),
    ).toEqual(['new']);
    expect(matchOne(site, { type: 'user_created', operator: 'after', time: threshold })).toEqual(['new']);
    expect(() =>
      parseRule({
        operator: 'AND',
        cohortId: null,
        conditions: [{ type: 'user_created', operator: 'ever' }],
      }),
    ).toThrow(/conditions\[0\]\.operator/);
  });
});

describe('user_enrolment', () => {
  const site = makeSite({
    users: [u('s1'), u('s2'), u('t1'), u('x'), u('off')],
    courses: [
      { id: 'c1', fullname: 'Course 1' },
      { id: 'c2', fullname: 'Course 2' },
    ],
    enrolments: [
      { userId: 's1', courseId: 'c1', method: 'manual' },
      { userId: 's2', courseId: 'c1', method: 'self' },
      { userId: 't1', courseId: 'c1', method: 'manual' },
      { userId: 'x', courseId: 'c1', method: 'manual', active: 0 },
      { userId: 'off', courseId: 'c1', method: 'self', instanceEnabled: false },
      { userId: 'x', courseId: 'c2', method: 'manual' },
    ],
    roles: [
      { userId: 's1', role: 'student', contextLevel: 'course', contextId: 'c1' },
      { userId: 's2', role: 'student', contextLevel: 'course', contextId: 'c1' },
      { userId: 't1', role: 'editingteacher', contextLevel: 'course', contextId: 'c1' },
      { userId: 'x', role: 'student', contextLevel: 'course', contextId: 'c1' },
    ],
  });
  const c = (operator: string, role: string | null, method: string | null, courseId = 'c1') => ({
    type: 'user_enrolment',
    operator,
    courseId,
    role,
    method,
  });
  it('[COH-C8] enrolled means an active enrolment in an enabled instance, filtered by method and course role', () => {
    expect(matchOne(site, c('enrolled', null, null))).toEqual(['s1', 's2', 't1']);
    expect(matchOne(site, c('enrolled', 'student', null))).toEqual(['s1', 's2']);
    expect(matchOne(site, c('enrolled', null, 'self'))).toEqual(['s2']);
    expect(matchOne(site, c('enrolled', 'student', 'manual'))).toEqual(['s1']);
  });
  it('[COH-C8] "not enrolled with role student" is the negation, so it includes the enrolled teacher (plugin: user_enrolment test)', () => {
    expect(matchOne(site, c('not_enrolled', 'student', null))).toEqual(['off', 't1', 'x']);
  });
  it('[COH-C8] a missing course, role or method is broken, each with its own reason', () => {
    expect(brokenOf(site, c('enrolled', null, null, 'nope'))).toMatch(/courseId: course "nope"/);
    expect(brokenOf(site, c('enrolled', 'wizard', null))).toMatch(/role: role "wizard"/);
    expect(brokenOf(site, c('enrolled', null, 'carrier-pigeon'))).toMatch(/method: enrolment method/);
  });
});

describe('user_role', () => {
  // Mirrors user_role_test get_sql_data_operator_have_role: a system manager, a category teacher,
  // a course teacher and students in a course of that category.
  const site = makeSite({
    users: [u('manager'), u('catteacher'), u('courseteacher'), u('student1'), u('student2'), u('subteacher')],
    categories: [
      { id: 'top', name: 'Top', parentId: null },
      { id: 'cat', name: 'Category', parentId: 'top' },
      { id: 'sub', name: 'Sub', parentId: 'cat' },
    ],
    courses: [
      { id: 'course1', fullname: 'Course 1', categoryId: 'cat' },
      { id: 'course2', fullname: 'Course 2', categoryId: 'cat' },
    ],
    roles: [
      { userId: 'manager', role: 'manager', contextLevel: 'system', contextId: null },
      { userId: 'catteacher', role: 'teacher', contextLevel: 'category', contextId: 'cat' },
      { userId: 'courseteacher', role: 'teacher', contextLevel: 'course', contextId: 'course1' },
      { userId: 'student1', role: 'student', contextLevel: 'course', contextId: 'course1' },
      { userId: 'student2', role: 'student', contextLevel: 'course', contextId: 'course1' },
      { userId: 'subteacher', role: 'teacher', contextLevel: 'category', contextId: 'sub' },
    ],
  });
  const c = (
    role: string,
    contextLevel: string,
    extra: Record<string, unknown> = {},
    operator = 'has_role',
  ) => ({
    type: 'user_role',
    operator,
    role,
    contextLevel,
    ...extra,
  });
  it('[COH-C9] system level counts system assignments only (plugin: user_role_test)', () => {
    expect(matchOne(site, c('manager', 'system'))).toEqual(['manager']);
    expect(matchOne(site, c('teacher', 'system'))).toEqual([]);
  });
  it('[COH-C9] category without children counts the category and its ancestors, system included', () => {
    expect(matchOne(site, c('manager', 'category', { categoryId: 'cat' }))).toEqual(['manager']);
    expect(matchOne(site, c('teacher', 'category', { categoryId: 'cat' }))).toEqual(['catteacher']);
  });
  it('[COH-C9] category with children counts the category and everything below it, but not ancestors (upstream behaviour)', () => {
    expect(matchOne(site, c('teacher', 'category', { categoryId: 'cat', includeChildren: true }))).toEqual([
      'catteacher',
      'courseteacher',
      'subteacher',
    ]);
    expect(matchOne(site, c('manager', 'category', { categoryId: 'cat', includeChildren: true }))).toEqual(
      [],
    );
  });
  it('[COH-C9] course level counts the course, its ancestor categories and system', () => {
    expect(matchOne(site, c('teacher', 'course', { courseId: 'course1' }))).toEqual([
      'catteacher',
      'courseteacher',
    ]);
    expect(matchOne(site, c('teacher', 'course', { courseId: 'course2' }))).toEqual(['catteacher']);
    expect(matchOne(site, c('manager', 'course', { courseId: 'course2' }))).toEqual(['manager']);
  });
  it('[COH-C9] "do not have" is the exact negation', () => {
    expect(matchOne(site, c('teacher', 'course', { courseId: 'course1' }, 'not_has_role'))).toEqual([
      'manager',
      'student1',
      'student2',
      'subteacher',
    ]);
  });
  it('[COH-C9] broken: missing role, course or category; system level ignores bogus ids (plugin: test_is_broken_and_broken_description)', () => {
    expect(brokenOf(site, c('teacher', 'system', { courseId: '77777', categoryId: '77777' }))).toBeNull();
    expect(brokenOf(site, c('teacher', 'course', { courseId: '77777' }))).toMatch(/courseId/);
    expect(brokenOf(site, c('teacher', 'category', { categoryId: '77777' }))).toMatch(/categoryId/);
    expect(brokenOf(site, c('nosuchrole', 'system'))).toMatch(/role: role "nosuchrole" does not exist/);
  });
});

describe('course completion conditions', () => {
  const site = makeSite({
    users: [u('a'), u('b'), u('c'), u('never')],
    courses: [
      { id: 'c1', fullname: 'One', enableCompletion: 1 },
      { id: 'c2', fullname: 'Two', enableCompletion: true },
      { id: 'off', fullname: 'No completion', enableCompletion: 0 },
    ],
    completions: [
      { userId: 'a', courseId: 'c1', timecompleted: 1000 },
      { userId: 'a', courseId: 'c2', timecompleted: 3000 },
      { userId: 'b', courseId: 'c1', timecompleted: 2000 },
      { userId: 'c', courseId: 'c1', timecompleted: null },
    ],
  });
  it('[COH-C10] course completed: any, strictly before, strictly after', () => {
    expect(matchOne(site, { type: 'course_completed', operator: 'any', courseId: 'c1' })).toEqual(['a', 'b']);
    expect(
      matchOne(site, { type: 'course_completed', operator: 'before', courseId: 'c1', time: 2000 }),
    ).toEqual(['a']);
    expect(
      matchOne(site, { type: 'course_completed', operator: 'after', courseId: 'c1', time: 1000 }),
    ).toEqual(['b']);
  });
  it('[COH-C10] under OR, users without any completion are not dropped (the plugin INNER JOIN bug is not copied)', () => {
    const rule = {
      operator: 'OR',
      cohortId: null,
      conditions: [
        { type: 'course_completed', operator: 'any', courseId: 'c2' },
        { type: 'user_profile', field: 'username', operator: 'equals', value: 'user-never' },
      ],
    };
    expect(matchOne(site, rule.conditions[0]!)).toEqual(['a']);
    expect(matchOne(site, rule.conditions[1]!)).toEqual(['never']);
    expect(new Set([...matchOne(site, rule.conditions[0]!), ...matchOne(site, rule.conditions[1]!)])).toEqual(
      new Set(['a', 'never']),
    );
  });
  it('[COH-C11] course not completed: no record or no completion time; never enrolled counts (plugin: course_not_completed_test)', () => {
    expect(matchOne(site, { type: 'course_not_completed', courseId: 'c1' })).toEqual(['c', 'never']);
  });
  it('[COH-C10] [COH-C11] a missing course or one without completion is broken', () => {
    expect(brokenOf(site, { type: 'course_not_completed', courseId: 'off' })).toMatch(
      /completion is disabled/,
    );
    expect(brokenOf(site, { type: 'course_completed', operator: 'any', courseId: 'gone' })).toMatch(
      /does not exist/,
    );
  });
  it('[COH-C12] course_completion: completed any/all, not completed any/all, with a period (plugin: course_completion_test)', () => {
    const cc = (completion: string, selection: string, period = 'any', time?: number) => ({
      type: 'course_completion',
      courseIds: ['c1', 'c2'],
      completion,
      selection,
      period,
      ...(time === undefined ? {} : { time }),
    });
    expect(matchOne(site, cc('completed', 'any'))).toEqual(['a', 'b']);
    expect(matchOne(site, cc('completed', 'all'))).toEqual(['a']);
    expect(matchOne(site, cc('not_completed', 'any'))).toEqual(['c', 'never']);
    expect(matchOne(site, cc('not_completed', 'all'))).toEqual(['b', 'c', 'never']);
    expect(matchOne(site, cc('completed', 'all', 'before', 2500))).toEqual([]);
    expect(matchOne(site, cc('completed', 'any', 'after', 1500))).toEqual(['a', 'b']);
  });
});

describe('user_profile_interests', () => {
  const site = makeSite({
    users: [u('1', { interests: ['Chess', 'Music'] }), u('2', { interests: ['music'] }), u('3')],
  });
  it('[COH-C13] contains = any of the tags (case-insensitive); does not contain = none of them', () => {
    expect(
      matchOne(site, { type: 'user_profile_interests', operator: 'contains', tags: ['Music', 'Go'] }),
    ).toEqual(['1', '2']);
    expect(
      matchOne(site, { type: 'user_profile_interests', operator: 'not_contains', tags: ['chess'] }),
    ).toEqual(['2', '3']);
  });
  it('[COH-C13] no tags is broken; an unused tag is not', () => {
    expect(brokenOf(site, { type: 'user_profile_interests', operator: 'contains', tags: [] })).toMatch(
      /tags/,
    );
    expect(
      brokenOf(site, { type: 'user_profile_interests', operator: 'contains', tags: ['unused'] }),
    ).toBeNull();
  });
});

describe('quiz_result', () => {
  const site = makeSite({
    users: [u('1'), u('2'), u('3'), u('4')],
    courses: [{ id: 'c', fullname: 'C' }],
    quizzes: [{ id: 'q', courseId: 'c', grade: 10 }],
    quizGrades: [
      { quizId: 'q', userId: '1', grade: 4 },
      { quizId: 'q', userId: '2', grade: 7 },
      { quizId: 'q', userId: '3', grade: 7.5 },
    ],
  });
  it('[COH-C14] an inclusive grade range; users without a grade never match (plugin: quiz_result_test)', () => {
    expect(matchOne(site, { type: 'quiz_result', quizId: 'q', minGrade: 4, maxGrade: 7 })).toEqual([
      '1',
      '2',
    ]);
    expect(matchOne(site, { type: 'quiz_result', quizId: 'q', minGrade: 0, maxGrade: 10 })).toEqual([
      '1',
      '2',
      '3',
    ]);
  });
  it('[COH-C14] broken: missing quiz, negative or inverted range, maximum above the quiz maximum', () => {
    expect(brokenOf(site, { type: 'quiz_result', quizId: 'zz', minGrade: 0, maxGrade: 1 })).toMatch(/quizId/);
    expect(brokenOf(site, { type: 'quiz_result', quizId: 'q', minGrade: -1, maxGrade: 1 })).toMatch(
      /minGrade/,
    );
    expect(brokenOf(site, { type: 'quiz_result', quizId: 'q', minGrade: 5, maxGrade: 4 })).toMatch(
      /maxGrade/,
    );
    expect(brokenOf(site, { type: 'quiz_result', quizId: 'q', minGrade: 0, maxGrade: 11 })).toMatch(
      /maximum grade 10/,
    );
  });
});

// Tests of the demo site directory and demo rules: valid, deterministic, and the rules select sensible people.
// Never depends on the wall clock: evaluation time is the demo epoch.
import { describe, expect, it } from 'vitest';
import { buildDemoSite } from './demo.ts';
import { buildDemoRules, buildDemoSiteJson, demoRulesJson } from './demo-site.ts';
import { parseSiteJson, siteToJson } from './site-json.ts';
import { SiteIndex, matchingUserIds, processRules, ruleProcessingProblem } from '../cohorts/index.ts';

const demo = buildDemoSite();
const now = demo.epoch;

describe('demo site directory', () => {
  it('[COH-S1] is valid site JSON that round-trips, and is byte-identical on every build', () => {
    const a = buildDemoSiteJson();
    expect(JSON.stringify(parseSiteJson(JSON.parse(JSON.stringify(a))))).toBe(JSON.stringify(a));
    expect(JSON.stringify(siteToJson(a))).toBe(JSON.stringify(siteToJson(buildDemoSiteJson())));
  });

  it('[COH-S1] has every demo person as a user and every course role as an enrolment and assignment', () => {
    const site = buildDemoSiteJson();
    expect(site.users.map((u) => u.id).sort()).toEqual(demo.people.map((p) => p.id).sort());
    for (const r of demo.roles) {
      expect(site.enrolments.some((e) => e.userId === r.userId && e.courseId === r.courseId)).toBe(true);
      expect(
        site.roles.some((a) => a.userId === r.userId && a.contextId === r.courseId && a.role === r.role),
      ).toBe(true);
    }
    expect(new Set(site.users.map((u) => u.auth)).size).toBeGreaterThan(1);
    expect(site.users.some((u) => u.profile['programme'] !== undefined)).toBe(true);
    expect(site.cohorts.length).toBeGreaterThanOrEqual(2);
    expect(site.quizGrades.length).toBeGreaterThan(0);
  });

  it('[COH-S1] no demo person is suspended or deleted: the server disables sign-in for those', () => {
    const site = buildDemoSiteJson();
    expect(site.users.filter((u) => u.suspended === 1 || u.deleted === 1).map((u) => u.id)).toEqual([]);
  });
});

describe('demo rules', () => {
  it('[COH-L1] parse, only one is enabled, and none is broken on the demo site', () => {
    const rules = buildDemoRules();
    expect(rules.map((r) => r.enabled)).toEqual(demoRulesJson().map((r) => r['enabled'] === true));
    expect(rules.filter((r) => r.enabled)).toHaveLength(1);
    const index = new SiteIndex(buildDemoSiteJson());
    for (const r of rules) expect(ruleProcessingProblem(index, r, { now })).toBeNull();
  });

  it('[COH-C8][COH-C10] "Physics students who completed Calculus" selects exactly those people', () => {
    const site = buildDemoSiteJson();
    const rule = buildDemoRules().find((r) => r.id === 'rule-physcalc')!;
    const physStudents = new Set(
      demo.roles.filter((r) => r.courseId === 'phys101' && r.role === 'student').map((r) => r.userId),
    );
    const calcDone = new Set(
      site.completions.filter((c) => c.courseId === 'math110' && c.timecompleted).map((c) => c.userId),
    );
    const expected = [...physStudents].filter((u) => calcDone.has(u));
    const got = matchingUserIds(new SiteIndex(site), rule, { now });
    expect(got.length).toBeGreaterThan(0);
    expect([...got].sort()).toEqual(expected.sort());
  });

  it('[COH-C9] "Staff" selects the editing teachers and nobody else', () => {
    const rule = buildDemoRules().find((r) => r.id === 'rule-staff')!;
    const editing = [
      ...new Set(demo.roles.filter((r) => r.role === 'editingteacher').map((r) => r.userId)),
    ].sort();
    expect([...matchingUserIds(new SiteIndex(buildDemoSiteJson()), rule, { now })].sort()).toEqual(editing);
  });

  it("[COH-P1] processing the demo changes only the enabled rule's cohort", async () => {
    const result = await processRules(new SiteIndex(buildDemoSiteJson()), buildDemoRules(), { now });
    expect(result.changes.map((c) => c.cohortId)).toEqual(['co-physcalc']);
    expect(result.changes[0]!.added.length).toBeGreaterThan(0);
  });
});

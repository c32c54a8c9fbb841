// Tests of the cohorts screens' helpers: the rule editor's draft operations and error placement, the rules table
// and member reasons after a real processing run written to a real Y.Doc, and the worker protocol over a real
// MessageChannel (progress, cancel, validation errors). Never mounts components or opens IndexedDB.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  addCondition,
  addGroup,
  CONDITION_FORMS,
  childPath,
  draftForSave,
  fromDateInput,
  dateInputValue,
  nodeAt,
  problemsAt,
  removeNode,
  setConditionField,
  setGroupNot,
  setGroupOperator,
  splitReason,
} from './cohorts-editor.ts';
import { memberRows, newRuleId, ruleRows, percent } from './cohorts-view.ts';
import { buildDemoSite } from '../domain/interchange/demo.ts';
import { buildDemoSiteJson, demoRulesJson } from '../domain/interchange/demo-site.ts';
import {
  SiteIndex,
  matchingUserIds,
  parseRule,
  parseRules,
  previewRule,
  processRules,
  ruleToJson,
  updateRule,
} from '../domain/cohorts/index.ts';
import { siteJsonToDoc } from '../crdt/site-doc.ts';
import { deleteRulesFromDoc, readSiteState, writeProcessResult } from '../workers/cohort-writes.ts';
import { RpcClient, RpcError, serveRpc, type RpcPort } from '../workers/rpc.ts';
import { createCohortsApi, type CohortsApi } from '../workers/cohorts.worker.ts';
import { ValidationError } from '../domain/shared/errors.ts';

const demo = buildDemoSite();
const now = demo.epoch;
const site = buildDemoSiteJson(demo);
const actor = { userId: 'u-admin', deviceId: 'test' };

describe('rule editor drafts', () => {
  it('[COH-E2] builds nested AND/OR groups with NOT by path, and the result parses as that tree', () => {
    let d: Record<string, unknown> = {
      id: 'r',
      name: 'x',
      operator: 'AND',
      cohortId: 'co-staff',
      conditions: [],
    };
    d = addCondition(d, '$', 'user_enrolment', site);
    d = addGroup(d, '$');
    const g = childPath('$', 1);
    d = setGroupOperator(d, g, 'OR');
    d = setGroupNot(d, g, true);
    d = addCondition(d, g, 'auth_method', site);
    d = addCondition(d, g, 'user_profile_interests', site);
    d = setConditionField(d, childPath(g, 1), 'tags', ['Chess'], site);
    const rule = parseRule(draftForSave(d));
    expect(rule.root.operator).toBe('AND');
    const group = rule.root.children[1]!;
    expect(group).toMatchObject({ kind: 'group', operator: 'OR', not: true });
    expect(
      group.kind === 'group' && group.children.map((c) => (c.kind === 'condition' ? c.type : 'group')),
    ).toEqual(['auth_method', 'user_profile_interests']);
    d = removeNode(d, childPath(g, 0));
    expect((nodeAt(d, g)!['conditions'] as unknown[]).length).toBe(1);
    // the input draft is never changed
    const before = JSON.stringify(d);
    removeNode(d, g);
    expect(JSON.stringify(d)).toBe(before);
  });

  it("[COH-R2] every condition type's blank form parses, and is not broken on the demo site except where a choice is still needed", () => {
    const index = new SiteIndex(site);
    for (const form of CONDITION_FORMS) {
      const json = { operator: 'AND', cohortId: 'co-staff', conditions: [form.blank(site)] };
      const p = previewRule(index, json, { now });
      expect(p.problems, form.type).toEqual([]);
      // the ones with an empty list or value to fill in say so at that field
      if (p.broken) expect(p.broken, form.type).toMatch(/^\$\.conditions\[0\]/);
    }
  });

  it('[COH-F6] switching a custom field to one whose type lacks the operator resets the operator', () => {
    let d: Record<string, unknown> = { operator: 'AND', cohortId: null, conditions: [] };
    d = addCondition(d, '$', 'user_custom_profile', site);
    d = setConditionField(d, '$.conditions[0]', 'field', 'graduation', site);
    expect(nodeAt(d, '$.conditions[0]')!['operator']).toBe('is_after');
    d = setConditionField(d, '$.conditions[0]', 'field', 'programme', site);
    expect(nodeAt(d, '$.conditions[0]')!['operator']).toBe('equals');
  });

  it('[COH-R2][COH-E4] problems and broken reasons land on the field at fault', () => {
    const bad = {
      operator: 'AND',
      cohortId: null,
      conditions: [
        {
          type: 'group',
          operator: 'OR',
          conditions: [{ type: 'quiz_result', quizId: 'quiz-phys1', minGrade: 'lots', maxGrade: 10 }],
        },
      ],
    };
    const p = previewRule(new SiteIndex(site), bad, { now });
    expect(problemsAt(p.problems, '$.conditions[0].conditions[0]', 'minGrade').length).toBeGreaterThan(0);
    expect(problemsAt(p.problems, '$.conditions[0].conditions[0]', 'maxGrade')).toEqual([]);
    const broken = previewRule(
      new SiteIndex(site),
      { operator: 'AND', cohortId: null, conditions: [{ type: 'course_not_completed', courseId: 'nope' }] },
      { now },
    );
    const split = splitReason(broken.broken)!;
    expect(split.at).toBe('$.conditions[0].courseId');
    expect(problemsAt([split], '$.conditions[0]', 'courseId')).toEqual([split.message]);
  });

  it('date inputs convert to UTC unix seconds and back', () => {
    expect(fromDateInput(dateInputValue(demo.epoch))).toBe(demo.epoch);
    expect(fromDateInput('not a date')).toBeNull();
    expect(dateInputValue(null)).toBe('');
  });
});

describe('rules table and members', () => {
  it('[COH-P7] after a processing run written to the document, members show the rule, reason and time', async () => {
    const doc = new Y.Doc();
    siteJsonToDoc(site, doc, actor, { rules: parseRules(demoRulesJson()).map(ruleToJson) });
    const before = readSiteState(doc);
    const result = await processRules(new SiteIndex(before.site), before.rules, {
      now,
      trigger: 'process now',
    });
    await writeProcessResult(doc, result, { actor, chunkSize: 2 });
    const after = readSiteState(doc);
    const expected = matchingUserIds(
      new SiteIndex(site),
      before.rules.find((r) => r.id === 'rule-physcalc')!,
      { now },
    );
    const rows = memberRows(after.site, 'co-physcalc', after.rules, after.log);
    expect(rows.map((r) => r.userId).sort()).toEqual([...expected].sort());
    for (const r of rows) {
      expect(r.ruleName).toBe('Physics students who completed Calculus');
      expect(r.reason).toMatch(/process now/);
      expect(r.time).toBe(now);
    }
    // a hand-made cohort's members are listed without a rule
    expect(memberRows(after.site, 'co-council', after.rules, after.log).every((r) => r.ruleId === null)).toBe(
      true,
    );

    const table = ruleRows(
      after.site,
      after.rules,
      { 'rule-physcalc': { count: expected.length } },
      after.log,
    );
    expect(table.map((r) => [r.id, r.status])).toEqual([
      ['rule-physcalc', 'enabled'],
      ['rule-quiz', 'disabled'],
      ['rule-staff', 'disabled'],
    ]);
    const phys = table.find((r) => r.id === 'rule-physcalc')!;
    expect(phys).toMatchObject({
      matching: expected.length,
      lastRun: now,
      cohortName: 'Physics students who completed Calculus',
    });
    expect(phys.summary.join(' ')).toMatch(/Physics 101/);
    expect(table.find((r) => r.id === 'rule-staff')!.lastRun).toBeNull();
  });

  it('[COH-L4] deleting rules is all-or-nothing; released cohorts keep members and stop being managed', async () => {
    const doc = new Y.Doc();
    siteJsonToDoc(site, doc, actor, { rules: parseRules(demoRulesJson()).map(ruleToJson) });
    const s0 = readSiteState(doc);
    await writeProcessResult(doc, await processRules(new SiteIndex(s0.site), s0.rules, { now }), { actor });
    const s1 = readSiteState(doc);
    const members = s1.site.cohorts.find((c) => c.id === 'co-physcalc')!.members;
    expect(members.length).toBeGreaterThan(0);
    expect(() => deleteRulesFromDoc(doc, s1.rules, ['rule-physcalc', 'no-such-rule'], actor)).toThrow(
      ValidationError,
    );
    expect(readSiteState(doc).rules.map((r) => r.id)).toContain('rule-physcalc');
    expect(deleteRulesFromDoc(doc, s1.rules, ['rule-physcalc'], actor)).toEqual(['co-physcalc']);
    const s2 = readSiteState(doc);
    expect(s2.rules.map((r) => r.id)).not.toContain('rule-physcalc');
    const cohort = s2.site.cohorts.find((c) => c.id === 'co-physcalc')!;
    expect(cohort.members).toEqual(members);
    expect(cohort.component).toBe('');
  });

  it('[COH-L2] an edited rule shows as disabled; a broken one shows its reason', () => {
    const rules = parseRules(demoRulesJson());
    const edited = updateRule(rules, 'rule-physcalc', { name: 'Renamed' });
    const broken = { ...rules[1]!, broken: true, brokenReason: '$.cohortId: cohort "x" does not exist' };
    const table = ruleRows(site, [edited, broken], {}, []);
    expect(table[0]!.status).toBe('disabled');
    expect(table[1]).toMatchObject({ status: 'broken', reason: '$.cohortId: cohort "x" does not exist' });
  });

  it('new rule ids do not collide; progress is a whole percent', () => {
    expect(newRuleId(['rule-1', 'rule-2'])).toBe('rule-3');
    expect(newRuleId(['rule-2'])).toBe('rule-3');
    expect(percent(1, 3)).toBe(33);
    expect(percent(5, 0)).toBe(0);
  });
});

describe('cohorts worker protocol', () => {
  const ports: MessagePort[] = [];
  afterEach(() => {
    for (const p of ports.splice(0)) p.close();
  });
  function connect(): RpcClient<CohortsApi> {
    const ch = new MessageChannel();
    ports.push(ch.port1, ch.port2);
    serveRpc(ch.port2 as unknown as RpcPort, createCohortsApi(), () => new Promise((r) => setTimeout(r, 0)));
    ch.port2.start();
    ch.port1.start();
    return new RpcClient<CohortsApi>(ch.port1 as unknown as RpcPort);
  }

  it('[COH-E6][COH-P8] previews, processes with progress, and cancels without a result', async () => {
    const rpc = connect();
    await rpc.call('load', { site }).result;
    const rules = demoRulesJson();
    const p = await rpc.call('preview', { rule: rules[0], now }).result;
    const expected = matchingUserIds(new SiteIndex(site), parseRules(rules)[0]!, { now });
    expect(p.count).toBe(expected.length);
    const progress: number[] = [];
    const done = await rpc.call('process', { rules, now }, { onProgress: (d) => progress.push(d) }).result;
    expect(done.changes.map((c) => c.cohortId)).toEqual(['co-physcalc']);
    expect(progress.length).toBeGreaterThan(0);
    const call = rpc.call('process', { rules, now });
    call.cancel();
    await expect(call.result).rejects.toMatchObject({ name: 'CancelledError' });
  });

  it('[COH-R2] a bad rule comes back as an error carrying the JSON paths', async () => {
    const rpc = connect();
    await rpc.call('load', { site }).result;
    const err = await rpc
      .call('explain', { rule: { operator: 'XOR', conditions: [] }, userId: 's1', now })
      .result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).problems.map((p) => p.at)).toContain('$.operator');
    // the same error the domain raises on the main thread
    expect(() => parseRule({ operator: 'XOR', conditions: [] })).toThrow(ValidationError);
  });
});

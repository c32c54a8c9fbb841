// Processing, dependency order, failure handling, realtime events and the change log.
// Scenarios marked "(plugin: <test>)" re-encode tool_dynamic_cohorts PHPUnit tests.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CancelledError, cancelSource } from '../shared/cancel.ts';
import type { SiteDocument } from '../interchange/site-json.ts';
import { CohortEngine } from './engine.ts';
import { applyChanges, changeChunks, logEntries, processRules } from './process.ts';
import { parseRules, type Rule } from './rule.ts';
import { SiteIndex } from './site-index.ts';
import { makeSite, u } from './test-helpers.ts';

const NOW = 1_767_225_600;

function rules(list: Record<string, unknown>[]): Rule[] {
  return parseRules(list.map((r) => ({ enabled: true, operator: 'AND', ...r })));
}
const city = (value: string, operator = 'equals') => ({
  type: 'user_profile',
  field: 'city',
  operator,
  value,
});
const memberOf = (...cohorts: string[]) => ({ type: 'cohort_membership', operator: 'member_of', cohorts });

function baseSite(): SiteDocument {
  return makeSite({
    users: [
      u('1', { city: 'Paris' }),
      u('2', { city: 'Paris' }),
      u('3', { city: 'Leeds' }),
      u('4', { city: 'Rome' }),
    ],
    cohorts: [
      { id: 'paris', name: 'Paris', members: ['3', '4'] },
      { id: 'pp', name: 'Paris and Rome', members: [] },
      { id: 'x', name: 'X', members: ['1'] },
    ],
  });
}

describe('processing', () => {
  it('[COH-P1] adds users who match and removes every member who does not (plugin: cohort_manager_test process_rule)', async () => {
    const site = baseSite();
    const res = await processRules(
      new SiteIndex(site),
      rules([{ id: 'r', cohortId: 'paris', conditions: [city('Paris')] }]),
      { now: NOW },
    );
    expect(res.changes).toMatchObject([
      { cohortId: 'paris', ruleId: 'r', added: ['1', '2'], removed: ['3', '4'], bulk: false },
    ]);
    const after = applyChanges(site, res.changes);
    expect(after.cohorts.find((c) => c.id === 'paris')).toMatchObject({
      members: ['1', '2'],
      component: 'tool_dynamic_cohorts',
    });
    expect(site.cohorts[0]!.members).toEqual(['3', '4']); // the input document is not changed
  });

  it('[COH-P7] every change is logged with rule, cohort, user, action, reason and time', async () => {
    const res = await processRules(
      new SiteIndex(baseSite()),
      rules([{ id: 'r', name: 'Parisians', cohortId: 'paris', conditions: [city('Paris')] }]),
      {
        now: NOW,
        trigger: 'process now',
      },
    );
    expect([...logEntries(res.changes)]).toEqual([
      {
        time: NOW,
        ruleId: 'r',
        cohortId: 'paris',
        userId: '1',
        action: 'added',
        reason: 'process now: now matches rule "Parisians"',
      },
      {
        time: NOW,
        ruleId: 'r',
        cohortId: 'paris',
        userId: '2',
        action: 'added',
        reason: 'process now: now matches rule "Parisians"',
      },
      {
        time: NOW,
        ruleId: 'r',
        cohortId: 'paris',
        userId: '3',
        action: 'removed',
        reason: 'process now: no longer matches rule "Parisians"',
      },
      {
        time: NOW,
        ruleId: 'r',
        cohortId: 'paris',
        userId: '4',
        action: 'removed',
        reason: 'process now: no longer matches rule "Parisians"',
      },
    ]);
  });

  it('[COH-P2] a broken rule, or one whose cohort is gone, is flagged, disabled and leaves its cohort untouched', async () => {
    const site = baseSite();
    const rs = rules([
      {
        id: 'b',
        cohortId: 'paris',
        conditions: [{ type: 'user_enrolment', operator: 'enrolled', courseId: 'gone' }],
      },
      { id: 'g', cohortId: 'nocohort', conditions: [city('Paris')] },
      { id: 'e', cohortId: 'x', conditions: [] },
    ]);
    const res = await processRules(new SiteIndex(site), rs, { now: NOW });
    expect(res.changes).toEqual([]);
    expect(res.broken.map((b) => b.ruleId)).toEqual(['b', 'g', 'e']);
    expect(res.broken[0]!.reason).toMatch(/^\$\.conditions\[0\]\.courseId: course "gone" does not exist/);
    expect(res.broken[2]!.reason).toMatch(/no conditions/); // the plugin would empty cohort x here
    expect(res.rules.every((r) => r.broken && !r.enabled)).toBe(true);
    expect(applyChanges(site, res.changes)).toEqual(site);
  });

  it('[COH-P2] a condition that throws while matching marks the rule broken and does not empty the cohort', async () => {
    const { defaultRegistry } = await import('./registry.ts');
    const registry = defaultRegistry.extend().register({
      type: 'explodes',
      label: 'Explodes',
      events: [],
      parse: () => ({}),
      broken: () => null,
      compile: () => () => {
        throw new Error('database went away');
      },
      describe: () => 'Explodes',
      toJson: () => ({}),
    });
    const rs = parseRules(
      [{ id: 'r', enabled: true, operator: 'OR', cohortId: 'x', conditions: [{ type: 'explodes' }] }],
      { registry },
    );
    const res = await processRules(new SiteIndex(baseSite()), rs, { now: NOW, registry });
    expect(res.changes).toEqual([]);
    expect(res.broken).toEqual([{ ruleId: 'r', reason: 'matching failed: database went away' }]);
  });

  it('[COH-P1] disabled and already-broken rules are skipped', async () => {
    const rs = parseRules([
      { id: 'off', operator: 'AND', cohortId: 'paris', conditions: [city('Paris')] },
      {
        id: 'br',
        enabled: true,
        broken: true,
        brokenReason: 'old',
        operator: 'AND',
        cohortId: 'x',
        conditions: [city('Paris')],
      },
    ]);
    const res = await processRules(new SiteIndex(baseSite()), rs, { now: NOW });
    expect(res.changes).toEqual([]);
    expect(res.skipped.map((s) => s.ruleId)).toEqual(['off', 'br']);
  });

  it("[COH-P3] rules that read other rules' cohorts run after them, in one pass", async () => {
    // Listed dependent-first on purpose: pp reads paris, which its own rule is about to change.
    const rs = rules([
      { id: 'dep', cohortId: 'pp', operator: 'OR', conditions: [memberOf('paris'), city('Rome')] },
      { id: 'base', cohortId: 'paris', conditions: [city('Paris')] },
    ]);
    const res = await processRules(new SiteIndex(baseSite()), rs, { now: NOW });
    expect(res.order).toEqual(['base', 'dep']);
    expect(res.changes.find((c) => c.cohortId === 'pp')!.added).toEqual(['1', '2', '4']);
  });

  it('[COH-P4] dependency cycles are reported, those rules are flagged, and the others still run', async () => {
    const rs = rules([
      { id: 'a', cohortId: 'paris', conditions: [memberOf('pp')] },
      { id: 'b', cohortId: 'pp', conditions: [memberOf('paris')] },
      { id: 'c', cohortId: 'x', conditions: [city('Leeds')] },
    ]);
    const res = await processRules(new SiteIndex(baseSite()), rs, { now: NOW });
    expect(res.cycles).toEqual([['a', 'b', 'a']]);
    expect(res.broken.map((b) => b.ruleId).sort()).toEqual(['a', 'b']);
    expect(res.broken[0]!.reason).toBe('dependency cycle: a -> b -> a');
    expect(res.changes.map((c) => c.cohortId)).toEqual(['x']);
  });

  it('[COH-P9] property: processing twice changes nothing the second time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('Paris', 'Leeds', 'Rome', ''), { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        async (cities, inCohort) => {
          const site = makeSite({
            users: cities.map((c, i) => u(String(i), { city: c, deleted: i % 5 === 4 ? 1 : 0 })),
            cohorts: [
              { id: 'a', members: cities.map((_, i) => String(i)).filter((_, i) => inCohort[i]) },
              { id: 'b', members: [] },
            ],
          });
          const rs = rules([
            { id: 'ra', cohortId: 'a', operator: 'OR', conditions: [city('Paris'), city('Rome')] },
            { id: 'rb', cohortId: 'b', conditions: [memberOf('a'), city('Rome', 'not_equals')] },
          ]);
          const first = await processRules(new SiteIndex(site), rs, { now: NOW });
          const once = applyChanges(site, first.changes);
          const second = await processRules(new SiteIndex(once), rs, { now: NOW });
          expect(second.changes.every((c) => c.added.length === 0 && c.removed.length === 0)).toBe(true);
          expect([...logEntries(second.changes)]).toEqual([]);
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it('[COH-P8] big changes run in chunks that yield, report progress, and a cancel leaves membership untouched', async () => {
    const n = 12_000;
    const site = makeSite({
      users: Array.from({ length: n }, (_, i) => u(String(i), { city: i % 2 ? 'Paris' : 'Leeds' })),
      cohorts: [{ id: 'paris', members: [] }],
    });
    const index = new SiteIndex(site);
    const rs = rules([{ id: 'r', cohortId: 'paris', conditions: [city('Paris')] }]);
    const progress: number[] = [];
    let yields = 0;
    const res = await processRules(index, rs, {
      now: NOW,
      chunkSize: 1000,
      onProgress: (done) => progress.push(done),
      yieldControl: async () => {
        yields++;
      },
    });
    expect(res.changes[0]!.added).toHaveLength(n / 2);
    expect(yields).toBeGreaterThanOrEqual(n / 1000);
    expect(progress.at(-1)).toBe(n);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    const src = cancelSource();
    let k = 0;
    await expect(
      processRules(index, rs, {
        now: NOW,
        chunkSize: 1000,
        cancel: src.token,
        yieldControl: async () => {
          if (++k === 3) src.cancel();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(index.cohortMembers.get('paris')!.size).toBe(0);
  });

  it('[COH-P6] bulk rules are marked for chunked writing; chunks cover the change exactly', async () => {
    const res = await processRules(
      new SiteIndex(baseSite()),
      rules([{ id: 'r', bulk: true, cohortId: 'paris', conditions: [city('Paris')] }]),
      { now: NOW },
    );
    const ch = res.changes[0]!;
    expect(ch.bulk).toBe(true);
    const parts = [...changeChunks(ch, 1)];
    expect(parts.flatMap((p) => p.removed)).toEqual(ch.removed);
    expect(parts.flatMap((p) => p.added)).toEqual(ch.added);
    expect(parts.every((p) => p.added.length + p.removed.length === 1)).toBe(true);
  });
});

describe('realtime', () => {
  function engine(settings = { realtime: true }, extra: Record<string, unknown>[] = []) {
    const site = makeSite({
      users: [u('1', { city: 'Paris' }), u('2', { city: 'Leeds' })],
      courses: [{ id: 'c1', fullname: 'C1' }],
      cohorts: [
        { id: 'paris', members: ['1'] },
        { id: 'chain', members: [] },
        { id: 'enrolled', members: [] },
      ],
    });
    return new CohortEngine(
      site,
      rules([
        { id: 'r-paris', cohortId: 'paris', conditions: [city('Paris')] },
        { id: 'r-chain', cohortId: 'chain', conditions: [memberOf('paris')] },
        {
          id: 'r-enrol',
          cohortId: 'enrolled',
          conditions: [{ type: 'user_enrolment', operator: 'enrolled', courseId: 'c1' }],
        },
        ...extra,
      ]),
      settings,
    );
  }

  it('[COH-P5] a user update re-checks only that user, and dependent rules follow through membership events (plugin: observer_test)', () => {
    const e = engine();
    const res = e.handleEvent({ type: 'user_updated', user: { ...e.index.users[1]!, city: 'Paris' } }, NOW);
    expect(res.changes.map((c) => [c.ruleId, c.userId, c.action])).toEqual([
      ['r-paris', '2', 'added'],
      ['r-chain', '2', 'added'],
    ]);
    expect(res.changes[0]!.reason).toBe('realtime (user_updated): now matches rule "r-paris"');
    // User 1 already matches r-chain's condition but was never processed: only the event's user changes.
    expect([...e.index.cohortMembers.get('chain')!]).toEqual([1]);
  });

  it('[COH-P5] enrolment events reach enrolment rules; deleting a user removes them from every managed cohort', () => {
    const e = engine();
    const r1 = e.handleEvent(
      {
        type: 'user_enrolment_created',
        enrolment: { userId: '1', courseId: 'c1', method: 'manual', active: 1, instanceEnabled: 1 },
      },
      NOW,
    );
    // The membership event of that change also re-checks user 1 for r-chain (user 1 is in "paris"),
    // as the plugin's observer does for any cohort-member event.
    expect(r1.changes.map((c) => [c.cohortId, c.action])).toEqual([
      ['enrolled', 'added'],
      ['chain', 'added'],
    ]);
    const r2 = e.handleEvent({ type: 'user_deleted', userId: '1' }, NOW);
    expect(r2.changes.map((c) => [c.cohortId, c.action]).sort()).toEqual([
      ['chain', 'removed'],
      ['enrolled', 'removed'],
      ['paris', 'removed'],
    ]);
  });

  it("[COH-P6] the global switch off, or a rule's own switch off, stops realtime changes (the data still updates)", () => {
    const off = engine({ realtime: false });
    expect(
      off.handleEvent({ type: 'user_updated', user: { ...off.index.users[1]!, city: 'Paris' } }, NOW).changes,
    ).toEqual([]);
    expect(off.index.users[1]!.city).toBe('Paris');
    const e = engine();
    e.setRules(e.rules.map((r) => (r.id === 'r-paris' ? { ...r, realtime: false } : r)));
    expect(
      e.handleEvent({ type: 'user_updated', user: { ...e.index.users[1]!, city: 'Paris' } }, NOW).changes,
    ).toEqual([]);
  });

  it('[COH-P5] processing through the engine then realtime agree with a fresh full processing', async () => {
    const e = engine();
    await e.process({ now: NOW });
    e.handleEvent({ type: 'user_updated', user: { ...e.index.users[0]!, city: 'Leeds' } }, NOW);
    const again = await e.process({ now: NOW });
    expect(again.changes.every((c) => c.added.length === 0 && c.removed.length === 0)).toBe(true);
  });
});

describe('realtime scenarios re-encoded from the plugin observer_test', () => {
  // One rule "username starts with user" on an empty cohort; users arrive or change one at a time.
  function observed(realtime: boolean, ruleRealtime: boolean, users: Record<string, unknown>[] = []) {
    const site = makeSite({ users, cohorts: [{ id: 'k', members: [] }] });
    const rs = rules([
      {
        id: 'r',
        realtime: ruleRealtime,
        cohortId: 'k',
        conditions: [{ type: 'user_profile', field: 'username', operator: 'starts_with', value: 'user' }],
      },
    ]);
    return new CohortEngine(site, rs, { realtime });
  }
  const newUser = (id: string, username: string) => makeSite({ users: [u(id, { username })] }).users[0]!;

  it('[COH-P5] creating users triggers processing for each of them (plugin: test_user_creation_triggers_rule_processing)', () => {
    const e = observed(true, true);
    e.handleEvent({ type: 'user_created', user: newUser('1', 'user1') }, NOW);
    e.handleEvent({ type: 'user_created', user: newUser('2', 'user2') }, NOW);
    expect(e.index.cohortMembers.get('k')!.size).toBe(2);
  });

  it('[COH-P5] updating a user processes only that user (plugin: test_user_updating_triggers_rule_processing)', () => {
    const e = observed(true, true, [u('1', { username: 'user1' }), u('2', { username: 'user2' })]);
    expect(e.index.cohortMembers.get('k')!.size).toBe(0);
    e.handleEvent({ type: 'user_updated', user: e.index.users[0]! }, NOW);
    expect(e.index.cohortMembers.get('k')!.size).toBe(1);
    e.handleEvent({ type: 'user_updated', user: e.index.users[1]! }, NOW);
    expect(e.index.cohortMembers.get('k')!.size).toBe(2);
  });

  it('[COH-P6] nothing happens when realtime is off globally (plugin: test_realtime_rule_processing_when_disabled_globally)', () => {
    const e = observed(false, true);
    e.handleEvent({ type: 'user_created', user: newUser('1', 'user1') }, NOW);
    expect(e.index.cohortMembers.get('k')!.size).toBe(0);
  });

  it('[COH-P6] nothing happens when realtime is off for the rule (plugin: test_realtime_rule_processing_when_disabled_for_a_rule)', () => {
    const e = observed(true, false);
    e.handleEvent({ type: 'user_created', user: newUser('1', 'user1') }, NOW);
    expect(e.index.cohortMembers.get('k')!.size).toBe(0);
  });

  it('[COH-P1] "process now" on one rule processes only that rule', async () => {
    const rs = rules([
      { id: 'a', cohortId: 'paris', conditions: [city('Paris')] },
      { id: 'b', cohortId: 'x', conditions: [city('Leeds')] },
    ]);
    const res = await processRules(new SiteIndex(baseSite()), rs, { now: NOW, only: ['b'] });
    expect(res.order).toEqual(['b']);
    expect(res.changes.map((c) => [c.cohortId, c.added, c.removed])).toEqual([['x', ['3'], ['1']]]);
  });
});

describe('realtime agrees with full processing', () => {
  it('[COH-P5] property: after any sequence of events handled in realtime, a full processing changes nothing', async () => {
    const ids = ['1', '2', '3', '4', '5'];
    const event = fc.oneof(
      fc.record({
        kind: fc.constant('city' as const),
        user: fc.constantFrom(...ids),
        city: fc.constantFrom('Paris', 'Leeds'),
      }),
      fc.record({ kind: fc.constant('deleted' as const), user: fc.constantFrom(...ids) }),
      fc.record({
        kind: fc.constant('enrol' as const),
        user: fc.constantFrom(...ids),
        active: fc.boolean(),
        method: fc.constantFrom('manual', 'self'),
      }),
      fc.record({ kind: fc.constant('unenrol' as const), user: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('role' as const), user: fc.constantFrom(...ids), on: fc.boolean() }),
      fc.record({
        kind: fc.constant('new' as const),
        n: fc.integer({ min: 6, max: 9 }),
        city: fc.constantFrom('Paris', 'Leeds'),
      }),
      fc.record({
        kind: fc.constant('login' as const),
        user: fc.constantFrom(...ids),
        daysAgo: fc.integer({ min: 0, max: 20 }),
      }),
      fc.record({
        kind: fc.constant('complete' as const),
        user: fc.constantFrom(...ids),
        done: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('grade' as const),
        user: fc.constantFrom(...ids),
        grade: fc.integer({ min: 0, max: 10 }),
      }),
      fc.record({ kind: fc.constant('tags' as const), user: fc.constantFrom(...ids), chess: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 25 }), async (events) => {
        const site = makeSite({
          users: ids.map((id, i) => u(id, { city: i % 2 ? 'Paris' : 'Leeds' })),
          courses: [{ id: 'c1', fullname: 'C1', enableCompletion: 1 }],
          quizzes: [{ id: 'q', courseId: 'c1', grade: 10 }],
          cohorts: [
            { id: 'paris' },
            { id: 'students' },
            { id: 'both' },
            { id: 'neither' },
            { id: 'active' },
            { id: 'done' },
            { id: 'good' },
            { id: 'chess' },
          ],
        });
        const e = new CohortEngine(
          site,
          rules([
            { id: 'p', cohortId: 'paris', conditions: [city('Paris')] },
            {
              id: 's',
              cohortId: 'students',
              conditions: [{ type: 'user_enrolment', operator: 'enrolled', courseId: 'c1', role: 'student' }],
            },
            { id: 'b', cohortId: 'both', conditions: [memberOf('paris'), memberOf('students')] },
            {
              id: 'n',
              cohortId: 'neither',
              operator: 'AND',
              not: true,
              conditions: [
                { type: 'group', operator: 'OR', conditions: [memberOf('paris'), memberOf('both')] },
              ],
            },
            {
              id: 'a',
              cohortId: 'active',
              conditions: [
                { type: 'user_last_login', operator: 'in_last', period: { value: 7, unit: 'days' } },
              ],
            },
            { id: 'd', cohortId: 'done', conditions: [{ type: 'course_not_completed', courseId: 'c1' }] },
            {
              id: 'g',
              cohortId: 'good',
              conditions: [{ type: 'quiz_result', quizId: 'q', minGrade: 5, maxGrade: 10 }],
            },
            {
              id: 'c',
              cohortId: 'chess',
              conditions: [{ type: 'user_profile_interests', operator: 'contains', tags: ['chess'] }],
            },
          ]),
        );
        await e.process({ now: NOW });
        for (const ev of events) {
          const user = (id: string) => e.index.users[e.index.userPos.get(id)!]!;
          if (ev.kind === 'city')
            e.handleEvent({ type: 'user_updated', user: { ...user(ev.user), city: ev.city } }, NOW);
          else if (ev.kind === 'deleted') e.handleEvent({ type: 'user_deleted', userId: ev.user }, NOW);
          else if (ev.kind === 'enrol')
            e.handleEvent(
              {
                type: 'user_enrolment_created',
                enrolment: {
                  userId: ev.user,
                  courseId: 'c1',
                  method: ev.method,
                  active: ev.active ? 1 : 0,
                  instanceEnabled: 1,
                },
              },
              NOW,
            );
          else if (ev.kind === 'unenrol')
            e.handleEvent(
              { type: 'user_enrolment_deleted', userId: ev.user, courseId: 'c1', method: null },
              NOW,
            );
          else if (ev.kind === 'role') {
            const assignment = {
              userId: ev.user,
              role: 'student',
              contextLevel: 'course' as const,
              contextId: 'c1',
            };
            e.handleEvent({ type: ev.on ? 'role_assigned' : 'role_unassigned', assignment }, NOW);
          } else if (ev.kind === 'login')
            e.handleEvent({ type: 'user_loggedin', userId: ev.user, time: NOW - ev.daysAgo * 86_400 }, NOW);
          else if (ev.kind === 'complete')
            e.handleEvent(
              {
                type: 'course_completed',
                completion: { userId: ev.user, courseId: 'c1', timecompleted: ev.done ? NOW - 5 : null },
              },
              NOW,
            );
          else if (ev.kind === 'grade')
            e.handleEvent(
              { type: 'quiz_graded', grade: { quizId: 'q', userId: ev.user, grade: ev.grade } },
              NOW,
            );
          else if (ev.kind === 'tags')
            e.handleEvent(
              { type: 'user_updated', user: { ...user(ev.user), interests: ev.chess ? ['Chess'] : ['go'] } },
              NOW,
            );
          else if (!e.index.userPos.has(String(ev.n)))
            e.handleEvent(
              {
                type: 'user_created',
                user: makeSite({ users: [u(String(ev.n), { city: ev.city })] }).users[0]!,
              },
              NOW,
            );
        }
        const full = await processRules(e.index, e.rules, { now: NOW });
        expect(full.changes.filter((c) => c.added.length || c.removed.length)).toEqual([]);
      }),
      { numRuns: 150, seed: 2026 },
    );
  });

  it('[COH-P5] regression (property counterexample): a new user is checked against every rule, even "not member of" rules', () => {
    const site = makeSite({
      users: [u('1', { city: 'Paris' })],
      cohorts: [{ id: 'paris', members: ['1'] }, { id: 'neither' }],
    });
    const e = new CohortEngine(
      site,
      rules([
        { id: 'p', cohortId: 'paris', conditions: [city('Paris')] },
        {
          id: 'n',
          cohortId: 'neither',
          conditions: [{ type: 'cohort_membership', operator: 'not_member_of', cohorts: ['paris'] }],
        },
      ]),
    );
    const res = e.handleEvent(
      { type: 'user_created', user: makeSite({ users: [u('6', { city: 'Leeds' })] }).users[0]! },
      NOW,
    );
    expect(res.changes.map((c) => [c.cohortId, c.userId, c.action])).toEqual([['neither', '6', 'added']]);
  });
});

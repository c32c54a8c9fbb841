// Dynamic cohorts at 100,000 users: validation, indexing, each condition type, a five-condition rule,
// realtime re-checks, and processing a 50,000-member change in yielding chunks (longest chunk).
import { seededRng, type Rng } from '../../src/lib/domain/shared/clock.ts';
import { parseSiteJson, type SiteDocument } from '../../src/lib/domain/interchange/site-json.ts';
import { SiteIndex } from '../../src/lib/domain/cohorts/site-index.ts';
import { matchingPositions } from '../../src/lib/domain/cohorts/evaluate.ts';
import { parseRule, parseRules } from '../../src/lib/domain/cohorts/rule.ts';
import { CohortEngine } from '../../src/lib/domain/cohorts/engine.ts';
import { processRules } from '../../src/lib/domain/cohorts/process.ts';
import { cancelSource } from '../../src/lib/domain/shared/cancel.ts';
import { fmt, heapMB, percentile, report, timeRuns } from './util.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Room, type RoomPeer } from '../../sync-server/room.ts';
import { Store } from '../../sync-server/store.ts';
import { siteRoomAccess, startCohortJob } from '../../sync-server/cohort-job.ts';
import { startCohortRealtime, type RealtimeBatchSummary } from '../../sync-server/cohort-realtime.ts';
import { siteCollection, siteJsonToDoc } from '../../src/lib/crdt/site-doc.ts';
import { ruleToJson } from '../../src/lib/domain/cohorts/rule.ts';

const N = 100_000;
const NOW = 1_767_225_600;
const DAY = 86_400;
const COURSES = 60;
const CATEGORIES = 12;

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[Math.floor(rng.next() * list.length)]!;
}

/** A plausible large site: ~3 enrolments, roles and completions per user, 20 cohorts. */
export function syntheticSite(n: number, seed = 42): Record<string, unknown[]> {
  const rng = seededRng(seed);
  const cities = ['Paris', 'Leeds', 'Rome', 'Berlin', 'Lagos', 'Lima', 'Osaka', 'Perth', 'Quito', 'Oslo'];
  const depts = ['Physics', 'History', 'Maths', 'Biology', 'Art', ''];
  const tags = ['chess', 'music', 'rowing', 'drama', 'coding', 'film'];
  const categories = Array.from({ length: CATEGORIES }, (_, i) => ({
    id: `cat${i}`,
    name: `Category ${i}`,
    parentId: i < 3 ? null : `cat${i % 3}`,
  }));
  const courses = Array.from({ length: COURSES }, (_, i) => ({
    id: `c${i}`,
    fullname: `Course ${i}`,
    categoryId: `cat${i % CATEGORIES}`,
    enableCompletion: 1,
  }));
  const users: Record<string, unknown>[] = [];
  const enrolments: Record<string, unknown>[] = [];
  const roles: Record<string, unknown>[] = [];
  const completions: Record<string, unknown>[] = [];
  const quizGrades: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const id = `u${i}`;
    const access = rng.next() < 0.1 ? 0 : NOW - Math.floor(rng.next() * 400 * DAY);
    users.push({
      id,
      username: `user${i}`,
      firstname: `First${i % 977}`,
      lastname: `Last${i % 1013}`,
      email: `user${i}@example.edu`,
      auth: rng.next() < 0.8 ? 'manual' : 'oauth2',
      city: pick(rng, cities),
      country: 'GB',
      department: pick(rng, depts),
      idnumber: rng.next() < 0.5 ? `S${i}` : '',
      timecreated: NOW - Math.floor(rng.next() * 900 * DAY),
      lastlogin: access,
      lastaccess: access,
      suspended: rng.next() < 0.03 ? 1 : 0,
      deleted: rng.next() < 0.02 ? 1 : 0,
      profile:
        rng.next() < 0.7
          ? { house: pick(rng, ['Red', 'Blue', 'Green']), start: NOW - Math.floor(rng.next() * 100 * DAY) }
          : {},
      interests: rng.next() < 0.5 ? [pick(rng, tags), pick(rng, tags)] : [],
    });
    for (let k = 0; k < 3; k++) {
      const courseId = `c${Math.floor(rng.next() * COURSES)}`;
      if (
        enrolments.length &&
        enrolments.at(-1)!['courseId'] === courseId &&
        enrolments.at(-1)!['userId'] === id
      )
        continue;
      enrolments.push({
        userId: id,
        courseId,
        method: rng.next() < 0.7 ? 'manual' : 'self',
        active: rng.next() < 0.95 ? 1 : 0,
        instanceEnabled: 1,
      });
      roles.push({
        userId: id,
        role: rng.next() < 0.95 ? 'student' : 'teacher',
        contextLevel: 'course',
        contextId: courseId,
      });
      if (rng.next() < 0.4)
        completions.push({ userId: id, courseId, timecompleted: NOW - Math.floor(rng.next() * 300 * DAY) });
    }
    if (rng.next() < 0.5)
      quizGrades.push({ quizId: 'q1', userId: id, grade: Math.round(rng.next() * 100) / 10 });
  }
  const cohorts = Array.from({ length: 20 }, (_, i) => ({
    id: `co${i}`,
    name: `Cohort ${i}`,
    idnumber: `CO${i}`,
    contextid: i % 2 ? 'system' : `cat${i % CATEGORIES}`,
    visible: 1,
    component: '',
    customFields: i % 3 ? { year: String(2020 + (i % 6)) } : {},
    members: users.filter((_, k) => k % (i + 7) === 0).map((x) => x['id'] as string),
  }));
  return {
    users,
    profileFields: [
      { shortname: 'house', datatype: 'menu', param1: 'Red\nBlue\nGreen' },
      { shortname: 'start', datatype: 'datetime', param1: '' },
    ],
    categories,
    courses,
    enrolments,
    completions,
    roles: [...roles, { userId: 'u1', role: 'manager', contextLevel: 'system', contextId: null }],
    cohorts,
    cohortCustomFields: [{ shortname: 'year', datatype: 'text', param1: '' }],
    quizzes: [{ id: 'q1', courseId: 'c0', grade: 10 }],
    quizGrades,
  };
}

const ONE_OF_EACH: Record<string, unknown>[] = [
  { type: 'user_profile', field: 'city', operator: 'contains', value: 'ar' },
  { type: 'auth_method', operator: 'equals', value: 'oauth2' },
  {
    type: 'user_custom_profile',
    field: 'house',
    operator: 'not_equals',
    value: 'Red',
    includeMissingData: true,
  },
  { type: 'cohort_membership', operator: 'not_member_of', cohorts: ['co1', 'co2', 'co3'] },
  { type: 'cohort_field', membership: 'member_of', field: 'custom:year', operator: 'equals', value: '2021' },
  { type: 'user_last_login', operator: 'in_last', period: { value: 3, unit: 'months' } },
  { type: 'user_created', operator: 'before', time: NOW - 365 * DAY },
  { type: 'user_enrolment', operator: 'enrolled', courseId: 'c3', role: 'student', method: 'manual' },
  {
    type: 'user_role',
    operator: 'has_role',
    role: 'teacher',
    contextLevel: 'category',
    categoryId: 'cat1',
    includeChildren: true,
  },
  { type: 'course_completed', operator: 'after', courseId: 'c5', time: NOW - 100 * DAY },
  { type: 'course_not_completed', courseId: 'c7' },
  { type: 'user_profile_interests', operator: 'contains', tags: ['chess', 'film'] },
  {
    type: 'course_completion',
    courseIds: ['c1', 'c2', 'c3'],
    completion: 'completed',
    selection: 'any',
    period: 'any',
  },
  { type: 'quiz_result', quizId: 'q1', minGrade: 5, maxGrade: 8 },
];

export async function run(): Promise<void> {
  const heap0 = heapMB();
  let t0 = performance.now();
  const raw = syntheticSite(N);
  console.log(
    `generated ${N} users, ${raw['enrolments']!.length} enrolments, ${raw['roles']!.length} role assignments, ${raw['completions']!.length} completions in ${fmt(performance.now() - t0)}`,
  );

  t0 = performance.now();
  const site: SiteDocument = parseSiteJson(raw);
  report('validate site JSON (100k users)', performance.now() - t0);
  t0 = performance.now();
  const index = new SiteIndex(site);
  report('build site index (once per snapshot)', performance.now() - t0);
  console.log(`heap after index: ${(heapMB() - heap0).toFixed(0)} MB above start`);

  console.log('\n-- one condition over 100,000 users (median of 5) --');
  for (const c of ONE_OF_EACH) {
    const rule = parseRule({ operator: 'AND', cohortId: null, conditions: [c] });
    let count = 0;
    const runs = await timeRuns(5, () => {
      count = matchingPositions(index, rule, { now: NOW }).length;
    });
    report(`${String(c['type'])} (${count} match)`, percentile(runs, 50), 100);
  }

  const five = parseRule({
    operator: 'AND',
    cohortId: null,
    conditions: [
      ONE_OF_EACH[0],
      ONE_OF_EACH[5],
      ONE_OF_EACH[7],
      { type: 'group', operator: 'OR', conditions: [ONE_OF_EACH[11], ONE_OF_EACH[2]] },
      ONE_OF_EACH[3],
    ],
  });
  let fiveCount = 0;
  const fiveRuns = await timeRuns(5, () => {
    fiveCount = matchingPositions(index, five, { now: NOW }).length;
  });
  report(`five-condition rule (${fiveCount} match), median`, percentile(fiveRuns, 50), 100);
  const orFive = parseRule({
    operator: 'OR',
    cohortId: null,
    conditions: [ONE_OF_EACH[0], ONE_OF_EACH[5], ONE_OF_EACH[7], ONE_OF_EACH[11], ONE_OF_EACH[3]],
  });
  const orRuns = await timeRuns(5, () => matchingPositions(index, orFive, { now: NOW }));
  report('five-condition OR rule, median', percentile(orRuns, 50), 100);

  console.log('\n-- realtime: one event, every listening rule re-checked for that user --');
  const rules = parseRules(
    ONE_OF_EACH.map((c, i) => ({
      id: `r${i}`,
      enabled: true,
      operator: 'AND',
      cohortId: `co${i + 4}`,
      conditions: [c],
    })).filter((r) => !JSON.stringify(r.conditions).includes(`"co${r.cohortId.slice(2)}"`)),
  );
  const engine = new CohortEngine(new SiteIndex(site), rules);
  const times: number[] = [];
  const rng = seededRng(7);
  // The first 1,000 events warm the JIT and let the young generation settle after the index build;
  // the next 3,000 are measured.
  for (let i = 0; i < 4000; i++) {
    const p = Math.floor(rng.next() * N);
    const user = engine.index.users[p]!;
    const event =
      i % 3 === 0
        ? ({ type: 'user_updated', user: { ...user, city: pick(rng, ['Paris', 'Rome', 'Oslo']) } } as const)
        : i % 3 === 1
          ? ({
              type: 'user_enrolment_created',
              enrolment: { userId: user.id, courseId: 'c3', method: 'manual', active: 1, instanceEnabled: 1 },
            } as const)
          : ({
              type: 'role_assigned',
              assignment: { userId: user.id, role: 'teacher', contextLevel: 'course', contextId: 'c4' },
            } as const);
    const s = performance.now();
    engine.handleEvent(event, NOW);
    if (i >= 1000) times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  report(`realtime event re-check p50 (${rules.length} rules)`, percentile(times, 50), 1);
  report('realtime event re-check p99', percentile(times, 99), 1);
  report('realtime event re-check max (includes GC pauses)', times.at(-1)!, 1);

  console.log('\n-- processing a 50,000-member change in chunks (yield between chunks) --');
  // Half the users match; the cohort starts with the other half, so 50,000 changes (plus/minus).
  const change = parseRules([
    {
      id: 'big',
      enabled: true,
      operator: 'AND',
      cohortId: 'big',
      conditions: [{ type: 'user_profile', field: 'idnumber', operator: 'is_not_empty', value: '' }],
    },
  ]);
  const bigSite: SiteDocument = {
    ...site,
    cohorts: [
      ...site.cohorts,
      {
        id: 'big',
        name: 'Big',
        idnumber: '',
        contextid: 'system',
        visible: 1,
        component: '',
        theme: '',
        customFields: {},
        members: [],
      },
    ],
  };
  const bigIndex = new SiteIndex(bigSite);
  for (const chunkSize of [5000, 10_000]) {
    let longest = 0;
    let last = performance.now();
    let chunks = 0;
    t0 = performance.now();
    const res = await processRules(bigIndex, change, {
      now: NOW,
      chunkSize,
      yieldControl: async () => {
        const t = performance.now();
        longest = Math.max(longest, t - last);
        chunks++;
        await new Promise((r) => setImmediate(r));
        last = performance.now();
      },
    });
    longest = Math.max(longest, performance.now() - last);
    const total = performance.now() - t0;
    const ch = res.changes[0]!;
    report(`chunk ${chunkSize}: total for ${ch.added.length + ch.removed.length} changes`, total);
    report(`chunk ${chunkSize}: longest single chunk (${chunks} chunks)`, longest, 16);
  }
  const src = cancelSource();
  let k = 0;
  t0 = performance.now();
  try {
    await processRules(bigIndex, change, {
      now: NOW,
      chunkSize: 5000,
      cancel: src.token,
      yieldControl: async () => {
        if (++k === 5) src.cancel();
      },
    });
  } catch (e) {
    report(
      `cancel after 5 chunks -> ${(e as Error).name}, members untouched: ${bigIndex.cohortMembers.get('big')!.size === 0}`,
      performance.now() - t0,
    );
  }

  await serverRealtime();
}

/**
 * The sync server's realtime path end to end (SRV-COH-RT1): a client's edit of one user in a site room over the real
 * store -> events -> engine -> one durable update with the membership and its log row. Each batch re-reads the site
 * and copies the document (O(site)), so the figure is per site size; the 25 ms batching window is included.
 */
export async function serverRealtime(): Promise<void> {
  const USERS = 10_000;
  console.log(
    `\n-- server realtime: client edit -> membership written (site room, ${USERS} users, fsynced store) --`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'mb-bench-rt-'));
  const store = await Store.open(dir);
  const room = new Room('site', store, { compactEvery: 500 }, 0);
  await room.ready;
  const seed = new Y.Doc();
  const rule = parseRule({
    operator: 'AND',
    cohortId: 'co3',
    conditions: [{ type: 'user_profile', field: 'city', operator: 'equals', value: 'Bench' }],
  });
  siteJsonToDoc(
    syntheticSite(USERS),
    seed,
    { userId: 'bench', deviceId: 'seed' },
    {
      rules: [{ ...ruleToJson({ ...rule, id: 'rt', enabled: true }), id: 'rt' }],
    },
  );
  await room.submit(Y.encodeStateAsUpdate(seed), 'server');
  const access = siteRoomAccess(async () => room);
  const job = startCohortJob({ site: access, intervalMs: 0 });
  await job.runNow(); // start consistent: the cohort holds exactly the rule's members
  const seen: RealtimeBatchSummary[] = [];
  const rt = startCohortRealtime({ site: access, job, onBatch: (b) => seen.push(b) });
  rt.watch(room.doc);
  const peer: RoomPeer = { id: 1, canRead: true, send: () => {}, awarenessIds: new Set() };
  const EDITS = 24;
  // The client: a copy of the site taken once, sending one user's edit per update.
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(room.doc));
  const users = siteCollection(client, 'users');
  for (let i = 0; i < EDITS; i++) {
    const id = `u${(i >> 1) * 7}`;
    const sv = Y.encodeStateVector(client);
    users.set(id, { ...users.get(id)!, city: i % 2 ? 'Paris' : 'Bench' });
    await room.submit(Y.encodeStateAsUpdate(client, sv), peer);
    await rt.idle();
  }
  const ms = seen
    .slice(4) // warm-up
    .filter((b) => b.mode === 'realtime')
    .map((b) => b.latencyMs)
    .sort((a, b) => a - b);
  console.log(`${ms.length} of ${EDITS - 4} measured edits changed a membership`);
  report('server realtime p50 (incl. 25 ms batching window)', percentile(ms, 50), 250);
  report('server realtime p99', percentile(ms, 99), 500);
  await rt.stop();
  await job.stop();
  await room.flushed();
  room.destroy();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

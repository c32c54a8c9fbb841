// Realtime dynamic-cohort processing on the sync server: an admin client's edits to the site room change the
// memberships of realtime rules at once. Starts only real servers (and a real Room over the LevelDB store) on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Room, type RoomPeer } from '../../sync-server/room.ts';
import { Store } from '../../sync-server/store.ts';
import { siteRoomAccess, startCohortJob } from '../../sync-server/cohort-job.ts';
import {
  COHORT_SETTINGS_ID,
  REALTIME_DEBOUNCE_MS,
  SETTINGS_COLLECTION,
  startCohortRealtime,
  type RealtimeBatchSummary,
} from '../../sync-server/cohort-realtime.ts';
import { cohortMembers, siteCollection, siteJsonToDoc, type SiteRow } from '../../src/lib/crdt/site-doc.ts';
import { parseRules, ruleToJson } from '../../src/lib/domain/cohorts/index.ts';
import { LOG_COLLECTION, readSiteState } from '../../src/lib/workers/cohort-writes.ts';
import { percentile } from '../bench/util.ts';
import {
  login,
  post,
  removeDir,
  startTestServer,
  tempDir,
  until,
  yClient,
  type TestServer,
} from './server-harness.ts';

const actor = { userId: 'admin', deviceId: 'test' };
const USERS = 8;

/** A small site: users p1..p8 in no department; three rule cohorts. */
function siteJson(): Record<string, unknown> {
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: `p${i + 1}`,
    username: `person${i + 1}`,
    firstname: 'P',
    lastname: String(i + 1),
    email: `p${i + 1}@example.org`,
    department: 'Maths',
    timecreated: 1_700_000_000,
  }));
  const cohort = (id: string) => ({ id, name: id, idnumber: id, members: [] });
  return {
    users,
    courses: [{ id: 'k1', fullname: 'Course K1' }],
    cohorts: [cohort('co-rt'), cohort('co-off'), cohort('co-dep'), cohort('co-enr'), cohort('co-login')],
  };
}

/** rule-rt (realtime) and rule-off (realtime off) select department "Realtime"; rule-dep follows co-rt's members. */
function rulesJson(): SiteRow[] {
  const dept = [{ type: 'user_profile', field: 'department', operator: 'equals', value: 'Realtime' }];
  return parseRules([
    { id: 'rule-rt', name: 'RT', operator: 'AND', cohortId: 'co-rt', conditions: dept, enabled: true },
    {
      id: 'rule-off',
      operator: 'AND',
      cohortId: 'co-off',
      conditions: dept,
      enabled: true,
      realtime: false,
    },
    {
      id: 'rule-dep',
      operator: 'AND',
      cohortId: 'co-dep',
      conditions: [{ type: 'cohort_membership', operator: 'member_of', cohorts: ['co-rt'] }],
      enabled: true,
    },
    {
      id: 'rule-enr',
      operator: 'AND',
      cohortId: 'co-enr',
      conditions: [
        { type: 'user_enrolment', operator: 'enrolled', courseId: 'k1', role: null, method: null },
      ],
      enabled: true,
    },
    {
      id: 'rule-login',
      operator: 'AND',
      cohortId: 'co-login',
      conditions: [{ type: 'user_last_login', operator: 'ever' }],
      enabled: true,
    },
  ]).map((r) => ruleToJson(r) as SiteRow);
}

function setDept(doc: Y.Doc, userId: string, department: string): void {
  const users = siteCollection(doc, 'users');
  doc.transact(() => users.set(userId, { ...users.get(userId)!, department }), actor);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('realtime cohorts through a running sync server', () => {
  async function start(over: Parameters<typeof startTestServer>[0] = {}) {
    const logged: Record<string, unknown>[] = [];
    const server: TestServer = await startTestServer({
      cohortJobIntervalMs: 0,
      log: (e) => logged.push(e as Record<string, unknown>),
      ...over,
    });
    cleanups.push(() => removeDir(server.dataDir));
    cleanups.push(() => server.close());
    const admin = await login(server.http, 'admin');
    const client = yClient(server.url, 'site', admin.accessToken);
    cleanups.push(() => client.destroy());
    await client.synced;
    siteJsonToDoc(siteJson(), client.doc, actor, { rules: rulesJson() });
    // the load creates users that match no rule: nothing is written, but the batch is seen in the log
    await until(() => batches(logged).length > 0, 'the load to be processed');
    return { server, client, logged, token: admin.accessToken };
  }
  const batches = (logged: Record<string, unknown>[]) => logged.filter((e) => e['msg'] === 'cohort realtime');

  it('[SRV-COH-RT1][COH-P5] a profile edit puts the user in the realtime rule and its dependant at once, logged with the reason; a realtime-off rule waits for the job', async () => {
    const { server, client, logged, token } = await start();
    expect(cohortMembers(client.doc, 'co-rt')).toEqual([]);
    setDept(client.doc, 'p3', 'Realtime');
    await until(() => cohortMembers(client.doc, 'co-dep').length > 0, 'the cascade to reach co-dep');
    expect(cohortMembers(client.doc, 'co-rt')).toEqual(['p3']);
    expect(cohortMembers(client.doc, 'co-dep')).toEqual(['p3']);
    // written in the same update as co-rt's change: realtime-off rule-off was not touched
    expect(cohortMembers(client.doc, 'co-off')).toEqual([]);
    const log = readSiteState(client.doc).log;
    expect(log.map((l) => [l.ruleId, l.cohortId, l.userId, l.action]).sort()).toEqual([
      ['rule-dep', 'co-dep', 'p3', 'added'],
      ['rule-rt', 'co-rt', 'p3', 'added'],
    ]);
    expect(log.find((l) => l.ruleId === 'rule-rt')!.reason).toMatch(/realtime \(user_updated\)/);
    expect(log.every((l) => typeof l.time === 'number' && l.time > 0)).toBe(true);
    expect(siteCollection(client.doc, 'cohorts').get('co-rt')!['component']).toBe('tool_dynamic_cohorts');

    // editing the user back removes them from both
    setDept(client.doc, 'p3', 'Maths');
    await until(() => cohortMembers(client.doc, 'co-dep').length === 0, 'the removal cascade');
    expect(cohortMembers(client.doc, 'co-rt')).toEqual([]);

    // the job processes the realtime-off rule
    setDept(client.doc, 'p4', 'Realtime');
    await until(() => cohortMembers(client.doc, 'co-rt').length === 1, 'p4 in co-rt');
    expect(cohortMembers(client.doc, 'co-off')).toEqual([]);
    const run = await post(server.http, '/admin/cohorts/run', {}, token);
    expect(run.status).toBe(200);
    await until(() => cohortMembers(client.doc, 'co-off').length === 1, 'the job to fill co-off');
    expect(cohortMembers(client.doc, 'co-off')).toEqual(['p4']);
    expect(batches(logged).every((b) => b['mode'] !== 'failed')).toBe(true);
  });

  it('[SRV-COH-RT3] with the global switch off, edits change no membership until the job runs', async () => {
    const { server, client, logged, token } = await start();
    client.doc.transact(
      () =>
        siteCollection(client.doc, SETTINGS_COLLECTION).set(COHORT_SETTINGS_ID, {
          id: COHORT_SETTINGS_ID,
          realtime: false,
        }),
      actor,
    );
    const before = batches(logged).length;
    setDept(client.doc, 'p2', 'Realtime');
    await until(() => batches(logged).length > before, 'the edit to be seen');
    expect(batches(logged).at(-1)!['mode']).toBe('off');
    expect(cohortMembers(client.doc, 'co-rt')).toEqual([]);
    expect(siteCollection(client.doc, LOG_COLLECTION).size).toBe(0);
    await post(server.http, '/admin/cohorts/run', {}, token);
    await until(() => cohortMembers(client.doc, 'co-rt').length === 1, 'the job');
    expect(cohortMembers(client.doc, 'co-rt')).toEqual(['p2']);
  });

  it('[SRV-COH-RT4] a change touching more users than the threshold goes to the full processing job', async () => {
    const { client, logged } = await start({ cohortRealtimeBulkThreshold: 3 });
    const before = batches(logged).length;
    client.doc.transact(() => {
      for (let i = 1; i <= 5; i++) setDept(client.doc, `p${i}`, 'Realtime');
    }, actor);
    await until(() => batches(logged).length > before, 'the bulk change to be seen');
    const b = batches(logged).at(-1)!;
    expect(b).toMatchObject({ mode: 'bulk', users: 5 });
    const job = b['job'] as { trigger: string };
    expect(job.trigger).toBe('bulk change (5 users)');
    await until(() => cohortMembers(client.doc, 'co-off').length === 5, 'the job to write');
    // the job processes every rule, realtime or not, and logs with its own reason
    expect(cohortMembers(client.doc, 'co-rt')).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    const log = readSiteState(client.doc).log.filter((l) => l.cohortId === 'co-rt');
    expect(log).toHaveLength(5);
    expect(log.every((l) => /bulk change/.test(l.reason))).toBe(true);
  });
});

describe('realtime cohorts on a server room', () => {
  /** A client connection as the room sees one (the origin of its updates). */
  const peer = (): RoomPeer => ({ id: 1, canRead: true, send: () => {}, awarenessIds: new Set() });

  async function setup() {
    const dir = tempDir('mb-cohort-rt-');
    cleanups.push(() => removeDir(dir));
    const store = await Store.open(dir);
    const room = new Room('site', store, { compactEvery: 500 }, 0);
    await room.ready;
    cleanups.push(async () => {
      await room.flushed();
      room.destroy();
      await store.close();
    });
    const access = siteRoomAccess(async () => room);
    const job = startCohortJob({ site: access, intervalMs: 0 });
    const seen: RealtimeBatchSummary[] = [];
    let submits = 0;
    const rt = startCohortRealtime({
      site: { readDoc: access.readDoc, submit: (u) => (submits++, access.submit(u)) },
      job,
      onBatch: (s) => seen.push(s),
    });
    cleanups.push(() => job.stop());
    cleanups.push(() => rt.stop());
    rt.watch(room.doc);
    // the server loads the site (origin 'server'): no realtime processing
    const seed = new Y.Doc();
    siteJsonToDoc(siteJson(), seed, actor, { rules: rulesJson() });
    await room.submit(Y.encodeStateAsUpdate(seed), 'server');
    await rt.idle();
    expect(seen).toEqual([]);
    /** A client edit: applied on a copy, submitted as that client's update. */
    const edit = async (f: (doc: Y.Doc) => void) => {
      const d = new Y.Doc();
      Y.applyUpdate(d, Y.encodeStateAsUpdate(room.doc));
      const sv = Y.encodeStateVector(d);
      f(d);
      await room.submit(Y.encodeStateAsUpdate(d, sv), peer());
      await rt.idle();
    };
    return { room, seen, edit, submits: () => submits, store, rt };
  }

  it('[SRV-COH-RT2] the server writes one update per batch and its own writes start no second round', async () => {
    const { room, seen, edit, submits } = await setup();
    await edit((d) => setDept(d, 'p1', 'Realtime'));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ mode: 'realtime', events: 1, users: 1, updates: 1 });
    expect(seen[0]!.changes.map((c) => c.cohortId)).toEqual(['co-rt', 'co-dep']);
    expect(submits()).toBe(1);
    expect(cohortMembers(room.doc, 'co-dep')).toEqual(['p1']);
    // let any reaction to the server's own update (there must be none) run
    await new Promise((r) => setTimeout(r, 100));
    await edit(() => {});
    expect(seen).toHaveLength(1);
    expect(siteCollection(room.doc, LOG_COLLECTION).size).toBe(2);
    // a direct membership edit by a client is an event: rule-dep follows co-rt at once
    await edit((d) => {
      const key = JSON.stringify(['co-rt', 'p2']);
      d.transact(
        () => siteCollection(d, 'cohortMembers').set(key, { cohortId: 'co-rt', userId: 'p2' }),
        actor,
      );
    });
    expect(seen.at(-1)).toMatchObject({ mode: 'realtime', events: 1 });
    expect(cohortMembers(room.doc, 'co-dep')).toEqual(['p1', 'p2']);
  });

  it('[SRV-COH-RT1][COH-P10] an enrolment, its removal and a sign-in by a client re-check that user', async () => {
    const { room, seen, edit } = await setup();
    const key = JSON.stringify(['p7', 'k1', 'manual']);
    await edit((d) =>
      d.transact(
        () =>
          siteCollection(d, 'enrolments').set(key, {
            userId: 'p7',
            courseId: 'k1',
            method: 'manual',
            active: 1,
            instanceEnabled: 1,
          }),
        actor,
      ),
    );
    expect(seen.at(-1)!.changes.map((c) => [c.ruleId, c.userId, c.action])).toEqual([
      ['rule-enr', 'p7', 'added'],
    ]);
    expect(cohortMembers(room.doc, 'co-enr')).toEqual(['p7']);
    await edit((d) => d.transact(() => siteCollection(d, 'enrolments').delete(key), actor));
    expect(cohortMembers(room.doc, 'co-enr')).toEqual([]);
    await edit((d) => {
      const users = siteCollection(d, 'users');
      d.transact(
        () => users.set('p8', { ...users.get('p8')!, lastlogin: 1_750_000_000, lastaccess: 1_750_000_000 }),
        actor,
      );
    });
    expect(seen.at(-1)!.changes.map((c) => [c.ruleId, c.userId, c.action])).toEqual([
      ['rule-login', 'p8', 'added'],
    ]);
    expect(seen.at(-1)!.changes[0]!.reason).toMatch(/user_loggedin/);
    expect(cohortMembers(room.doc, 'co-login')).toEqual(['p8']);
  });

  it('[SRV-COH-RT5] a failed write leaves memberships untouched', async () => {
    const { room, seen, store, rt, edit } = await setup();
    // the store refuses writes (closed): the realtime update cannot be stored, so nothing is applied
    await room.flushed();
    const logBefore = siteCollection(room.doc, LOG_COLLECTION).size;
    const original = store.appendUpdates.bind(store);
    let fail = false;
    store.appendUpdates = async (...a: Parameters<Store['appendUpdates']>) => {
      if (fail) throw new Error('disk full');
      return original(...a);
    };
    const d = new Y.Doc();
    Y.applyUpdate(d, Y.encodeStateAsUpdate(room.doc));
    const sv = Y.encodeStateVector(d);
    setDept(d, 'p5', 'Realtime');
    await room.submit(Y.encodeStateAsUpdate(d, sv), peer());
    fail = true;
    await rt.idle();
    fail = false;
    // the batch failed (the submit rejected) and nothing reached the document
    expect(seen.at(-1)).toMatchObject({ mode: 'failed', changes: [] });
    expect(cohortMembers(room.doc, 'co-rt')).toEqual([]);
    expect(siteCollection(room.doc, LOG_COLLECTION).size).toBe(logBefore);
    // the store works again: the next edit is written against the room's real state
    await edit((doc) => setDept(doc, 'p6', 'Realtime'));
    expect(seen.at(-1)).toMatchObject({ mode: 'realtime', updates: 1 });
    expect(cohortMembers(room.doc, 'co-rt')).toEqual(['p6']);
    expect(cohortMembers(room.doc, 'co-dep')).toEqual(['p6']);
  });

  it('[SRV-COH-RT1] realtime latency from a client change to membership written (printed, not asserted)', async () => {
    const { seen, edit } = await setup();
    // each user joins, then leaves: every edit changes a membership
    for (let i = 0; i < 30; i++)
      await edit((d) => setDept(d, `p${((i >> 1) % USERS) + 1}`, i % 2 ? 'Maths' : 'Realtime'));
    const ms = seen
      .filter((s) => s.mode === 'realtime')
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    expect(ms).toHaveLength(30);
    console.log(
      `cohort realtime: event -> membership written p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms (incl. the ${REALTIME_DEBOUNCE_MS} ms batching window), n=${ms.length}`,
    );
  });
});

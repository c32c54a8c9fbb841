// The server's dynamic-cohort job against real rooms: a Room over the real LevelDB store (the server-side wiring)
// and a running sync server reached by a signed-in admin client. Starts only real servers on 127.0.0.1; no mocks.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Room } from '../../sync-server/room.ts';
import { demoSeed as appSeed } from '../../bin/demo-seed.ts';
import { Store } from '../../sync-server/store.ts';
import { siteRoomAccess, startCohortJob, type SiteRoomAccess } from '../../sync-server/cohort-job.ts';
import { cohortMembers, siteCollection, siteJsonToDoc } from '../../src/lib/crdt/site-doc.ts';
import { buildDemoSite } from '../../src/lib/domain/interchange/demo.ts';
import { buildDemoSiteJson, demoRulesJson } from '../../src/lib/domain/interchange/demo-site.ts';
import { SiteIndex, matchingUserIds, parseRules, ruleToJson } from '../../src/lib/domain/cohorts/index.ts';
import { LOG_COLLECTION, RULES_COLLECTION, readSiteState } from '../../src/lib/workers/cohort-writes.ts';
import {
  passwordHash,
  login,
  removeDir,
  startTestServer,
  tempDir,
  until,
  yClient,
  type TestServer,
} from './server-harness.ts';

const demo = buildDemoSite();
const NOW_MS = (demo.epoch + 3600) * 1000;
const seedActor = { userId: 'system', deviceId: 'seed' };

function demoSiteUpdate(): Uint8Array {
  const doc = new Y.Doc();
  siteJsonToDoc(buildDemoSiteJson(demo), doc, seedActor, {
    rules: parseRules(demoRulesJson()).map(ruleToJson),
  });
  return Y.encodeStateAsUpdate(doc);
}

/** Who the enabled demo rule should hold, computed by the domain directly from the demo site. */
function expectedPhysCalc(): string[] {
  const rule = parseRules(demoRulesJson()).find((r) => r.id === 'rule-physcalc')!;
  return [...matchingUserIds(new SiteIndex(buildDemoSiteJson(demo)), rule, { now: NOW_MS / 1000 })].sort();
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openRoom(dir: string): Promise<{ store: Store; room: Room }> {
  const store = await Store.open(dir);
  const room = new Room('site', store, { compactEvery: 500 }, 0);
  await room.ready;
  return { store, room };
}

describe('cohort job on a server room', () => {
  it('[COH-P1][COH-P7] processes the site room, logs each change with its reason, and the result is durable', async () => {
    const dir = tempDir('mb-cohort-job-');
    cleanups.push(() => removeDir(dir));
    let { store, room } = await openRoom(dir);
    await room.submit(demoSiteUpdate(), 'server');
    const job = startCohortJob({
      site: siteRoomAccess(async () => room),
      intervalMs: 0,
      now: () => NOW_MS,
      chunkSize: 3,
    });
    const summary = await job.runNow();
    await job.stop();
    const expected = expectedPhysCalc();
    expect(expected.length).toBeGreaterThan(3);
    expect(summary.changes).toEqual([
      { ruleId: 'rule-physcalc', cohortId: 'co-physcalc', added: expected.length, removed: 0 },
    ]);
    // chunked: more than one update reached the room
    expect(summary.updates).toBeGreaterThan(1);
    expect(cohortMembers(room.doc, 'co-physcalc')).toEqual(expected);
    // disabled rules' cohorts are untouched
    expect(cohortMembers(room.doc, 'co-staff')).toEqual([]);

    // reopen the store: what the job wrote was stored, not only applied in memory
    await room.flushed();
    room.destroy();
    await store.close();
    ({ store, room } = await openRoom(dir));
    cleanups.push(async () => {
      room.destroy();
      await store.close();
    });
    const state = readSiteState(room.doc);
    expect(state.site.cohorts.find((c) => c.id === 'co-physcalc')!.members).toEqual(expected);
    expect(state.site.cohorts.find((c) => c.id === 'co-physcalc')!.component).toBe('tool_dynamic_cohorts');
    const log = state.log.filter((l) => l.cohortId === 'co-physcalc');
    expect(log.map((l) => l.userId).sort()).toEqual(expected);
    for (const l of log) {
      expect(l).toMatchObject({ ruleId: 'rule-physcalc', action: 'added', time: NOW_MS / 1000 });
      expect(l.reason).toMatch(/process now/);
    }
  });

  it('[COH-P9] a second run changes nothing and writes nothing', async () => {
    const dir = tempDir('mb-cohort-job-');
    cleanups.push(() => removeDir(dir));
    const { store, room } = await openRoom(dir);
    cleanups.push(async () => {
      room.destroy();
      await store.close();
    });
    await room.submit(demoSiteUpdate(), 'server');
    const job = startCohortJob({ site: siteRoomAccess(async () => room), intervalMs: 0, now: () => NOW_MS });
    await job.runNow();
    const logSize = siteCollection(room.doc, LOG_COLLECTION).size;
    const again = await job.runNow();
    await job.stop();
    expect(again.changes.every((c) => c.added === 0 && c.removed === 0)).toBe(true);
    expect(siteCollection(room.doc, LOG_COLLECTION).size).toBe(logSize);
  });

  it('[COH-P11] change-log rows older than the retention period are deleted; newer ones and memberships stay', async () => {
    const dir = tempDir('mb-cohort-job-');
    cleanups.push(() => removeDir(dir));
    const { store, room } = await openRoom(dir);
    cleanups.push(async () => {
      room.destroy();
      await store.close();
    });
    await room.submit(demoSiteUpdate(), 'server');
    const day = 86_400;
    const nowS = NOW_MS / 1000;
    const old = new Y.Doc();
    Y.applyUpdate(old, Y.encodeStateAsUpdate(room.doc));
    const sv = Y.encodeStateVector(old);
    old.transact(() => {
      const log = siteCollection(old, LOG_COLLECTION);
      for (const [id, age] of [['x-400', 400], ['x-40', 40], ['x-10', 10]] as const)
        log.set(id, { id, time: nowS - age * day, ruleId: 'r', cohortId: 'co-staff', userId: 'u', action: 'added', reason: 'test' });
    });
    await room.submit(Y.encodeStateAsUpdate(old, sv), 'server');
    const job = startCohortJob({ site: siteRoomAccess(async () => room), intervalMs: 0, now: () => NOW_MS, logRetentionDays: 30 });
    const first = await job.runNow();
    const keys = [...siteCollection(room.doc, LOG_COLLECTION).keys()];
    expect(first.trimmed).toBe(2);
    expect(keys).toContain('x-10');
    expect(keys).not.toContain('x-40');
    expect(keys).not.toContain('x-400');
    // the run's own changes (logged now) are kept, and the memberships they record stand
    expect(keys.length).toBe(1 + expectedPhysCalc().length);
    expect(cohortMembers(room.doc, 'co-physcalc')).toEqual(expectedPhysCalc());
    const again = await job.runNow();
    await job.stop();
    expect(again.trimmed).toBe(0);
    expect(again.updates).toBe(0);
  });

  it('[COH-P2] a rule that became broken is flagged and disabled in the document, its cohort untouched', async () => {
    const dir = tempDir('mb-cohort-job-');
    cleanups.push(() => removeDir(dir));
    const { store, room } = await openRoom(dir);
    cleanups.push(async () => {
      room.destroy();
      await store.close();
    });
    await room.submit(demoSiteUpdate(), 'server');
    // someone deletes the quiz the (now enabled) quiz rule reads
    const edit = new Y.Doc();
    Y.applyUpdate(edit, Y.encodeStateAsUpdate(room.doc));
    const sv = Y.encodeStateVector(edit);
    edit.transact(() => {
      siteCollection(edit, 'quizzes').delete('quiz-phys1');
      for (const k of [...siteCollection(edit, 'quizGrades').keys()])
        siteCollection(edit, 'quizGrades').delete(k);
      const rules = siteCollection(edit, RULES_COLLECTION);
      rules.set('rule-quiz', { ...rules.get('rule-quiz')!, enabled: true });
    });
    await room.submit(Y.encodeStateAsUpdate(edit, sv), 'server');
    const job = startCohortJob({ site: siteRoomAccess(async () => room), intervalMs: 0, now: () => NOW_MS });
    const summary = await job.runNow();
    await job.stop();
    expect(summary.broken.map((b) => b.ruleId)).toEqual(['rule-quiz']);
    const stored = siteCollection(room.doc, RULES_COLLECTION).get('rule-quiz')!;
    expect(stored).toMatchObject({ broken: true, enabled: false });
    expect(String(stored['brokenReason'])).toContain('quiz');
    expect(cohortMembers(room.doc, 'co-quiz')).toEqual([]);
  });

  it('[COH-P1] runs on its schedule', async () => {
    const dir = tempDir('mb-cohort-job-');
    cleanups.push(() => removeDir(dir));
    const { store, room } = await openRoom(dir);
    cleanups.push(async () => {
      room.destroy();
      await store.close();
    });
    await room.submit(demoSiteUpdate(), 'server');
    const logged: object[] = [];
    const job = startCohortJob({
      site: siteRoomAccess(async () => room),
      intervalMs: 20,
      now: () => NOW_MS,
      log: (e) => logged.push(e),
    });
    cleanups.push(() => job.stop());
    await until(() => cohortMembers(room.doc, 'co-physcalc').length > 0, 'a scheduled run');
    expect(cohortMembers(room.doc, 'co-physcalc')).toEqual(expectedPhysCalc());
    expect(logged.some((e) => (e as { trigger?: string }).trigger === 'scheduled processing')).toBe(true);
  });
});

describe('cohort job through a running sync server', () => {
  let server: TestServer | null = null;
  afterEach(async () => {
    await server?.close();
    if (server) removeDir(server.dataDir);
    server = null;
  });

  it('[COH-P1] an admin client running the job changes memberships that another device sees and a restart keeps', async () => {
    // The demo's own seed: the server keeps its accounts in step with the site directory's users, so the
    // accounts must be the demo people; its site room is the demo site (passwords swapped for the harness hash: hashing 44 costs seconds).
    const hash = await passwordHash();
    const seed = appSeed();
    seed.accounts = seed.accounts.map((a) => ({ ...a, password: hash }));
    server = await startTestServer({}, seed);
    const admin = await login(server.http, 'admin');
    const client = yClient(server.url, 'site', admin.accessToken);
    cleanups.push(() => client.destroy());
    await client.synced;
    // The job's access over a client connection: the server stores each update before relaying it.
    const access: SiteRoomAccess = {
      readDoc: async () => client.doc,
      submit: async (u) => Y.applyUpdate(client.doc, u, 'cohort-job'),
    };
    const job = startCohortJob({ site: access, intervalMs: 0, now: () => NOW_MS });
    await job.runNow();
    await job.stop();
    // teachers may not open the site room: a second admin device reads it
    const other = await login(server.http, 'admin');
    const reader = yClient(server.url, 'site', other.accessToken);
    cleanups.push(() => reader.destroy());
    await reader.synced;
    const expected = expectedPhysCalc();
    await until(
      () => cohortMembers(reader.doc, 'co-physcalc').length === expected.length,
      'the other device to see the members',
    );
    expect(cohortMembers(reader.doc, 'co-physcalc')).toEqual(expected);

    const dataDir = server.dataDir;
    client.destroy();
    reader.destroy();
    await server.close();
    server = await startTestServer({ dataDir }, seed);
    const again = yClient(server.url, 'site', (await login(server.http, 'admin')).accessToken);
    cleanups.push(() => again.destroy());
    await again.synced;
    expect(cohortMembers(again.doc, 'co-physcalc')).toEqual(expected);
  });
});

// The cohorts adapters at scale: the server job over a 20,000-user site room (read the Yjs document, process, write
// the membership in chunks through a real Room over the LevelDB store) and the worker protocol (load, preview) over a
// real MessageChannel. Prints figures and ratios to goals; never asserts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { syntheticSite } from './cohorts.bench.ts';
import { heapMB, percentile, report, timeRuns } from './util.ts';
import { Room } from '../../sync-server/room.ts';
import { Store } from '../../sync-server/store.ts';
import { siteRoomAccess, startCohortJob } from '../../sync-server/cohort-job.ts';
import { siteJsonToDoc } from '../../src/lib/crdt/site-doc.ts';
import { parseSiteJson } from '../../src/lib/domain/interchange/site-json.ts';
import { readSiteState } from '../../src/lib/workers/cohort-writes.ts';
import { RpcClient, serveRpc, type RpcPort } from '../../src/lib/workers/rpc.ts';
import { createCohortsApi, type CohortsApi } from '../../src/lib/workers/cohorts.worker.ts';

/** Users: a large school district's site; big enough to show chunking, small enough for a minute's run. */
const N = 20_000;
const NOW = 1767225600;

const RULES = [
  {
    id: 'half',
    name: 'Everyone with an id number',
    enabled: true,
    operator: 'AND',
    cohortId: 'co1',
    conditions: [{ type: 'user_profile', field: 'idnumber', operator: 'is_not_empty', value: '' }],
  },
  {
    id: 'students-c3',
    name: 'Students of c3',
    enabled: true,
    operator: 'AND',
    cohortId: 'co2',
    conditions: [
      { type: 'user_enrolment', operator: 'enrolled', courseId: 'c3', role: 'student', method: null },
    ],
  },
];

export async function run(): Promise<void> {
  const site = parseSiteJson(syntheticSite(N));
  const actor = { userId: 'bench', deviceId: 'bench' };
  let t0 = performance.now();
  const seedDoc = new Y.Doc();
  siteJsonToDoc(site, seedDoc, actor, { rules: RULES });
  const seed = Y.encodeStateAsUpdate(seedDoc);
  report(`site JSON -> Yjs document (${N} users)`, performance.now() - t0);
  console.log(`document size ${(seed.length / 1048576).toFixed(1)} MB, heap ${heapMB().toFixed(0)} MB`);

  t0 = performance.now();
  const state = readSiteState(seedDoc);
  report('document -> site + rules + log (readSiteState)', performance.now() - t0, 1000);
  seedDoc.destroy();

  const dir = mkdtempSync(join(tmpdir(), 'mb-bench-cohort-job-'));
  try {
    const store = await Store.open(dir);
    const room = new Room('site', store, { compactEvery: 500 }, 0);
    await room.ready;
    await room.submit(seed, 'server');
    let updates = 0;
    let bytes = 0;
    const access = siteRoomAccess(async () => room);
    const counted = {
      readDoc: access.readDoc,
      submit: async (u: Uint8Array) => {
        updates++;
        bytes += u.length;
        await access.submit(u);
      },
    };
    const job = startCohortJob({ site: counted, intervalMs: 0, now: () => NOW * 1000, chunkSize: 2000 });
    t0 = performance.now();
    const first = await job.runNow();
    const firstMs = performance.now() - t0;
    const changed = first.changes.reduce((n, c) => n + c.added + c.removed, 0);
    // Goal: a scheduled run over a 20k-user site finishes well inside Moodle's 15-minute cron period; 10 s keeps
    // the server responsive on 2 cores.
    report(`job run, first (${changed} membership changes)`, firstMs, 10_000);
    console.log(
      `  ${updates} durable updates, ${(bytes / 1024).toFixed(0)} KiB in all, ` +
        `${(bytes / Math.max(1, updates) / 1024).toFixed(0)} KiB per update on average`,
    );
    t0 = performance.now();
    await job.runNow();
    report('job run, nothing to change (COH-P9)', performance.now() - t0, 3000);
    await job.stop();
    await room.flushed();
    room.destroy();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log('\n-- worker protocol over a MessageChannel (structured clone, as in the browser) --');
  const ch = new MessageChannel();
  serveRpc(ch.port2 as unknown as RpcPort, createCohortsApi(), () => new Promise((r) => setTimeout(r, 0)));
  ch.port1.start();
  ch.port2.start();
  const rpc = new RpcClient<CohortsApi>(ch.port1 as unknown as RpcPort);
  const loads = await timeRuns(3, () => rpc.call('load', { site: state.site }).result);
  report(`load site into the worker (${N} users), median`, percentile(loads, 50), 2000);
  const previews = await timeRuns(10, () => rpc.call('preview', { rule: RULES[1], now: NOW }).result);
  // Goal: a live preview answers within one debounce period (250 ms) so typing never waits on it.
  report('live preview round trip, p50', percentile(previews, 50), 250);
  report('live preview round trip, p99', percentile(previews, 99), 250);
  ch.port1.close();
  ch.port2.close();
}

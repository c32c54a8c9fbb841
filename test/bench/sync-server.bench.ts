// Sync-server benchmark: 200 websocket clients editing one course for a sustained period against `markbook serve`
// in its own process: relay latency p50/p99, server memory over time, server CPU per update.
// Measures and prints; never fails on speed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { hashPassword } from '../../sync-server/auth.ts';
import { startSyncServer } from '../../sync-server/server.ts';
import { Store } from '../../sync-server/store.ts';
import { courseUpdateGuard } from '../../sync-server/course-guard.ts';
import { parseRoom } from '../../sync-server/access.ts';
import { roleCapabilities } from '../../src/lib/domain/shared/capabilities.ts';
import { projectStudent } from '../../sync-server/projections.ts';
import { applyCommand } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc, docToCourseJson } from '../../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import { loadCourse } from '../../src/lib/domain/gradebook/index.ts';
import { fixedClock } from '../../src/lib/domain/shared/clock.ts';
import { WebsocketProvider } from 'y-websocket';
import { percentile, report, timeRuns } from './util.ts';

const CLIENTS = 200;
const ACCOUNTS = 5; // 40 sockets each, under the default 64 open documents per user
const UPDATES_PER_CLIENT_PER_SEC = 1;
const SUSTAIN_MS = 20_000;
const root = join(import.meta.dirname, '..', '..');

function cpuMs(pid: number): number {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat); 100 ticks per second on Linux.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function frame(sub: number, payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, sub);
  encoding.writeVarUint8Array(e, payload);
  return encoding.toUint8Array(e);
}

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

export async function run(): Promise<void> {
  await fsyncCost();
  guardCost();
  await relay();
  await projection();
}

/** What one durable (fsynced) append costs on this disk: the floor under every relay (SRV-3). */
async function fsyncCost(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mb-bench-fsync-'));
  const store = await Store.open(dir);
  try {
    const update = new Uint8Array(40);
    let seq = 0;
    const runs = await timeRuns(200, () => store.appendUpdates('course/x', [{ seq: seq++, update }]), 5);
    report('store: one fsynced append p50', percentile(runs, 50), 5);
    report('store: one fsynced append p99', percentile(runs, 99), 50);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The update guard (course-guard.ts) on a 2,000-student course: one grade, and a 2,000-grade bulk import. */
function guardCost(): void {
  const doc = new Y.Doc();
  courseJsonToDoc(makeCourse(10, 2000), doc, { userId: 'seed', deviceId: 'seed' });
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(doc));
  const capture = (f: () => void): Uint8Array => {
    const ups: Uint8Array[] = [];
    const on = (u: Uint8Array) => ups.push(u);
    client.on('update', on);
    f();
    client.off('update', on);
    return Y.mergeUpdates(ups);
  };
  const ctx = { actor: { userId: 't1', deviceId: 'bench' }, clock: fixedClock(1_800_000_000) };
  const bulk = capture(() =>
    applyCommand(
      client,
      {
        type: 'bulk',
        commands: Array.from({ length: 2000 }, (_, i) => ({
          type: 'setGrade' as const,
          item: 'i3',
          user: `u${i}`,
          raw: 50,
        })),
      },
      ctx,
    ),
  );
  const one = capture(() => applyCommand(client, { type: 'setGrade', item: 'i4', user: 'u5', raw: 1 }, ctx));
  const guard = courseUpdateGuard(() => 1_800_000_000);
  const check = (update: Uint8Array) =>
    guard({
      room: parseRoom('course/c1')!,
      doc,
      update,
      userId: 't1',
      siteRole: null,
      role: 'editingteacher',
      capabilities: roleCapabilities('editingteacher'),
    });
  const t0 = performance.now();
  if (!check(bulk).ok) throw new Error('bulk refused');
  report('guard: 2,000-grade bulk update (once)', performance.now() - t0, 500);
  Y.applyUpdate(doc, bulk);
  const t1 = performance.now();
  for (let i = 0; i < 200; i++) check(one);
  report('guard: one grade change', (performance.now() - t1) / 200, 1);
}

const STUDENTS = 2000;
const ITEMS = 10;

/** A 2,000-student course: one grade change, until the student's projection has it. */
async function projection(): Promise<void> {
  console.log(`\nprojection: course of ${STUDENTS} students x ${ITEMS} items`);
  const work = mkdtempSync(join(tmpdir(), 'mb-bench-proj-'));
  const hash = await hashPassword('bench password');
  const json = makeCourse(ITEMS, STUDENTS);
  const courseDoc = new Y.Doc();
  courseJsonToDoc(json, courseDoc, { userId: 'seed', deviceId: 'seed' });
  const users = Array.from({ length: STUDENTS }, (_, i) => `u${i}`);
  const server = await startSyncServer({
    port: 0,
    dataDir: join(work, 'data'),
    seed: {
      accounts: [...users, 't'].map((u) => ({ userId: u, username: u, password: hash, displayName: u })),
      courseRoles: [
        ...users.map((u) => ({ userId: u, courseId: 'big', role: 'student' as const })),
        { userId: 't', courseId: 'big', role: 'editingteacher' as const },
      ],
      docs: [{ room: 'course/big', update: Y.encodeStateAsUpdate(courseDoc) }],
    },
  });
  const http = server.url.replace('ws://', 'http://');
  const token = async (u: string) =>
    (
      (await (
        await fetch(`${http}/auth/login`, {
          method: 'POST',
          body: JSON.stringify({ username: u, password: 'bench password' }),
        })
      ).json()) as { accessToken: string }
    ).accessToken;
  const open = (room: string, tok: string) => {
    const doc = new Y.Doc();
    const p = new WebsocketProvider(server.url, room, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token: tok },
      disableBc: true,
    });
    const synced = new Promise<void>((r) => p.on('sync', (ok: boolean) => ok && r()));
    return { doc, p, synced };
  };
  const wait = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 1));
  };
  try {
    const teacher = open('course/big', await token('t'));
    await teacher.synced;
    // First projection of everyone (a student opening theirs triggers the course's first full run).
    const t0 = performance.now();
    const student = open('student/big/u7', await token('u7'));
    await student.synced;
    await wait(() => student.doc.getMap('report').size > 0);
    report('first projection of all students (until u7 has it)', performance.now() - t0, 10_000);
    const samples: number[] = [];
    for (let k = 0; k < 5; k++) {
      const raw = 10 + k;
      const t1 = performance.now();
      const r = applyCommand(
        teacher.doc,
        { type: 'setGrade', item: 'i3', user: 'u7', raw },
        { actor: { userId: 't', deviceId: 'bench' }, clock: fixedClock(1_800_000_000 + k) },
      );
      if (!r.ok) throw new Error('setGrade refused');
      await wait(
        () =>
          (JSON.parse(String(student.doc.getMap<string>('report').get('i3') ?? '{}')) as { final?: number })
            .final === raw,
      );
      samples.push(performance.now() - t1);
    }
    samples.sort((a, b) => a - b);
    report('one grade change -> student sees it (p50, incl. 100 ms debounce)', percentile(samples, 50), 500);
    const current = docToCourseJson(teacher.doc);
    const engine = await timeRuns(5, () => projectStudent(current, 'u7', 1_800_000_000));
    report('  of which: doc -> JSON -> engine -> one student (p50)', percentile(engine, 50), 300);
    const decode = await timeRuns(5, () => docToCourseJson(teacher.doc));
    report('  of which: course doc -> course JSON (p50)', percentile(decode, 50));
    const load = await timeRuns(5, () => loadCourse(current, { now: 1_800_000_000 }));
    report('  of which: engine load + full regrade (p50)', percentile(load, 50));
    teacher.p.destroy();
    student.p.destroy();
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function relay(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mb-bench-sync-'));
  const hash = await hashPassword('bench password');
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({
    userId: `t${i}`,
    username: `t${i}`,
    password: hash,
    displayName: `T${i}`,
  }));
  writeFileSync(
    join(work, 'seed.json'),
    JSON.stringify({
      accounts,
      courseRoles: accounts.map((a) => ({ userId: a.userId, courseId: 'c1', role: 'editingteacher' })),
      docs: [],
    }),
  );
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/markbook.js'),
      'serve',
      '--port',
      '0',
      '--data-dir',
      join(work, 'data'),
      '--seed',
      join(work, 'seed.json'),
      '--quiet',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const { url } = JSON.parse(
      await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r)),
    ) as { url: string };
    const http = url.replace('ws://', 'http://');
    const tokens: string[] = [];
    for (const a of accounts) {
      const r = await fetch(`${http}/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ username: a.username, password: 'bench password' }),
      });
      tokens.push(((await r.json()) as { accessToken: string }).accessToken);
    }

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const OBSERVERS = 5; // the first clients also time arrivals (every client receives every update)
    const sockets: WebSocket[] = [];
    const docs: Y.Doc[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => {
        const doc = new Y.Doc();
        docs.push(doc);
        const ws = new WebSocket(`${url}/course/c1?token=${tokens[i % ACCOUNTS]}`);
        ws.binaryType = 'nodebuffer';
        sockets.push(ws);
        if (i < OBSERVERS)
          ws.on('message', (data: Buffer) => {
            const t = performance.now();
            const d = decoding.createDecoder(data);
            if (decoding.readVarUint(d) !== 0 || decoding.readVarUint(d) !== 2) return;
            const { structs } = Y.decodeUpdate(decoding.readVarUint8Array(d));
            const s = structs[0];
            const sent = s && sentAt.get(`${s.id.client}:${s.id.clock}`);
            if (sent) latencies.push(t - sent);
          });
        return new Promise<void>((resolve, reject) => {
          ws.once('open', () => {
            ws.send(frame(0, Y.encodeStateVector(doc)));
            resolve();
          });
          ws.once('error', reject);
        });
      }),
    );
    console.log(
      `${CLIENTS} clients connected; each sends ${UPDATES_PER_CLIENT_PER_SEC} update/s for ${SUSTAIN_MS / 1000} s`,
    );

    const memory: Array<{ t: number; heap: number; rss: number }> = [];
    const sample = async (t: number) =>
      memory.push({
        t,
        heap: (await metric(http, 'markbook_heap_bytes')) / 1048576,
        rss: (await metric(http, 'markbook_rss_bytes')) / 1048576,
      });
    const cpu0 = cpuMs(child.pid!);
    const updates0 = await metric(http, 'markbook_updates_total');
    const t0 = performance.now();
    await sample(0);
    let sent = 0;
    const interval = 1000 / (CLIENTS * UPDATES_PER_CLIENT_PER_SEC);
    let nextSample = 2000;
    while (performance.now() - t0 < SUSTAIN_MS) {
      const i = sent % CLIENTS;
      const doc = docs[i]!;
      const before = Y.getState(doc.store, doc.clientID);
      let update: Uint8Array | null = null;
      doc.once('update', (u: Uint8Array) => (update = u));
      // A grade cell per client, overwritten again and again (the common case: re-grading).
      doc.getMap('grades').set(`u${i}|i${sent % 7}`, sent);
      sentAt.set(`${doc.clientID}:${before}`, performance.now());
      sockets[i]!.send(frame(2, update!));
      sent++;
      const due = t0 + sent * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      if (performance.now() - t0 > nextSample) {
        await sample(Math.round((performance.now() - t0) / 1000));
        nextSample += 2000;
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const stored = (await metric(http, 'markbook_updates_total')) - updates0;
    const cpu = cpuMs(child.pid!) - cpu0;
    await sample(Math.round(elapsed));

    const sorted = latencies.sort((a, b) => a - b);
    console.log(
      `sent ${sent} updates (${(sent / elapsed).toFixed(0)}/s), server stored ${stored}; relayed ${sorted.length} timed arrivals`,
    );
    report('relay latency p50 (send -> other client)', percentile(sorted, 50), 50);
    report('relay latency p99', percentile(sorted, 99), 250);
    report('server CPU per update (incl. 199x fan-out)', cpu / Math.max(1, stored), 2);
    console.log(`server CPU busy: ${((cpu / (elapsed * 1000)) * 100).toFixed(0)}% of one core`);
    console.log('server memory over time (s: heap MB / rss MB):');
    console.log('  ' + memory.map((m) => `${m.t}s: ${m.heap.toFixed(0)}/${m.rss.toFixed(0)}`).join('  '));
    const first = memory[1] ?? memory[0]!;
    const last = memory[memory.length - 1]!;
    console.log(
      `heap growth from ${first.t}s to ${last.t}s: ${(last.heap - first.heap).toFixed(1)} MB (goal: flat, < 20 MB)`,
    );
    for (const ws of sockets) ws.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

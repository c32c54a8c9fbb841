// 10,000 seeded fuzzed frames (random bytes, mutated real updates, bad varints, bad awareness, oversized and text
// frames) against a real server while two editors keep syncing: nothing crashes, only the sender is cut (OPS-1, OPS-2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { seededRng, type Rng } from '../../src/lib/domain/shared/clock.ts';
import { login, removeDir, startTestServer, until, yClient, type TestServer } from './server-harness.ts';

/** Frames the server must have decoded (counted by the server itself, so frames dropped after a close do not count). */
const TOTAL_FRAMES = 10_000;
const PARALLEL = 16;
const FRAMES_PER_SOCKET = 25;
const MAX_MESSAGE = 64 * 1024;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ maxMessageBytes: MAX_MESSAGE });
});
afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
});

function frame(type: number, sub: number | null, payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, type);
  if (sub !== null) encoding.writeVarUint(e, sub);
  encoding.writeVarUint8Array(e, payload);
  return encoding.toUint8Array(e);
}

/** Real updates to mutate: a few map and text edits from a scratch doc. */
function sampleUpdates(): Uint8Array[] {
  const d = new Y.Doc();
  const out: Uint8Array[] = [];
  d.on('update', (u: Uint8Array) => out.push(u));
  for (let i = 0; i < 20; i++) d.getMap('grades').set(`fz${i}`, i * 1.5);
  d.getText('notes').insert(0, 'hello fuzz');
  d.getMap('grades').delete('fz3');
  return out;
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng.next() * 256);
  return b;
}

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  const b = Uint8Array.from(src);
  const kind = Math.floor(rng.next() * 4);
  if (kind === 0) return b.subarray(0, Math.floor(rng.next() * b.length));
  if (kind === 1) {
    const flips = 1 + Math.floor(rng.next() * 3);
    for (let i = 0; i < flips; i++) b[Math.floor(rng.next() * b.length)] = Math.floor(rng.next() * 256);
    return b;
  }
  if (kind === 2) return new Uint8Array([...b, ...randomBytes(rng, 1 + Math.floor(rng.next() * 8))]);
  b[Math.floor(rng.next() * b.length)]! ^= 0x80;
  return b;
}

function fuzzFrame(rng: Rng, samples: Uint8Array[]): Uint8Array | string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rng.next() * xs.length)]!;
  const r = rng.next();
  // About four in five frames are plausible (the server must keep the socket), one in five hostile.
  if (r < 0.3) return frame(0, 2, pick(samples));
  if (r < 0.42) return frame(0, 0, Y.encodeStateVector(new Y.Doc()));
  if (r < 0.55) return frame(0, 2, mutate(rng, pick(samples)));
  if (r < 0.65) return new Uint8Array([3]);
  if (r < 0.8) {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, 1 + Math.floor(rng.next() * 2 ** 31));
    encoding.writeVarUint(e, Math.floor(rng.next() * 10));
    encoding.writeVarString(e, rng.next() < 0.8 ? '{"user":{"name":"x"}}' : '{"user":');
    return frame(1, null, encoding.toUint8Array(e));
  }
  if (r < 0.84) return randomBytes(rng, Math.floor(rng.next() * 64));
  if (r < 0.88) return mutate(rng, frame(0, pick([1, 2]), pick(samples)));
  if (r < 0.92) return frame(0, 0, randomBytes(rng, Math.floor(rng.next() * 16)));
  // A length prefix that promises far more than the frame holds.
  if (r < 0.94) return new Uint8Array([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
  if (r < 0.96) return new Uint8Array([Math.floor(4 + rng.next() * 250), 0, 0]);
  if (r < 0.98) return 'hello';
  return randomBytes(rng, MAX_MESSAGE + 1);
}

describe('fuzzing', () => {
  it('[OPS-1] 10,000 fuzzed frames crash nothing and other clients keep syncing', async () => {
    const { accessToken } = await login(s.http, 't1');
    const viewer = await login(s.http, 'nt');
    const a = yClient(s.url, 'course/c1', accessToken);
    const b = yClient(s.url, 'course/c1', accessToken);
    await Promise.all([a.synced, b.synced]);
    let healthyClosed = 0;
    for (const c of [a, b]) c.provider.on('connection-close', () => healthyClosed++);
    const framesDecoded = async () => {
      const text = await (await fetch(`${s.http}/metrics`)).text();
      return Number(/^markbook_frames_total (\d+)$/m.exec(text)![1]);
    };
    const baseline = await framesDecoded();

    const rng = seededRng(0xf022);
    const samples = sampleUpdates();
    const closes = new Map<number, number>();
    const oneSocket = (token: string) =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(`${s.url}/course/c1?token=${token}`);
        ws.on('error', () => {});
        ws.on('close', (code) => {
          closes.set(code, (closes.get(code) ?? 0) + 1);
          resolve();
        });
        ws.on('open', () => {
          for (let i = 0; i < FRAMES_PER_SOCKET; i++) ws.send(fuzzFrame(rng, samples));
          // End every batch with an unknown message type, so the server closes the socket as soon as it is done.
          ws.send(new Uint8Array([0x7f, 0]));
        });
      });
    let round = 0;
    while ((await framesDecoded()) - baseline < TOTAL_FRAMES) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < PARALLEL; i++)
        batch.push(oneSocket(i % 4 === 0 ? viewer.accessToken : accessToken));
      await Promise.all(batch);
      // Healthy editors keep working during the storm.
      a.doc.getMap('grades').set(`during${round}`, round);
      round++;
    }
    expect(closes.get(4400) ?? 0).toBeGreaterThan(100);
    expect(closes.get(4413) ?? 0).toBeGreaterThan(0);

    a.doc.getMap('grades').set('after', 'storm');
    await until(() => b.doc.getMap('grades').get('after') === 'storm', 'b receives after the storm');
    for (let r = 0; r < round; r++) expect(b.doc.getMap('grades').get(`during${r}`)).toBe(r);
    expect(a.doc.getMap('grades').toJSON()).toEqual(b.doc.getMap('grades').toJSON());
    expect(healthyClosed).toBe(0);
    const health = await fetch(`${s.http}/healthz`);
    expect(health.status).toBe(200);
    // A late joiner loads the same state from the server.
    const c = yClient(s.url, 'course/c1', accessToken);
    await c.synced;
    expect(c.doc.getMap('grades').toJSON()).toEqual(a.doc.getMap('grades').toJSON());
    for (const x of [a, b, c]) x.destroy();
  });
});

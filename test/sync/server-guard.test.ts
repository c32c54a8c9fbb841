// Capability checks on a real server with the real CRDT commands: a change to a locked grade or one signed by
// someone else is refused, not stored, and the writer is closed with 4409 to reload (AUTHZ-4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand, type Command } from '../../src/lib/crdt/commands.ts';
import { courseJsonToDoc, readCell } from '../../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../../src/lib/crdt/fixtures.ts';
import { fixedClock } from '../../src/lib/domain/shared/clock.ts';
import {
  demoSeed,
  login,
  removeDir,
  startTestServer,
  until,
  yClient,
  type TestServer,
  type YClient,
} from './server-harness.ts';

let s: TestServer;
const open: YClient[] = [];
beforeAll(async () => {
  const doc = new Y.Doc();
  courseJsonToDoc(makeCourse(3, 3), doc, { userId: 'admin', deviceId: 'seed' });
  s = await startTestServer({}, await demoSeed([{ room: 'course/c1', update: Y.encodeStateAsUpdate(doc) }]));
});
afterAll(async () => {
  for (const c of open) c.destroy();
  await s.close();
  removeDir(s.dataDir);
});

function run(c: YClient, cmd: Command, userId: string): void {
  const r = applyCommand(c.doc, cmd, {
    actor: { userId, deviceId: `${userId}-${c.doc.clientID}` },
    clock: fixedClock(1_800_000_000),
  });
  if (!r.ok) throw new Error(`refused locally: ${JSON.stringify(r)}`);
}

describe('capability-guarded changes on the server', () => {
  it('[AUTHZ-4] a grade locked meanwhile cannot be changed; the writer is told and closed with 4409', async () => {
    const { accessToken } = await login(s.http, 't1');
    const locker = yClient(s.url, 'course/c1', accessToken);
    const stale = yClient(s.url, 'course/c1', accessToken);
    open.push(locker, stale);
    await Promise.all([locker.synced, stale.synced]);
    // The stale tablet goes offline, the other one locks the grade, then the stale one writes and reconnects.
    stale.provider.disconnect();
    run(locker, { type: 'lockGrade', item: 'i0', user: 'u0' }, 't1');
    const watcher = yClient(s.url, 'course/c1', accessToken);
    open.push(watcher);
    await until(
      () => watcher.synced.then(() => readCell(watcher.doc, 'i0', 'u0').record.locked === true),
      'lock stored',
    );
    run(stale, { type: 'setGrade', item: 'i0', user: 'u0', raw: 1 }, 't1');
    run(stale, { type: 'setGrade', item: 'i1', user: 'u1', raw: 2 }, 't1');
    const denied: string[] = [];
    stale.provider.on('status', () => {
      stale.provider.ws?.addEventListener('message', (ev: { data: unknown }) => {
        const b = Buffer.from(ev.data as ArrayBuffer);
        if (b[0] === 2) denied.push(b.toString('utf8'));
      });
    });
    stale.provider.connect();
    expect(await stale.closedCode).toBe(4409);
    expect(denied.join('')).toContain('locked');
    // Nothing of the refused update was stored, not even the part that touched an unlocked cell.
    const fresh = yClient(s.url, 'course/c1', accessToken);
    open.push(fresh);
    await fresh.synced;
    expect(readCell(fresh.doc, 'i0', 'u0').record.grade).toEqual(
      readCell(watcher.doc, 'i0', 'u0').record.grade,
    );
    expect(readCell(fresh.doc, 'i0', 'u0').record.grade).not.toEqual({ raw: 1 });
    expect(readCell(fresh.doc, 'i0', 'u0').record.locked).toBe(true);
    expect(readCell(fresh.doc, 'i1', 'u1').record).toEqual(readCell(watcher.doc, 'i1', 'u1').record);
  });

  it('[AUTHZ-4] a change signed as another user is refused', async () => {
    const { accessToken } = await login(s.http, 't1');
    const c = yClient(s.url, 'course/c1', accessToken);
    open.push(c);
    await c.synced;
    run(c, { type: 'setGrade', item: 'i2', user: 'u2', raw: 42 }, 'admin');
    expect(await c.closedCode).toBe(4409);
    const fresh = yClient(s.url, 'course/c1', accessToken);
    open.push(fresh);
    await fresh.synced;
    expect(readCell(fresh.doc, 'i2', 'u2').record.grade).not.toEqual(
      readCell(c.doc, 'i2', 'u2').record.grade,
    );
  });
});

// kill -9 mid-stream, then restart: every update any client was sent before the crash is still there (SRV-3).
// Runs the real `markbook serve` in a child process and kills it with SIGKILL at seeded random moments.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../src/lib/domain/shared/clock.ts';
import { demoSeed, login, removeDir, tempDir, until, yClient } from './server-harness.ts';

const root = join(import.meta.dirname, '..', '..');
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
});

async function serve(
  dataDir: string,
  seedFile: string,
): Promise<{ child: ChildProcess; url: string; http: string }> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/markbook.js'),
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--seed',
      seedFile,
      '--quiet',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`markbook serve exited with ${code} before it was ready`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return { child, url, http: url.replace('ws://', 'http://') };
}

describe('durability', () => {
  it('[SRV-3] kill -9 at random moments mid-stream loses nothing a client was sent', async () => {
    const dataDir = tempDir();
    const work = tempDir();
    dirs.push(dataDir, work);
    const seed = await demoSeed();
    const seedFile = join(work, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(seed));
    const rng = seededRng(20261122);
    const everSeen = new Set<string>();
    let next = 0;

    for (let round = 0; round < 3; round++) {
      const srv = await serve(dataDir, seedFile);
      const { accessToken } = await login(srv.http, 't1');
      const writer = yClient(srv.url, 'course/c1', accessToken);
      const observer = yClient(srv.url, 'course/c1', accessToken);
      await Promise.all([writer.synced, observer.synced]);
      // Whatever survived earlier crashes is all there after the restart.
      for (const k of everSeen)
        expect(observer.doc.getMap('grades').has(k), `${k} after restart ${round}`).toBe(true);

      const seenThisRound = new Set<string>();
      observer.doc.getMap('grades').observe((ev) => {
        for (const k of ev.keysChanged) seenThisRound.add(k);
      });
      let writing = true;
      const pump = (async () => {
        while (writing) {
          // Several small transactions per tick, like a teacher typing grades fast.
          for (let i = 0; i < 5; i++) writer.doc.getMap('grades').set(`k${next++}`, round);
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      await until(() => seenThisRound.size > 50, 'the stream is flowing');
      await new Promise((r) => setTimeout(r, 100 + rng.next() * 400));
      srv.child.kill('SIGKILL');
      await new Promise((r) => srv.child.once('exit', r));
      writing = false;
      await pump;
      // Stop both clients before restarting, so nothing is re-sent: only what the server stored may come back.
      writer.destroy();
      observer.destroy();
      expect(seenThisRound.size).toBeGreaterThan(50);
      for (const k of seenThisRound) everSeen.add(k);
    }

    const srv = await serve(dataDir, seedFile);
    const { accessToken } = await login(srv.http, 't1');
    const check = yClient(srv.url, 'course/c1', accessToken);
    await check.synced;
    const missing = [...everSeen].filter((k) => !check.doc.getMap('grades').has(k));
    expect(missing).toEqual([]);
    check.destroy();
    srv.child.kill('SIGTERM');
    await new Promise((r) => srv.child.once('exit', r));
  });
});

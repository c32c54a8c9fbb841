// Scale-out over a real Redis (Debian's redis-server on a loopback port): two `markbook serve` instances share
// documents and sessions, clients on different instances converge, and one instance killed leaves the other serving.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSeed, login, post, removeDir, tempDir, until, yClient, type YClient } from './server-harness.ts';

const root = join(import.meta.dirname, '..', '..');
const SECRET = 'shared-secret-of-the-site';
const children: ChildProcess[] = [];
const clients: YClient[] = [];
const dirs: string[] = [];
let redisUrl = '';
let seedFile = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

beforeAll(async () => {
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error || which.status !== 0)
    throw new Error(
      'redis-server is not installed: run `apt-get install -y redis-server` (Debian package redis-server)',
    );
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(redis);
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: redis.stdout! });
    rl.on('line', (l) => l.includes('Ready to accept connections') && resolve());
    redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  redisUrl = `redis://127.0.0.1:${port}`;
  const work = tempDir();
  dirs.push(work);
  seedFile = join(work, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(await demoSeed()));
});

afterAll(() => {
  for (const c of clients) c.destroy();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
});

async function instance(
  name: string,
  dataDir: string,
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
      '--redis',
      redisUrl,
      '--instance',
      name,
      '--quiet',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MARKBOOK_TOKEN_SECRET: SECRET },
    },
  );
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`instance ${name} exited with ${code}`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return { child, url, http: url.replace('ws://', 'http://') };
}

function client(url: string, token: string): YClient {
  const c = yClient(url, 'course/c1', token);
  clients.push(c);
  return c;
}

describe('scale-out over Redis', () => {
  it('[SCALE-1] clients on two instances converge; one instance killed leaves the other serving, and it catches up on restart', async () => {
    const dirA = tempDir();
    const dirB = tempDir();
    dirs.push(dirA, dirB);
    const [A, B] = await Promise.all([instance('a', dirA), instance('b', dirB)]);
    expect(await (await fetch(`${A.http}/healthz`)).json()).toMatchObject({ ok: true, redis: 'ok' });

    // One sign-in works on every instance (sessions live in Redis).
    const t1 = await login(A.http, 't1');
    const onA = client(A.url, t1.accessToken);
    const onB = client(B.url, t1.accessToken);
    await Promise.all([onA.synced, onB.synced]);
    for (let i = 0; i < 40; i++) {
      onA.doc.getMap('grades').set(`a${i}`, i);
      onB.doc.getMap('grades').set(`b${i}`, i);
    }
    await until(
      () => onA.doc.getMap('grades').size === 80 && onB.doc.getMap('grades').size === 80,
      'both instances relay to each other',
    );
    expect(onA.doc.getMap('grades').toJSON()).toEqual(onB.doc.getMap('grades').toJSON());

    // Signing out on B closes the session's sockets on A as well.
    const other = await login(B.http, 't1');
    const otherOnA = client(A.url, other.accessToken);
    await otherOnA.synced;
    expect((await post(B.http, '/auth/logout', { refreshToken: other.refreshToken })).status).toBe(200);
    expect(await otherOnA.closedCode).toBe(4401);

    A.child.kill('SIGKILL');
    await new Promise((r) => A.child.once('exit', r));
    onB.doc.getMap('grades').set('afterKill', 'b');
    const late = client(B.url, t1.accessToken);
    await late.synced;
    // (onB's write may still be on its way to disk when `late` syncs; it arrives as an update then.)
    await until(() => late.doc.getMap('grades').size === 81, 'the surviving instance serves everything');
    expect(late.doc.getMap('grades').get('a39')).toBe(39);

    // A comes back on its own store and replays what it missed from Redis.
    const A2 = await instance('a', dirA);
    const back = client(A2.url, t1.accessToken);
    await back.synced;
    await until(() => back.doc.getMap('grades').get('afterKill') === 'b', 'restarted instance catches up');
    back.doc.getMap('grades').set('fromA2', 1);
    await until(() => late.doc.getMap('grades').get('fromA2') === 1, 'restarted instance relays again');
  });
});

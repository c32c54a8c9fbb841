// `markbook backup` / `markbook restore` through the real command line: a restored server has exactly what was
// backed up (documents, accounts, passwords), and damaged or misdirected restores change nothing (OPS-5).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { login, post, removeDir, startTestServer, tempDir, until, yClient } from './server-harness.ts';

const root = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** Runs the real CLI asynchronously (the server under test lives in this process and must keep answering). */
function markbook(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/markbook.js'), ...args], { cwd: root });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('backup and restore', () => {
  it('[OPS-5] a backup taken from a running server restores documents, accounts and passwords', async () => {
    const work = tempDir();
    dirs.push(work);
    const s = await startTestServer({ dataDir: join(work, 'live') });
    const t = await login(s.http, 't1');
    const a = yClient(s.url, 'course/c1', t.accessToken);
    await a.synced;
    for (let i = 0; i < 30; i++) a.doc.getMap('grades').set(`s1|q${i}`, i * 2);
    const check = yClient(s.url, 'course/c1', t.accessToken);
    await until(() => check.doc.getMap('grades').size === 30, 'all grades relayed (so stored)');
    expect(
      (
        await post(
          s.http,
          '/auth/password',
          { currentPassword: 'correct horse battery', newPassword: 'after the backup?' },
          t.accessToken,
        )
      ).status,
    ).toBe(200);
    const admin = await login(s.http, 'admin');
    const file = join(work, 'site.backup');
    const b = await markbook('backup', '--server', s.http, '--token', admin.accessToken, '--out', file);
    expect(b.err).toBe('');
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out)).toMatchObject({ out: file });
    // Changes after the backup are not in it.
    a.doc.getMap('grades').set('late', 1);
    await until(() => check.doc.getMap('grades').has('late'), 'late change stored');
    a.destroy();
    check.destroy();
    await s.close();

    const restored = join(work, 'restored');
    const r = await markbook('restore', file, '--data-dir', restored);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).entries).toBe(JSON.parse(b.out).entries);
    const s2 = await startTestServer({ dataDir: restored });
    expect(
      (await post(s2.http, '/auth/login', { username: 't1', password: 'correct horse battery' })).status,
    ).toBe(401);
    const t2 = await login(s2.http, 't1', 'after the backup?');
    const c = yClient(s2.url, 'course/c1', t2.accessToken);
    await c.synced;
    expect(c.doc.getMap('grades').size).toBe(30);
    expect(c.doc.getMap('grades').get('s1|q29')).toBe(58);
    expect(c.doc.getMap('grades').has('late')).toBe(false);
    c.destroy();
    await s2.close();
  });

  it('[OPS-5] damaged backups, occupied data dirs and running servers are refused without changing anything', async () => {
    const work = tempDir();
    dirs.push(work);
    const live = join(work, 'live');
    const s = await startTestServer({ dataDir: live });
    const running = await markbook('backup', '--data-dir', live, '--out', join(work, 'x.backup'));
    expect(running.code).not.toBe(0);
    expect(running.err).toMatch(/is a server running on it/);
    expect(existsSync(join(work, 'x.backup'))).toBe(false);
    await s.close();

    const file = join(work, 'offline.backup');
    const b = await markbook('backup', '--data-dir', live, '--out', file);
    expect(b.code).toBe(0);
    const occupied = await markbook('restore', file, '--data-dir', live);
    expect(occupied.code).not.toBe(0);
    expect(occupied.err).toMatch(/not empty; pass --force/);

    const lines = readFileSync(file, 'utf8').split('\n');
    const damaged = join(work, 'damaged.backup');
    lines[3] = lines[3]!.replace(/"v":"./, '"v":"A');
    writeFileSync(damaged, lines.join('\n'));
    const target = join(work, 'target');
    const bad = await markbook('restore', damaged, '--data-dir', target);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/checksum mismatch/);
    expect(existsSync(target)).toBe(false);
    const truncated = join(work, 'truncated.backup');
    writeFileSync(truncated, lines.slice(0, 5).join('\n'));
    expect((await markbook('restore', truncated, '--data-dir', target)).err).toMatch(/truncated/);

    const forced = await markbook('restore', file, '--data-dir', live, '--force');
    expect(forced.code).toBe(0);
    const s2 = await startTestServer({ dataDir: live });
    expect((await login(s2.http, 's1')).user.id).toBe('s1');
    await s2.close();
  });
});

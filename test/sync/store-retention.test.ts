// Retention of the server's audit log (OPS-4): entries older than the retention period are deleted from the real
// LevelDB store, newer ones stay in order; a server starting over an old store trims it. No mocks: a Store in a
// temp directory and a real server on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../sync-server/store.ts';
import { login, removeDir, startTestServer, tempDir, until } from './server-harness.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('audit retention', () => {
  it('[OPS-4] trimming deletes entries written before the cut-off and keeps the rest', async () => {
    const dir = tempDir('mb-audit-');
    cleanups.push(() => removeDir(dir));
    const store = await Store.open(dir);
    cleanups.push(() => store.close());
    const day = 86_400_000;
    const now = Date.UTC(2026, 10, 22);
    for (const age of [500, 400, 366, 364, 10, 0]) await store.audit({ at: now - age * day, event: 'login', userId: `u${age}` });
    expect(await store.trimAudit(now - 365 * day)).toBe(3);
    const left = await store.readAudit();
    expect(left.map((e) => e.userId)).toEqual(['u364', 'u10', 'u0']);
    expect(await store.trimAudit(now - 365 * day)).toBe(0);
  });
  it('[OPS-4] a server started over a store with year-old audit entries deletes them and keeps recent ones', async () => {
    const dir = tempDir('mb-audit-srv-');
    cleanups.push(() => removeDir(dir));
    const day = 86_400_000;
    const store = await Store.open(dir);
    await store.audit({ at: Date.now() - 400 * day, event: 'login', userId: 'ancient' });
    await store.audit({ at: Date.now() - 30 * day, event: 'login', userId: 'recent' });
    await store.close();
    const s = await startTestServer({ dataDir: dir, auditRetentionDays: 365 });
    cleanups.push(() => s.close());
    const admin = await login(s.http, 'admin');
    const read = async () => {
      const r = await fetch(`${s.http}/admin/audit`, { headers: { authorization: `Bearer ${admin.accessToken}` } });
      return ((await r.json()) as { entries: { userId?: string }[] }).entries.map((e) => e.userId);
    };
    await until(async () => !(await read()).includes('ancient'), 'the year-old entry trimmed');
    expect(await read()).toContain('recent');
  });
});

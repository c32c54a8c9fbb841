// Retention of the server's audit log (OPS-4): entries older than the retention period are deleted from the real
// LevelDB store, newer ones stay in order. No mocks: a Store in a temp directory.
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../sync-server/store.ts';
import { removeDir, tempDir } from './server-harness.ts';

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
});

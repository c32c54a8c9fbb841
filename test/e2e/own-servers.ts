// A spec's own sync and app servers (demo seed, a temp data dir) on loopback over the shared build/, for specs that
// change the demo data or need other server settings than the suite's (e.g. short-lived access tokens).
import { test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { demoSeed } from '../../bin/demo-seed.ts';
import { startSyncServer } from '../../sync-server/server.ts';
import { startStaticServer } from '../../sync-server/static.ts';

const root = resolve(import.meta.dirname, '../..');

/** Starts the servers before the spec's tests and stops them after; returns the app's base URL. */
export function ownServers(name: string, port: number, options: { accessTtlSec?: number } = {}): string {
  const baseURL = `http://127.0.0.1:${port}`;
  let servers: { close(): Promise<void> }[] = [];
  let dataDir = '';
  test.beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), `markbook-${name}-e2e-`));
    const sync = await startSyncServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      appOrigins: [baseURL],
      ...(options.accessTtlSec ? { accessTtlSec: options.accessTtlSec } : {}),
      seed: demoSeed(),
    });
    const app = await startStaticServer({ root: join(root, 'build'), port, syncUrl: `ws://127.0.0.1:${sync.port}` });
    servers = [app, sync];
  });
  test.afterAll(async () => {
    for (const s of servers) await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return baseURL;
}

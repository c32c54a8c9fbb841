// The `npm start` process: (re)build the app if needed, start the sync server and the app server,
// print where they are and how to sign in, and stop both cleanly on Ctrl-C.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_PASSWORD, buildDemoSite } from '../src/lib/domain/interchange/demo.ts';
import { startSyncServer } from '../sync-server/server.ts';
import { startStaticServer } from '../sync-server/static.ts';
import { demoSeed } from './demo-seed.ts';

const root = resolve(import.meta.dirname, '..');
const host = process.env.HOST ?? '127.0.0.1';
const appPort = Number(process.env.PORT ?? 4173);
const syncPort = Number(process.env.SYNC_PORT ?? 4174);
const dataDir = resolve(process.env.MARKBOOK_DATA ?? join(root, 'data'));
/** Change-log entries before the server re-bases a course document (SRV-REBASE); unset = the server's 50,000. */
const rebaseAfterEntries = positiveIntEnv('MARKBOOK_REBASE_AFTER');

function positiveIntEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a whole number of at least 1 (got "${v}").`);
    process.exit(2);
  }
  return n;
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(path)) if (e !== 'tfjs-wasm') newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

function buildIfNeeded(): void {
  const stamp = join(root, 'build', '.built');
  const sources = Math.max(
    ...['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'].map((p) => newestMtime(join(root, p))),
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  console.log('Building the app (first start, or sources changed)…');
  const t0 = Date.now();
  const r = spawnSync(join(root, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('The build failed; see the messages above.');
    process.exit(1);
  }
  writeFileSync(stamp, String(Date.now()));
  console.log(`Built in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
}

const t0 = Date.now();
buildIfNeeded();
const fresh = !existsSync(dataDir) || readdirSync(dataDir).length === 0;
mkdirSync(dataDir, { recursive: true });
const appOrigins = [`http://${host}:${appPort}`, `http://localhost:${appPort}`, `http://127.0.0.1:${appPort}`];
const sync = await startSyncServer({
  host,
  port: syncPort,
  dataDir,
  seed: fresh ? demoSeed() : undefined,
  appOrigins,
  ...(rebaseAfterEntries !== undefined ? { rebaseAfterEntries } : {}),
});
const app = await startStaticServer({ root: join(root, 'build'), host, port: appPort, syncUrl: `ws://${host}:${sync.port}` });

const site = buildDemoSite();
const who = (id: string) => site.people.find((p) => p.id === id)!.username;
console.log(`
Markbook is running (started in ${((Date.now() - t0) / 1000).toFixed(1)} s).
  App:          ${app.url}
  Sync server:  ws://${host}:${sync.port}   (health: http://${host}:${sync.port}/healthz)
  Data:         ${dataDir}${fresh ? '  (new: seeded with the demo site)' : ''}

Demo sign-ins (password "${DEMO_PASSWORD}" for everyone):
  admin        site administrator
  ${who('u-t1')}     editing teacher (Physics 101, Modern History)
  ${who('u-t2')}     editing teacher (Physics 101, Calculus I)
  ${who('u-nt')}    non-editing teacher (Physics 101, Calculus I)
  student1 … student40   students

Press Ctrl-C to stop.`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await Promise.allSettled([app.close(), sync.close()]);
  console.log('Stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

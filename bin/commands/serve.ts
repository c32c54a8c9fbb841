// `markbook serve`: runs the sync server until SIGINT/SIGTERM, then shuts down gracefully.
// Prints one JSON line `{url, port, dataDir}` on stdout when ready; structured logs go to stderr as JSON lines.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { flagNumber, flagString, parseArgs, UsageError } from './cli-util.ts';
import { startSyncServer, type SeedData } from '../../sync-server/server.ts';

const USAGE = `usage: markbook serve [--port 4174] [--host 127.0.0.1] [--data-dir ./data] [--seed seed.json]
       [--redis redis://127.0.0.1:6379] [--origin http://127.0.0.1:4173,...] [--instance name]
       [--cohort-minutes 15 (0: on demand only)] [--quiet]
  The token secret can be given in MARKBOOK_TOKEN_SECRET (all instances of one site must share it).
  seed.json: {"accounts":[...],"courseRoles":[...],"courses":[...],"docs":[{"room":"course/c1","update":"<base64>"}]}`;

/** Reads a seed file; document updates are base64 strings in JSON. */
export function readSeedFile(file: string): SeedData {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--seed ${file}: ${(e as Error).message}`);
  }
  const v = raw as Partial<SeedData> & { docs?: Array<{ room: string; update: string }> };
  if (typeof v !== 'object' || v === null) throw new UsageError(`--seed ${file}: $ must be an object`);
  return {
    accounts: v.accounts ?? [],
    courseRoles: v.courseRoles ?? [],
    courses: v.courses ?? [],
    docs: (v.docs ?? []).map((d, i) => {
      if (typeof d.update !== 'string')
        throw new UsageError(`--seed ${file}: $.docs[${i}].update must be a base64 string`);
      return { room: d.room, update: new Uint8Array(Buffer.from(d.update, 'base64')) };
    }),
  };
}

export async function main(args: string[]): Promise<number> {
  const p = parseArgs(args, ['quiet', 'help']);
  if (p.flags.has('help')) {
    process.stderr.write(USAGE + '\n');
    return 0;
  }
  try {
    const port = flagNumber(p, 'port') ?? 4174;
    const dataDir = resolve(flagString(p, 'data-dir') ?? process.env.MARKBOOK_DATA ?? 'data');
    const seedFile = flagString(p, 'seed');
    const origins = flagString(p, 'origin');
    const quiet = p.flags.has('quiet');
    const server = await startSyncServer({
      host: flagString(p, 'host') ?? '127.0.0.1',
      port,
      dataDir,
      seed: seedFile ? readSeedFile(seedFile) : undefined,
      redisUrl: flagString(p, 'redis'),
      tokenSecret: process.env.MARKBOOK_TOKEN_SECRET || undefined,
      appOrigins: origins ? origins.split(',').map((s) => s.trim()) : undefined,
      instanceId: flagString(p, 'instance'),
      cohortJobIntervalMs: (flagNumber(p, 'cohort-minutes') ?? 15) * 60_000,
      log: quiet
        ? undefined
        : (e) => process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n'),
    });
    process.stdout.write(JSON.stringify({ url: server.url, port: server.port, dataDir }) + '\n');
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        server.close().then(done, (e) => {
          process.stderr.write(`markbook serve: shutdown failed: ${String(e)}\n`);
          done();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`markbook serve: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

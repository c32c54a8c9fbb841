// `markbook backup`: writes a whole-store backup file, from a stopped server's data dir or a running server.
// Never writes anywhere but --out (written aside, then renamed); never prints secrets.
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { flagString, parseArgs, printJson, UsageError } from './cli-util.ts';
import { Store } from '../../sync-server/store.ts';
import { backupStream } from '../../sync-server/backup.ts';

const USAGE = `usage: markbook backup --out <file> (--data-dir <dir> | --server http://host:port [--token <admin token> | --username <admin>])
  --data-dir reads a stopped server's store; --server asks a running one (GET /admin/backup, site admin).
  With --username the password is read from MARKBOOK_PASSWORD.`;

async function tokenFor(server: string, username: string): Promise<string> {
  const password = process.env.MARKBOOK_PASSWORD;
  if (!password) throw new UsageError('--username needs the password in MARKBOOK_PASSWORD');
  const r = await fetch(`${server}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await r.json().catch(() => ({}))) as { accessToken?: string; error?: string };
  if (!r.ok || !body.accessToken) throw new Error(`sign-in to ${server} failed: ${body.error ?? r.status}`);
  return body.accessToken;
}

export async function main(args: string[]): Promise<number> {
  const p = parseArgs(args);
  try {
    const outFlag = flagString(p, 'out');
    if (!outFlag) throw new UsageError('--out is required');
    const out = resolve(outFlag);
    const dataDir = flagString(p, 'data-dir');
    const server = flagString(p, 'server')?.replace(/^ws/, 'http').replace(/\/+$/, '');
    if (!dataDir === !server) throw new UsageError('give exactly one of --data-dir and --server');
    const tmp = `${out}.partial-${process.pid}`;
    const file = createWriteStream(tmp);
    try {
      if (dataDir) {
        if (!existsSync(dataDir)) throw new UsageError(`--data-dir ${dataDir}: no such directory`);
        const store = await Store.open(resolve(dataDir));
        try {
          for await (const line of backupStream(store, Date.now()))
            if (!file.write(line)) await once(file, 'drain');
        } finally {
          await store.close();
        }
      } else {
        const username = flagString(p, 'username');
        const token = flagString(p, 'token') ?? (username ? await tokenFor(server!, username) : undefined);
        if (!token) throw new UsageError('--server needs --token or --username');
        const r = await fetch(`${server}/admin/backup`, { headers: { authorization: `Bearer ${token}` } });
        if (!r.ok || !r.body)
          throw new Error(`${server}/admin/backup answered ${r.status}: ${await r.text()}`);
        for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>)
          if (!file.write(chunk)) await once(file, 'drain');
      }
      file.end();
      await once(file, 'finish');
      // A complete backup ends with the trailer line; refuse to keep a truncated one.
      const text = readFileSync(tmp, 'utf8').trimEnd();
      const trailer = JSON.parse(text.slice(text.lastIndexOf('\n') + 1)) as { end?: boolean; count?: number };
      if (trailer.end !== true) throw new Error('backup stream ended early (no end marker)');
      renameSync(tmp, out);
      printJson({ out, entries: trailer.count, bytes: statSync(out).size });
      return 0;
    } catch (e) {
      file.destroy();
      rmSync(tmp, { force: true });
      throw e;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`markbook backup: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

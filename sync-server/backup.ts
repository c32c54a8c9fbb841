// Whole-store backups as NDJSON (header, one line per key, trailer with count and checksum) and their restore.
// A restore is all-or-nothing: it builds the new data dir aside and swaps it in only when every line checked out.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, basename, join } from 'node:path';
import { Store } from './store.ts';

export const BACKUP_FORMAT = 'markbook-backup';
export const BACKUP_VERSION = 1;

interface Header {
  format: string;
  version: number;
  createdAt: number;
}
interface Trailer {
  end: true;
  count: number;
  sha256: string;
}

/** Yields the backup file line by line (each ends with a newline), from one consistent store snapshot. */
export async function* backupStream(store: Store, nowMs: number): AsyncGenerator<string> {
  const header: Header = { format: BACKUP_FORMAT, version: BACKUP_VERSION, createdAt: nowMs };
  yield JSON.stringify(header) + '\n';
  const hash = createHash('sha256');
  let count = 0;
  for await (const [k, v] of store.entries()) {
    const line = JSON.stringify({ k, v: Buffer.from(v).toString('base64') });
    hash.update(line);
    count++;
    yield line + '\n';
  }
  const trailer: Trailer = { end: true, count, sha256: hash.digest('hex') };
  yield JSON.stringify(trailer) + '\n';
}

/** Restores a backup file into `dataDir`. Refuses a non-empty dir unless `force`. Returns the number of entries. */
export async function restoreBackup(
  file: string,
  dataDir: string,
  opts: { force?: boolean } = {},
): Promise<number> {
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0 && !opts.force)
    throw new Error(`${dataDir} is not empty; pass --force to replace it`);
  if (existsSync(join(dataDir, 'level'))) {
    // Refuse while a server holds the store: opening takes LevelDB's lock, or fails naming the holder.
    const current = await Store.open(dataDir);
    await current.close();
  }
  const staging = join(dirname(dataDir), `.${basename(dataDir)}.restore-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const store = await Store.open(staging);
  let count = 0;
  try {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    const hash = createHash('sha256');
    let lineNo = 0;
    let header: Header | null = null;
    let trailer: Trailer | null = null;
    let batch: Array<[string, Uint8Array]> = [];
    for await (const line of lines) {
      lineNo++;
      if (line === '') continue;
      if (trailer) throw new Error(`${file} line ${lineNo}: data after the end marker`);
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`${file} line ${lineNo}: not JSON`);
      }
      if (!header) {
        if (v.format !== BACKUP_FORMAT)
          throw new Error(`${file} line 1: not a Markbook backup (format is ${JSON.stringify(v.format)})`);
        if (v.version !== BACKUP_VERSION)
          throw new Error(`${file} line 1: backup version ${String(v.version)} is not supported`);
        header = v as unknown as Header;
        continue;
      }
      if (v.end === true) {
        trailer = v as unknown as Trailer;
        continue;
      }
      if (typeof v.k !== 'string' || typeof v.v !== 'string')
        throw new Error(`${file} line ${lineNo}: entry needs string "k" and "v"`);
      hash.update(line);
      batch.push([v.k, new Uint8Array(Buffer.from(v.v, 'base64'))]);
      count++;
      if (batch.length >= 1000) {
        await store.putRaw(batch);
        batch = [];
      }
    }
    if (!header) throw new Error(`${file}: empty file`);
    if (!trailer) throw new Error(`${file}: truncated (no end marker)`);
    if (trailer.count !== count)
      throw new Error(`${file}: end marker says ${trailer.count} entries, found ${count}`);
    if (trailer.sha256 !== hash.digest('hex')) throw new Error(`${file}: checksum mismatch (file damaged)`);
    if (batch.length) await store.putRaw(batch);
    await store.close();
  } catch (e) {
    await store.close();
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(staging, dataDir);
  return count;
}

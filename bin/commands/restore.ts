// `markbook restore <file> --data-dir <dir> [--force]`: checks a backup whole, then swaps it in as the data dir.
// Never touches a running server's store (LevelDB's lock refuses) and never leaves a half-restored dir.
import { resolve } from 'node:path';
import { flagString, parseArgs, printJson, UsageError } from './cli-util.ts';
import { restoreBackup } from '../../sync-server/backup.ts';

const USAGE = 'usage: markbook restore <backup file> --data-dir <dir> [--force]   (stop the server first)';

export async function main(args: string[]): Promise<number> {
  const p = parseArgs(args, ['force']);
  try {
    const file = p.positional[0];
    if (!file) throw new UsageError('the backup file is required');
    const dataDir = flagString(p, 'data-dir') ?? process.env.MARKBOOK_DATA;
    if (!dataDir) throw new UsageError('--data-dir is required');
    const entries = await restoreBackup(resolve(file), resolve(dataDir), { force: p.flags.has('force') });
    printJson({ dataDir: resolve(dataDir), entries });
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`markbook restore: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

// `npm run bench [-- name ...]`: runs every test/bench/*.bench.ts (or those named) in turn.
// Each bench module exports `run(): Promise<void>` and prints its own figures and ratios.
// Benchmarks measure; they never pass or fail on speed (that is what the figures are for).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}`);
  process.exit(2);
}
for (const f of files) {
  console.log(`\n=== ${f.replace('.bench.ts', '')} ===`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run: () => Promise<void> };
  const t0 = performance.now();
  await mod.run();
  console.log(`(${f}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
// A benchmark may leave a handle open (a worker, a socket in TIME_WAIT, a timer): the run ends here regardless.
process.exit(0);

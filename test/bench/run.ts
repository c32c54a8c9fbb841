// `npm run bench [-- name ...]`: runs every test/bench/*.bench.ts (or those named, exactly or by prefix) in turn.
// Each bench module exports `run(): Promise<void>` and prints its own figures and ratios.
// Benchmarks measure; they never pass or fail on speed (that is what the figures are for).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(here).filter((f) => f.endsWith('.bench.ts'));
// A name picks its own benchmark when one is called exactly that (`analytics` is not also `analytics-app`);
// otherwise every benchmark whose name starts with it.
const pick = (w: string): string[] =>
  all.includes(`${w}.bench.ts`) ? [`${w}.bench.ts`] : all.filter((f) => f.startsWith(w));
const files = [...new Set(wanted.length === 0 ? all : wanted.flatMap(pick))].sort();

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

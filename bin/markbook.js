#!/usr/bin/env node
// The `markbook` command: dispatches to bin/commands/<name>.ts, run through tsx so that
// `npx markbook ...` works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

const COMMANDS = {
  report: 'report.ts',
  formula: 'formula.ts',
  cohorts: 'cohorts.ts',
  analytics: 'analytics.ts',
  import: 'import.ts',
  export: 'export.ts',
  backup: 'backup.ts',
  restore: 'restore.ts',
  serve: 'serve.ts',
  seed: 'seed.ts',
};

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !(name in COMMANDS)) {
  const list = Object.keys(COMMANDS).join(', ');
  if (name && name !== '--help' && name !== '-h') process.stderr.write(`markbook: unknown command "${name}"\n`);
  process.stderr.write(`usage: markbook <command> [args]\ncommands: ${list}\n`);
  process.exit(name === '--help' || name === '-h' ? 0 : 2);
}

register();
const file = fileURLToPath(new URL(`./commands/${COMMANDS[name]}`, import.meta.url));
let mod;
try {
  mod = await import(file);
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(COMMANDS[name])) {
    process.stderr.write(`markbook: command "${name}" is not available in this build\n`);
    process.exit(2);
  }
  throw e;
}
try {
  const code = await mod.main(args);
  process.exitCode = typeof code === 'number' ? code : 0;
} catch (e) {
  process.stderr.write(`markbook ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}

// `markbook formula "<formula>" [--vars '{"name": number}']`: evaluates one formula with Moodle's calculator rules.
// Prints a JSON number on stdout; errors go to stderr with a non-zero exit. Never writes files (SPEC.md FRM-30).
import { seededRng } from '../../src/lib/domain/shared/clock.ts';
import { compileFormula, compileGradebookFormula, FormulaError } from '../../src/lib/domain/formula/index.ts';
import { flagString, parseArgs, printJson, UsageError } from './cli-util.ts';

const USAGE = `usage: markbook formula "<formula>" [--vars '{"name": number}']`;
const PLAIN_NAME = /^[a-z][a-z0-9_]*$/;

/** Parses --vars: a JSON object of finite numbers; in plain formulas keys must be lower-case names. */
function parseVars(text: string | undefined, gradebook: boolean): Record<string, number> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--vars: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('--vars: must be a JSON object such as {"a": 1}');
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new UsageError(`--vars.${k}: must be a finite number, got ${JSON.stringify(v)}`);
    }
    if (!gradebook && !PLAIN_NAME.test(k)) {
      throw new UsageError(
        `--vars.${k}: variable names are lower-case letters, digits and _, starting with a letter`,
      );
    }
    out[k] = v;
  }
  return out;
}

export async function main(args: string[]): Promise<number> {
  try {
    const p = parseArgs(args);
    if (p.flags.has('help')) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    for (const key of p.flags.keys()) {
      if (key !== 'vars') throw new UsageError(`unknown option --${key}\n${USAGE}`);
    }
    if (p.positional.length !== 1) {
      throw new UsageError(
        p.positional.length === 0
          ? `missing the formula\n${USAGE}`
          : `expected one formula, got ${p.positional.length} arguments (quote the formula)\n${USAGE}`,
      );
    }
    const source = p.positional[0]!;
    const gradebook = source.includes('[[');
    const vars = parseVars(flagString(p, 'vars'), gradebook);
    // rand_int()/rand_float() need a random source; the command line is an adapter and may use one.
    const rng = seededRng(Math.floor(Math.random() * 2 ** 32));
    if (gradebook) {
      const f = compileGradebookFormula(source, { rng });
      printJson(f.evaluateRefs(new Map(Object.entries(vars))));
    } else {
      printJson(compileFormula(source, { rng }).evaluate(vars));
    }
    return 0;
  } catch (e) {
    if (e instanceof FormulaError) {
      process.stderr.write(`markbook formula: ${e.kind.replace(/_/g, ' ')} error: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`markbook formula: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

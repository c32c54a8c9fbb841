// `markbook import <course.json> <file.csv|file.xml> [...]`: plans a grade import and prints it as JSON
// (SPEC-import-export.md, CLI-1). Writes the updated course only with --out and only when the plan is clean.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseCourseJson, serialiseCourseJson } from '../../src/lib/domain/interchange/course-json.ts';
import {
  applyImportPlan,
  csvHeaders,
  planCsvImport,
  suggestMapping,
  validateImportMapping,
  type DirectoryUser,
  type ImportMapping,
  type ImportOptions,
  type ImportPlan,
} from '../../src/lib/domain/interchange/grade-import.ts';
import { planXmlImport } from '../../src/lib/domain/interchange/moodle-xml.ts';
import type { CsvDelimiter } from '../../src/lib/domain/interchange/spreadsheet.ts';
import { Gradebook } from '../../src/lib/domain/gradebook/index.ts';
import { ValidationError } from '../../src/lib/domain/shared/errors.ts';
import { flagNumber, flagString, parseArgs, printJson, UsageError } from './cli-util.ts';

const USAGE = `usage: markbook import <course.json> <file.csv|file.xml> [--map mapping.json] [--out new-course.json]
  [--directory directory.json] [--format csv|xml] [--now <unix seconds>] [--delimiter , | ; | tab | :]
  [--decimal . | ,] [--empty skip|clear] [--scale-positions] [--out-of-range error|clamp] [--group G] [--force]`;

const FLAGS = [
  'map',
  'out',
  'directory',
  'format',
  'now',
  'delimiter',
  'decimal',
  'empty',
  'scale-positions',
  'out-of-range',
  'force',
  'group',
  'help',
];
const BOOLEAN = ['scale-positions', 'force', 'help'];

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} "${file}" (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

function readJson(file: string, what: string): unknown {
  const text = readText(file, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ValidationError([{ at: `${file}: $`, message: `not valid JSON: ${(e as Error).message}` }]);
  }
}

/** A user directory: an array of {id, username?, email?, idnumber?}, or a site JSON document's `users`. */
export function readDirectory(file: string): DirectoryUser[] {
  const data = readJson(file, 'user directory');
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object' && Array.isArray((data as { users?: unknown }).users)
      ? (data as { users: unknown[] }).users
      : null;
  if (!list)
    throw new ValidationError([
      { at: `${file}: $`, message: 'must be an array of users or a site document with "users"' },
    ]);
  const problems: { at: string; message: string }[] = [];
  const out: DirectoryUser[] = [];
  list.forEach((u, i) => {
    const at = `${file}: $${Array.isArray(data) ? '' : '.users'}[${i}]`;
    if (!u || typeof u !== 'object') return problems.push({ at, message: 'must be an object' });
    const r = u as Record<string, unknown>;
    if (typeof r.id !== 'string' && typeof r.id !== 'number')
      return problems.push({ at: `${at}.id`, message: 'is required (the user id used in the course)' });
    const d: DirectoryUser = { id: String(r.id) };
    for (const k of ['username', 'email', 'idnumber'] as const) {
      if (r[k] === undefined || r[k] === null) continue;
      if (typeof r[k] !== 'string') problems.push({ at: `${at}.${k}`, message: 'must be a string' });
      else d[k] = r[k];
    }
    out.push(d);
  });
  if (problems.length) throw new ValidationError(problems);
  return out;
}

function choice<T extends string>(
  p: ReturnType<typeof parseArgs>,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const v = flagString(p, name);
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T))
    throw new UsageError(`--${name}: must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

export async function main(args: string[]): Promise<number> {
  try {
    const p = parseArgs(args, BOOLEAN);
    if (p.flags.has('help')) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    for (const k of p.flags.keys())
      if (!FLAGS.includes(k)) throw new UsageError(`unknown option --${k}\n${USAGE}`);
    if (p.positional.length !== 2)
      throw new UsageError(
        `expected a course file and a grades file, got ${p.positional.length} argument(s)\n${USAGE}`,
      );
    const [courseFile, dataFile] = p.positional as [string, string];
    const format = choice(p, 'format', ['csv', 'xml'] as const) ?? (/\.xml$/i.test(dataFile) ? 'xml' : 'csv');
    const delimiterFlag = flagString(p, 'delimiter');
    const delimiter: CsvDelimiter | 'auto' =
      delimiterFlag === undefined
        ? 'auto'
        : delimiterFlag === 'tab'
          ? '\t'
          : (([',', ';', ':', '\t'] as const).find((d) => d === delimiterFlag) ??
            (() => {
              throw new UsageError(`--delimiter: must be , ; : or tab, got "${delimiterFlag}"`);
            })());
    // The command line is an adapter: it may read the clock when --now is not given.
    const nowFlag = flagNumber(p, 'now');
    if (nowFlag !== undefined && (!Number.isInteger(nowFlag) || nowFlag < 0))
      throw new UsageError(`--now: "${nowFlag}" is not unix seconds`);
    const now = nowFlag ?? Math.floor(Date.now() / 1000);

    let stage = courseFile;
    try {
      const course = parseCourseJson(readText(courseFile, 'course file'));
      const mapFile = flagString(p, 'map');
      const usersFile = flagString(p, 'directory');
      stage = usersFile ?? courseFile;
      const directory = usersFile ? readDirectory(usersFile) : undefined;
      stage = mapFile ?? dataFile;
      const text = readText(dataFile, 'grades file');
      const grades = new Gradebook(course, { now });
      const opts: ImportOptions = {
        now,
        grades,
        delimiter,
        decimalSeparator: choice(p, 'decimal', ['.', ','] as const),
        emptyCells: choice(p, 'empty', ['skip', 'clear'] as const),
        outOfRange: choice(p, 'out-of-range', ['error', 'clamp'] as const),
        verboseScales: !p.flags.has('scale-positions'),
        force: p.flags.has('force'),
      };
      if (directory) opts.directory = directory;
      const group = flagString(p, 'group');
      if (group !== undefined) opts.group = group;
      let plan: ImportPlan;
      let mapping: ImportMapping | null = null;
      if (format === 'xml') {
        plan = planXmlImport(text, course, directory, opts);
      } else {
        mapping = mapFile
          ? validateImportMapping(readJson(mapFile, 'mapping file'))
          : suggestMapping(csvHeaders(text, delimiter), course, directory);
        stage = dataFile;
        plan = planCsvImport(text, course, mapping, opts);
      }
      const out = flagString(p, 'out');
      let written: string | null = null;
      if (plan.ok && out) {
        const next = applyImportPlan(course, plan);
        // Write beside the target, then rename: a crash never leaves half a course file.
        const tmp = `${out}.tmp-${process.pid}`;
        writeFileSync(tmp, serialiseCourseJson(next, 2) + '\n');
        renameSync(tmp, out);
        written = out;
      }
      printJson({ ...plan, format, mapping, written });
      if (!plan.ok) {
        for (const pr of plan.problems.slice(0, 50))
          process.stderr.write(`markbook import: ${dataFile}: ${pr.at}: ${pr.message}\n`);
        if (plan.problems.length > 50)
          process.stderr.write(
            `markbook import: ... and ${plan.problems.length - 50} more (see the JSON output)\n`,
          );
        if (out)
          process.stderr.write(`markbook import: nothing written to ${out}: the import has problems\n`);
        return 1;
      }
      return 0;
    } catch (e) {
      if (e instanceof ValidationError) {
        for (const pr of e.problems.slice(0, 50))
          process.stderr.write(
            `markbook import: ${pr.at.includes(': ') ? '' : `${stage}: `}${pr.at}: ${pr.message}\n`,
          );
        return 1;
      }
      throw e;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`markbook import: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

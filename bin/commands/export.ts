// `markbook export <course.json> --format csv|xlsx|ods|json --out <file> [...]`: writes a grade export and prints
// its summary as JSON (SPEC-import-export.md, CLI-2). Writes only the --out file; never changes the course.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseCourseJson } from '../../src/lib/domain/interchange/course-json.ts';
import {
  EXPORT_DISPLAYS,
  EXPORT_FORMATS,
  exportCourseJson,
  exportGrades,
  exportToCsv,
  exportToOds,
  exportToXlsx,
  type ExportDisplay,
  type ExportFormat,
  type ExportOptions,
  type IdentityField,
} from '../../src/lib/domain/interchange/grade-export.ts';
import { readDirectory } from './import.ts';
import { Gradebook } from '../../src/lib/domain/gradebook/index.ts';
import { ValidationError } from '../../src/lib/domain/shared/errors.ts';
import { flagNumber, flagString, parseArgs, printJson, UsageError } from './cli-util.ts';

const USAGE = `usage: markbook export <course.json> --format csv|xlsx|ods|json --out <file>
  [--group G] [--category C] [--items a,b] [--users u1,u2] [--display real|percentage|letter[,...]]
  [--feedback] [--no-totals] [--decimals 0..5] [--delimiter , | ; | tab] [--now <unix seconds>]
  [--directory directory.json --identity email,idnumber,username]`;

const FLAGS = [
  'format',
  'out',
  'group',
  'category',
  'items',
  'users',
  'display',
  'feedback',
  'no-totals',
  'decimals',
  'delimiter',
  'now',
  'directory',
  'identity',
  'help',
];
const BOOLEAN = ['feedback', 'no-totals', 'help'];

function list(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
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
    if (p.positional.length !== 1)
      throw new UsageError(`expected one course file, got ${p.positional.length}\n${USAGE}`);
    const courseFile = p.positional[0]!;
    const out = flagString(p, 'out');
    if (!out) throw new UsageError(`--out <file> is required\n${USAGE}`);
    const formatFlag = flagString(p, 'format') ?? /\.([a-z]+)$/i.exec(out)?.[1]?.toLowerCase();
    if (!formatFlag || !EXPORT_FORMATS.includes(formatFlag as ExportFormat))
      throw new UsageError(
        `--format: must be one of ${EXPORT_FORMATS.join(', ')}, got "${formatFlag ?? ''}"`,
      );
    const format = formatFlag as ExportFormat;
    const display = list(flagString(p, 'display'));
    for (const d of display ?? [])
      if (!EXPORT_DISPLAYS.includes(d as ExportDisplay))
        throw new UsageError(
          `--display: must be ${EXPORT_DISPLAYS.join(', ')} (comma-separated), got "${d}"`,
        );
    const decimals = flagNumber(p, 'decimals');
    const delimiterFlag = flagString(p, 'delimiter');
    const delimiter = delimiterFlag === 'tab' ? '\t' : delimiterFlag;
    if (delimiter !== undefined && delimiter !== ',' && delimiter !== ';' && delimiter !== '\t')
      throw new UsageError(`--delimiter: must be , ; or tab, got "${delimiterFlag}"`);
    // The command line is an adapter: it may read the clock when --now is not given.
    const nowFlag = flagNumber(p, 'now');
    if (nowFlag !== undefined && (!Number.isInteger(nowFlag) || nowFlag < 0))
      throw new UsageError(`--now: "${nowFlag}" is not unix seconds`);
    const now = nowFlag ?? Math.floor(Date.now() / 1000);

    let text: string;
    try {
      text = readFileSync(courseFile, 'utf8');
    } catch (e) {
      throw new UsageError(
        `cannot read course file "${courseFile}" (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      );
    }
    try {
      const course = parseCourseJson(text);
      const opts: ExportOptions = {
        exportedAt: now,
        feedback: p.flags.has('feedback'),
        totals: !p.flags.has('no-totals'),
      };
      const group = flagString(p, 'group');
      const category = flagString(p, 'category');
      const items = list(flagString(p, 'items'));
      const users = list(flagString(p, 'users'));
      if (group !== undefined) opts.group = group;
      if (category !== undefined) opts.category = category;
      if (items) opts.items = items;
      if (users) opts.users = users;
      if (display) opts.display = display as ExportDisplay[];
      if (decimals !== undefined) opts.decimals = decimals;
      const identity = list(flagString(p, 'identity'));
      if (identity) opts.identity = identity as IdentityField[];
      const directoryFile = flagString(p, 'directory');
      if (directoryFile) opts.directory = readDirectory(directoryFile);
      let bytes: Uint8Array | string;
      let summary: object;
      if (format === 'json') {
        const r = exportCourseJson(course, opts);
        bytes = r.text + '\n';
        summary = {
          users: r.users,
          filters: { group: group ?? null, users: users ?? null },
          exportedAt: now,
        };
      } else {
        const exp = exportGrades(course, new Gradebook(course, { now }), opts);
        bytes =
          format === 'csv'
            ? exportToCsv(exp, delimiter ? { delimiter } : {})
            : format === 'xlsx'
              ? exportToXlsx(exp)
              : exportToOds(exp);
        summary = exp.summary;
      }
      const tmp = `${out}.tmp-${process.pid}`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, out);
      printJson({
        format,
        out,
        bytes: typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length,
        ...summary,
      });
      return 0;
    } catch (e) {
      if (e instanceof ValidationError) {
        for (const pr of e.problems.slice(0, 50)) {
          const at = /^(group|category|items|users|display|decimals|identity)/.test(pr.at)
            ? `--${pr.at}`
            : `${courseFile}: ${pr.at}`;
          process.stderr.write(`markbook export: ${at}: ${pr.message}\n`);
        }
        return 1;
      }
      throw e;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`markbook export: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

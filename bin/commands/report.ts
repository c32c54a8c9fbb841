// `markbook report <course.json> [--viewer teacher|student] [--now <unix seconds>]`: the user-report rows of
// every user and the gradebook setup rows, as JSON on stdout (shared/spec/course-json.md). Never writes files.
import { readFileSync } from 'node:fs';
import { parseCourseJson } from '../../src/lib/domain/interchange/course-json.ts';
import { Gradebook } from '../../src/lib/domain/gradebook/index.ts';
import { ValidationError } from '../../src/lib/domain/shared/errors.ts';
import { flagNumber, flagString, parseArgs, printJson, UsageError } from './cli-util.ts';

const USAGE = 'usage: markbook report <course.json> [--viewer teacher|student] [--now <unix seconds>]';

export async function main(args: string[]): Promise<number> {
  try {
    const p = parseArgs(args);
    if (p.flags.has('help')) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    for (const key of p.flags.keys()) {
      if (key !== 'viewer' && key !== 'now') throw new UsageError(`unknown option --${key}\n${USAGE}`);
    }
    if (p.positional.length !== 1)
      throw new UsageError(`expected one course file, got ${p.positional.length}\n${USAGE}`);
    const viewer = flagString(p, 'viewer') ?? 'teacher';
    if (viewer !== 'teacher' && viewer !== 'student') {
      throw new UsageError(`--viewer: must be "teacher" or "student", got "${viewer}"`);
    }
    // The command line is an adapter: it may read the clock when --now is not given.
    const now = flagNumber(p, 'now') ?? Math.floor(Date.now() / 1000);
    const file = p.positional[0]!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(
        `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    const course = parseCourseJson(text);
    const gradebook = new Gradebook(course, { now });
    const rows = gradebook.courseReport({ viewer, now });
    printJson({ rows, setup: gradebook.setupReport() });
    return 0;
  } catch (e) {
    if (e instanceof ValidationError) {
      for (const pr of e.problems.slice(0, 50))
        process.stderr.write(`markbook report: ${pr.at}: ${pr.message}\n`);
      if (e.problems.length > 50)
        process.stderr.write(`markbook report: ... and ${e.problems.length - 50} more\n`);
      return 1;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`markbook report: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

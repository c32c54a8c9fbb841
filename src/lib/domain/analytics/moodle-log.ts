// Imports a Moodle-style activity log CSV (columns of `logstore_standard_log`) into LogEventRow batches.
// Pure; all-or-nothing: one bad row rejects the file, and every problem names its row and column.
import { ValidationError, type Problem } from '../shared/errors.ts';
import type { CsvRecord } from './oulad.ts';
import { ANALYTICS_BATCH_SIZE, toBatches, type Crud, type EduLevel, type LogEventRow } from './types.ts';

/** `\core\event\base::LEVEL_*` numbers as stored in the log table. */
const EDU_LEVELS: Readonly<Record<string, EduLevel>> = {
  '0': 'other',
  '1': 'teaching',
  '2': 'participating',
};
/** Moodle `CONTEXT_MODULE`: the context instance id is then a course-module id. */
const CONTEXT_MODULE = '70';

export const MOODLE_LOG_REQUIRED = [
  'eventname',
  'crud',
  'edulevel',
  'userid',
  'courseid',
  'timecreated',
] as const;

/**
 * [ANA-1.1] Maps log CSV records to rows. `action` defaults to the last part of the event name; the activity is
 * `contextinstanceid` when `contextlevel` is 70 (module). Sequence numbers start at `firstSeq`.
 */
export function importMoodleLog(
  records: readonly CsvRecord[],
  firstSeq: number,
  fileName = 'log.csv',
): { batches: LogEventRow[][]; rows: number } {
  const problems: Problem[] = [];
  const out: LogEventRow[] = [];
  const at = (i: number, col: string) => `${fileName} row ${i + 2}, column "${col}"`;
  if (records.length > 0) {
    for (const col of MOODLE_LOG_REQUIRED)
      if (!(col in records[0]!))
        problems.push({ at: `${fileName} header`, message: `missing column "${col}"` });
    if (problems.length > 0) throw new ValidationError(problems);
  }
  records.forEach((r, i) => {
    const eventname = r['eventname'] ?? '';
    if (!eventname) problems.push({ at: at(i, 'eventname'), message: 'is required' });
    const crud = r['crud'] ?? '';
    if (!['c', 'r', 'u', 'd'].includes(crud))
      problems.push({ at: at(i, 'crud'), message: `"${crud}" is not c, r, u or d` });
    const edu = EDU_LEVELS[r['edulevel'] ?? ''];
    if (!edu) problems.push({ at: at(i, 'edulevel'), message: `"${r['edulevel'] ?? ''}" is not 0, 1 or 2` });
    const userId = r['userid'] ?? '';
    if (!userId) problems.push({ at: at(i, 'userid'), message: 'is required' });
    const courseId = r['courseid'] ?? '';
    if (!courseId) problems.push({ at: at(i, 'courseid'), message: 'is required' });
    const time = Number(r['timecreated']);
    if (!Number.isInteger(time) || time < 0)
      problems.push({ at: at(i, 'timecreated'), message: `"${r['timecreated'] ?? ''}" is not a unix time` });
    const isModule = r['contextlevel'] === CONTEXT_MODULE && !!r['contextinstanceid'];
    out.push({
      seq: firstSeq + i,
      userId,
      courseId,
      activityId: isModule ? r['contextinstanceid']! : null,
      eventName: eventname,
      action: r['action'] || eventname.split('\\').pop()!.split('_').pop()!,
      crud: crud as Crud,
      eduLevel: edu ?? 'other',
      time,
    });
  });
  if (problems.length > 0) throw new ValidationError(problems);
  return { batches: toBatches(out, ANALYTICS_BATCH_SIZE), rows: out.length };
}

// Grade import as a plan (SPEC-import-export.md, IMP-*): map CSV columns to users, grade items and feedback,
// check every cell, and list every change (old -> new) and every problem by row and column. Pure and
// all-or-nothing: planning never changes the course; applyImportPlan returns a new document or throws.
// Follows Moodle's grade/import/csv/classes/load_data.php and grade/import/lib.php where noted.
import type { CourseGrade, CourseItem, CourseJson } from './course-types.ts';
import { validateCourseJson } from './course-json.ts';
import { ValidationError, jsonPath, type Problem } from '../shared/errors.ts';
import { throwIfCancelled, type JobOptions } from '../shared/cancel.ts';
import { parseCsv, type CsvDelimiter } from './spreadsheet.ts';
import { Gradebook, type GradePatch } from '../gradebook/index.ts';
import { formatFloat } from '../gradebook/display.ts';

/** Which user field a column holds (Moodle's "Map from": userid, username, useremail, useridnumber). */
export type UserKey = 'id' | 'username' | 'email' | 'idnumber';
export const USER_KEYS: readonly UserKey[] = ['id', 'username', 'email', 'idnumber'];

/** A user as the site directory knows them; the course JSON itself only has `id` and `name`. */
export interface DirectoryUser {
  id: string;
  username?: string;
  email?: string;
  idnumber?: string;
}

/** Where one column goes. `item` is an item id, idnumber or exact name. */
export type ColumnTarget =
  { kind: 'ignore' } | { kind: 'grade'; item: string } | { kind: 'feedback'; item: string };

/** A column mapping: plain JSON, so the app can remember it per user. Columns not listed are ignored. */
export interface ImportMapping {
  user: { column: string; key: UserKey } | null;
  columns: Record<string, ColumnTarget>;
}

/** The engine's view of the course that planning needs: current finals and locks (the Gradebook fits). */
export interface GradeView {
  final(itemId: string, userId: string): number | null;
  isLocked(itemId: string, userId?: string): boolean;
}

export interface ImportOptions extends JobOptions {
  /** Users with username/email/idnumber, for mappings by those keys. */
  directory?: readonly DirectoryUser[];
  /** Evaluation time (unix seconds) for lock times and the "Last downloaded" check. */
  now?: number;
  /** CSV delimiter; `auto` (default) picks the most frequent of , ; tab : in the header line. */
  delimiter?: CsvDelimiter | 'auto';
  /** The locale's decimal separator ([IMP-6], Moodle unformat_float): with `,` both 7,5 and 7.5 read 7.5. */
  decimalSeparator?: '.' | ',';
  /** [IMP-5] What an empty cell means: `skip` (default, no change) or `clear` (Moodle's behaviour). */
  emptyCells?: 'skip' | 'clear';
  /** [IMP-7] Scale items take labels (default, Moodle "verbose scales") or positions 1..n. */
  verboseScales?: boolean;
  /** [IMP-8] A value outside the item's range: `error` (default) or `clamp` (Moodle bounds it silently). */
  outOfRange?: 'error' | 'clamp';
  /** [IMP-12] Skip the "Last downloaded from this course" date check (Moodle's "Force import"). */
  force?: boolean;
  /** [IMP-3] Only users of this group may be imported (Moodle's separate groups mode, usermappingerrorcurrentgroup). */
  group?: string;
  /** Current finals and locks; default: a Gradebook regraded from the course at `now`. */
  grades?: GradeView;
}

export interface ImportChange {
  item: string;
  user: string;
  field: 'final' | 'feedback';
  old: number | string | null;
  new: number | string | null;
  /** Where it came from: spreadsheet row and column header, or the XML result. */
  at: string;
}

/** A problem with its address; `row`/`column` for CSV, `result`/`element` for XML. */
export interface ImportProblem extends Problem {
  row?: number;
  column?: string;
  result?: number;
  element?: string;
}

export interface ImportPlan {
  /** False when any problem exists: then nothing may be applied. */
  ok: boolean;
  changes: ImportChange[];
  /** Cells whose value equals the current one (not listed). */
  unchanged: number;
  /** Empty cells skipped under emptyCells: 'skip'. */
  skipped: number;
  problems: ImportProblem[];
  /** Data rows (CSV) or results (XML) read. */
  records: number;
  /** Headers not used (ignored by mapping or not mapped). */
  ignoredColumns: string[];
}

/** Moodle's export column for the export time (gradeexport_txt 'timeexported'). */
export const TIME_EXPORTED_HEADER = 'Last downloaded from this course';
/** A year in seconds: Moodle refuses exports dated over a year ago (strtotime("-1 year")). */
const YEAR_SECONDS = 365 * 24 * 3600;
const CHUNK = 200;
/** At most this many problems are kept; a wrong mapping on 100,000 cells would otherwise flood the preview. */
export const MAX_PROBLEMS = 1000;

// ---------------------------------------------------------------------------------------------------------
// Shared context for CSV and XML planning.

export type Resolved = { ok: true; item: CourseItem } | { ok: false; message: string };

/** Everything planning needs about the course, built once. */
export class ImportContext {
  readonly course: CourseJson;
  readonly view: GradeView;
  readonly courseUsers: Set<string>;
  private readonly directoryIndex = new Map<UserKey, Map<string, string[]>>();
  private readonly gradeIndex = new Map<string, CourseGrade>();
  private readonly itemsById = new Map<string, CourseItem>();
  private readonly itemsByIdnumber = new Map<string, CourseItem>();
  private readonly totals = new Map<string, string>();
  private readonly groupsOf = new Map<string, readonly string[]>();
  readonly opts: ImportOptions;

  constructor(course: CourseJson, opts: ImportOptions = {}) {
    this.course = course;
    this.opts = opts;
    this.view = opts.grades ?? new Gradebook(course, { now: opts.now ?? 0 });
    this.courseUsers = new Set<string>();
    for (const u of course.users ?? []) {
      this.courseUsers.add(u.id);
      this.groupsOf.set(u.id, u.groups ?? []);
    }
    for (const g of course.grades) {
      this.courseUsers.add(g.user);
      this.gradeIndex.set(key(g.item, g.user), g);
    }
    for (const it of course.items) {
      this.itemsById.set(it.id, it);
      if (it.idnumber) this.itemsByIdnumber.set(it.idnumber, it);
    }
    for (const c of course.categories) {
      const label = c.parent === null ? 'the course total' : `the total of category "${c.name}"`;
      this.totals.set(c.id, label);
      if (c.idnumber) this.totals.set(c.idnumber, label);
      if (c.parent === null) this.totals.set('course', label);
    }
    const byKey = (k: UserKey, v: string | undefined, id: string): void => {
      if (v === undefined || v === '') return;
      let m = this.directoryIndex.get(k);
      if (!m) this.directoryIndex.set(k, (m = new Map()));
      // [IMP-3] emails match case-insensitively (Moodle's case-sensitive match is MDL-29315).
      const norm = k === 'email' ? v.trim().toLowerCase() : v.trim();
      const ids = m.get(norm);
      if (ids) {
        if (!ids.includes(id)) ids.push(id);
      } else m.set(norm, [id]);
    };
    for (const u of opts.directory ?? []) {
      byKey('username', u.username, u.id);
      byKey('email', u.email, u.id);
      byKey('idnumber', u.idnumber, u.id);
    }
  }

  /** [IMP-3] Finds the course user a cell names, or says why not. */
  findUser(k: UserKey, value: string): { ok: true; id: string } | { ok: false; message: string } {
    const v = value.trim();
    if (v === '') return { ok: false, message: 'no user given (the user column is empty)' };
    let id: string;
    if (k === 'id') id = v;
    else {
      const ids = this.directoryIndex.get(k)?.get(k === 'email' ? v.toLowerCase() : v);
      if (!ids) return { ok: false, message: `no user with ${k} "${v}"` };
      const inCourse = ids.filter((x) => this.courseUsers.has(x));
      if (inCourse.length > 1)
        return { ok: false, message: `${k} "${v}" is shared by users ${inCourse.join(', ')}` };
      id = inCourse[0] ?? ids[0]!;
    }
    if (!this.courseUsers.has(id)) return { ok: false, message: `user "${id}" is not in this course` };
    const group = this.opts.group;
    if (group !== undefined && !this.groupsOf.get(id)?.includes(group))
      return {
        ok: false,
        message: `user "${id}" is not in group "${group}"; you may import only that group`,
      };
    return { ok: true, id };
  }

  /** [IMP-2] Resolves an item reference (id, then idnumber, then exact name); totals cannot be targets. */
  resolveItem(ref: string, field: 'final' | 'feedback'): Resolved {
    const direct = this.itemsById.get(ref) ?? this.itemByIdnumber(ref);
    const found = direct ? [direct] : this.course.items.filter((it) => it.name === ref);
    if (found.length === 0) {
      const total = this.totals.get(ref) ?? (ref === 'Course total' ? 'the course total' : undefined);
      if (total)
        return {
          ok: false,
          message: `${total} is computed by the gradebook and cannot be imported (Moodle offers only grade items as targets)`,
        };
      return { ok: false, message: `no grade item with id, idnumber or name "${ref}"` };
    }
    if (found.length > 1)
      return {
        ok: false,
        message: `"${ref}" names ${found.length} items (${found.map((f) => f.id).join(', ')}); map it by id`,
      };
    const item = found[0]!;
    if (field === 'final' && item.calculation)
      return {
        ok: false,
        message: `"${item.name}" is a calculated item: its grades come from its formula and cannot be imported`,
      };
    return { ok: true, item };
  }

  /** The item with this idnumber (unique in a course, course-json.ts validates it). */
  itemByIdnumber(idnumber: string): CourseItem | undefined {
    return this.itemsByIdnumber.get(idnumber);
  }

  grade(item: string, user: string): CourseGrade | undefined {
    return this.gradeIndex.get(key(item, user));
  }

  final(item: string, user: string): number | null {
    return this.view.final(item, user);
  }

  /** [IMP-9] Locked item or grade at `now` (grade_grade::is_locked covers the item lock). */
  lockedWhy(item: CourseItem, user: string): string | null {
    if (this.view.isLocked(item.id)) return `item "${item.name}" is locked`;
    if (this.view.isLocked(item.id, user)) return `the grade of user "${user}" in "${item.name}" is locked`;
    return null;
  }

  /**
   * [IMP-4..IMP-8] Reads one grade cell: a number (locale decimal separator), a scale label or position,
   * `-` to clear, empty to skip or clear. Returns the new value or a problem message.
   */
  parseGrade(
    item: CourseItem,
    raw: string,
    verboseScales = this.opts.verboseScales ?? true,
  ):
    | { kind: 'skip' }
    | { kind: 'value'; value: number | null; decimals: number }
    | { kind: 'error'; message: string } {
    const v = raw.trim();
    if (v === '')
      return (this.opts.emptyCells ?? 'skip') === 'clear'
        ? { kind: 'value', value: null, decimals: 0 }
        : { kind: 'skip' };
    // load_data.php update_grade_item: '-' is "no grade".
    if (v === '-') return { kind: 'value', value: null, decimals: 0 };
    const labels = item.gradetype === 'scale' ? (item.scale ?? []) : null;
    if (labels && verboseScales) {
      // load_data.php: labels trimmed, matched exactly; position k is the k-th label.
      const k = labels.findIndex((l) => l.trim() === v);
      if (k < 0)
        return {
          kind: 'error',
          message: `"${v}" is not on the scale of "${item.name}" (${labels.map((l) => l.trim()).join(', ')})`,
        };
      return { kind: 'value', value: k + 1, decimals: 0 };
    }
    const n = readNumber(v, this.opts.decimalSeparator ?? '.');
    if (n === null)
      return {
        kind: 'error',
        message: `"${v}" is not a number${(this.opts.decimalSeparator ?? '.') === '.' && /^-?\d+,\d+$/.test(v) ? ' (the decimal separator is ".")' : ''}`,
      };
    let value = n.value;
    if (labels) {
      if (!Number.isInteger(value) || value < 1 || value > labels.length)
        return {
          kind: 'error',
          message: `${v} is not a scale position of "${item.name}" (1..${labels.length})`,
        };
      return { kind: 'value', value, decimals: 0 };
    }
    if (value < item.grademin || value > item.grademax) {
      if ((this.opts.outOfRange ?? 'error') === 'error')
        return {
          kind: 'error',
          message: `${v} is out of the range of "${item.name}" (${item.grademin}..${item.grademax})`,
        };
      value = Math.min(item.grademax, Math.max(item.grademin, value));
    }
    return { kind: 'value', value, decimals: n.decimals };
  }
}

function key(item: string, user: string): string {
  return `${item}\u0000${user}`;
}

/**
 * Moodle unformat_float($value, true): spaces removed (thousands separators), the locale decimal separator
 * becomes '.', then the text must be numeric. Returns the value and how many decimals were written.
 */
export function readNumber(
  text: string,
  decimalSeparator: '.' | ',',
): { value: number; decimals: number } | null {
  let t = text.replace(/\s+/g, '');
  if (decimalSeparator === ',') t = t.replace(/,/g, '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const value = Number(t);
  if (!Number.isFinite(value)) return null;
  const m = /\.(\d*)/.exec(t);
  const decimals = m && !/[eE]/.test(t) ? m[1]!.length : 0;
  return { value, decimals };
}

/**
 * [IMP-10] Whether a cell equals the current value: exactly, or (when the cell has decimals) the current value
 * shown at the cell's own precision, so an export at 2 decimals re-imports with no changes.
 */
export function sameGrade(old: number | null, value: number | null, decimals: number): boolean {
  if (old === null || value === null) return old === value;
  if (old === value) return true;
  return decimals > 0 && decimals <= 10 && formatFloat(old, decimals) === formatFloat(value, decimals);
}

/** Collects problems up to MAX_PROBLEMS and counts the rest. */
export class ProblemList {
  readonly list: ImportProblem[] = [];
  dropped = 0;
  add(p: ImportProblem): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(p);
    else this.dropped++;
  }
  finish(): ImportProblem[] {
    if (this.dropped)
      this.list.push({
        at: 'file',
        message: `... and ${this.dropped} more problems (fix the ones above first)`,
      });
    return this.list;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Mapping.

/** [IMP-1] Validates a stored mapping (plain JSON); problems name the JSON path. */
export function validateImportMapping(input: unknown): ImportMapping {
  const problems: Problem[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(input)) throw new ValidationError([{ at: '$', message: 'a mapping must be a JSON object' }]);
  let user: ImportMapping['user'] = null;
  if (input.user !== null && input.user !== undefined) {
    if (!isObj(input.user)) problems.push({ at: '$.user', message: 'must be {"column", "key"} or null' });
    else {
      if (typeof input.user.column !== 'string' || input.user.column === '')
        problems.push({ at: '$.user.column', message: 'must be the header of the user column' });
      if (!USER_KEYS.includes(input.user.key as UserKey))
        problems.push({ at: '$.user.key', message: `must be one of ${USER_KEYS.join(', ')}` });
      user = { column: String(input.user.column), key: input.user.key as UserKey };
    }
  }
  const columns: Record<string, ColumnTarget> = {};
  if (!isObj(input.columns))
    problems.push({ at: '$.columns', message: 'must be an object: header -> target' });
  else
    for (const [h, t] of Object.entries(input.columns)) {
      const at = jsonPath('$', 'columns', h);
      if (!isObj(t)) {
        problems.push({ at, message: 'must be {"kind": "ignore"|"grade"|"feedback", "item"?}' });
        continue;
      }
      if (t.kind === 'ignore') columns[h] = { kind: 'ignore' };
      else if (t.kind === 'grade' || t.kind === 'feedback') {
        if (typeof t.item !== 'string' || t.item === '')
          problems.push({ at: jsonPath(at, 'item'), message: 'must name an item (id, idnumber or name)' });
        else columns[h] = { kind: t.kind, item: t.item };
      } else problems.push({ at: jsonPath(at, 'kind'), message: 'must be "ignore", "grade" or "feedback"' });
    }
  if (problems.length) throw new ValidationError(problems);
  return { user, columns };
}

const USER_HEADERS: Record<string, UserKey> = {
  'user id': 'id',
  userid: 'id',
  id: 'id',
  username: 'username',
  'user name': 'username',
  email: 'email',
  'email address': 'email',
  'id number': 'idnumber',
  idnumber: 'idnumber',
};

/** Display-type suffixes of our and Moodle's export headers ("Quiz 1 (Real)"); only real values import. */
const SUFFIX = /^(.*) \((Real|Percentage|Letter|Feedback)(?: \((?:Real|Percentage|Letter)\))?\)$/;

/**
 * [IMP-1] Guesses a mapping from headers: a user column by name, "Name (Real)" and "Name (Feedback)" from
 * our and Moodle's exports (grade/export/lib.php format_column_name), "Feedback: Name", plain item ids,
 * idnumbers or names, and Moodle's "Module: Name" prefix. Totals, calculated items, percentage/letter
 * columns and unknown headers are ignored. The user column prefers id, then email, idnumber, username.
 */
export function suggestMapping(
  headers: readonly string[],
  course: CourseJson,
  directory?: readonly DirectoryUser[],
): ImportMapping {
  // Email before idnumber: Moodle requires emails, while idnumbers are often empty (load_data_test.php $oktext).
  const preference: UserKey[] = ['id', 'email', 'idnumber', 'username'];
  let user: ImportMapping['user'] = null;
  const userCols = new Set<string>();
  for (const h of headers) {
    const k = USER_HEADERS[h.trim().toLowerCase()];
    if (!k) continue;
    if (k !== 'id' && !directory?.length) continue;
    userCols.add(h);
    if (!user || preference.indexOf(k) < preference.indexOf(user.key)) user = { column: h, key: k };
  }
  const find = (name: string): CourseItem | null => {
    const tries = [
      course.items.filter((it) => it.id === name),
      course.items.filter((it) => it.idnumber === name),
      course.items.filter((it) => it.name === name),
    ];
    for (const t of tries) if (t.length === 1) return t[0]!;
    // Moodle prefixes activity items with the module name: "Assignment: Essay".
    const colon = name.indexOf(': ');
    if (colon > 0) return find(name.slice(colon + 2));
    return null;
  };
  const columns: Record<string, ColumnTarget> = {};
  const taken = new Set<string>();
  for (const h of headers) {
    if (userCols.has(h)) continue;
    const t = h.trim();
    let name = t;
    let kind: 'grade' | 'feedback' | 'ignore' = 'grade';
    const m = SUFFIX.exec(t);
    if (m) {
      name = m[1]!;
      kind = m[2] === 'Real' ? 'grade' : m[2] === 'Feedback' ? 'feedback' : 'ignore';
    } else if (t.startsWith('Feedback: ')) {
      name = t.slice('Feedback: '.length);
      kind = 'feedback';
    }
    const item = kind === 'ignore' ? null : find(name);
    const tag = item ? `${kind}:${item.id}` : '';
    if (!item || (kind === 'grade' && item.calculation) || taken.has(tag)) {
      columns[h] = { kind: 'ignore' };
      continue;
    }
    taken.add(tag);
    columns[h] = kind === 'grade' ? { kind: 'grade', item: item.id } : { kind: 'feedback', item: item.id };
  }
  return { user, columns };
}

// ---------------------------------------------------------------------------------------------------------
// CSV planning.

/** Characters read for the header row; a header longer than this is not a gradebook export. */
const HEADER_PREFIX = 1 << 16;

/** The header row of a CSV text (trimmed as Moodle's trim_headers does). */
export function csvHeaders(csvText: string, delimiter: CsvDelimiter | 'auto' = 'auto'): string[] {
  const first = parseCsv(csvText.slice(0, HEADER_PREFIX), delimiter).records[0];
  return (first?.cells ?? []).map((h) => h.trim());
}

interface ColumnPlan {
  index: number;
  header: string;
  field: 'final' | 'feedback';
  item: CourseItem;
}

/**
 * [IMP-1..IMP-12] Plans a CSV grade import. Reads every row, lists every change and every problem (row
 * number as a spreadsheet shows it, header = row 1; the column header). Nothing is applied.
 */
export function planCsvImport(
  csvText: string,
  course: CourseJson,
  mapping: ImportMapping,
  opts: ImportOptions = {},
): ImportPlan {
  const problems = new ProblemList();
  const parsed = parseCsv(csvText, opts.delimiter ?? 'auto');
  for (const p of parsed.problems) problems.add(p);
  const header = parsed.records[0];
  if (!header || (header.cells.length === 1 && header.cells[0]!.trim() === '')) {
    problems.add({
      at: 'row 1',
      row: 1,
      message: 'the file is empty: the first row must be the column headers',
    });
    return emptyPlan(problems);
  }
  const headers = header.cells.map((h) => h.trim());
  const ctx = new ImportContext(course, opts);
  const colAt = (h: string): string => `row 1, column "${h}"`;

  // Headers: duplicates are ambiguous when mapped.
  const indexOf = new Map<string, number[]>();
  headers.forEach((h, i) => indexOf.set(h, [...(indexOf.get(h) ?? []), i]));
  const columnIndex = (h: string, what: string): number | null => {
    const idx = indexOf.get(h.trim());
    if (!idx) {
      problems.add({
        at: `column "${h}"`,
        column: h,
        message: `the ${what} column "${h}" is not in the file`,
      });
      return null;
    }
    if (idx.length > 1) {
      problems.add({
        at: colAt(h),
        row: 1,
        column: h,
        message: `${idx.length} columns are headed "${h}"; rename them so the mapping is unambiguous`,
      });
      return null;
    }
    return idx[0]!;
  };

  let userIndex: number | null = null;
  if (!mapping.user)
    problems.add({
      at: 'mapping',
      message: 'no column identifies the user: choose one (user id, username, email or idnumber)',
    });
  else userIndex = columnIndex(mapping.user.column, 'user');

  // [IMP-2] Targets; Moodle refuses two columns mapped to one target (cannotmapfield).
  const plans: ColumnPlan[] = [];
  const targetOf = new Map<string, string>();
  for (const [h, t] of Object.entries(mapping.columns)) {
    if (t.kind === 'ignore') continue;
    if (mapping.user && h.trim() === mapping.user.column.trim()) {
      problems.add({
        at: colAt(h),
        row: 1,
        column: h,
        message: 'the user column cannot also be a grade column',
      });
      continue;
    }
    const i = columnIndex(h, t.kind);
    const field = t.kind === 'grade' ? 'final' : 'feedback';
    const r = ctx.resolveItem(t.item, field);
    if (!r.ok) {
      problems.add({ at: colAt(h), row: 1, column: h, message: r.message });
      continue;
    }
    if (i === null) continue;
    const tag = `${field}:${r.item.id}`;
    const other = targetOf.get(tag);
    if (other !== undefined) {
      problems.add({
        at: colAt(h),
        row: 1,
        column: h,
        message: `column "${other}" is already mapped to the ${field === 'final' ? 'grade' : 'feedback'} of "${r.item.name}"`,
      });
      continue;
    }
    targetOf.set(tag, h);
    plans.push({ index: i, header: headers[i]!, field, item: r.item });
  }
  const used = new Set<number>(plans.map((p) => p.index));
  if (userIndex !== null) used.add(userIndex);
  const timeIndex = headers.indexOf(TIME_EXPORTED_HEADER);
  const ignoredColumns = headers.filter((_, i) => !used.has(i) && i !== timeIndex);

  const changes: ImportChange[] = [];
  let unchanged = 0;
  let skipped = 0;
  const seen = new Map<string, number>();
  const records = parsed.records.slice(1);
  const total = records.length;
  let dataRows = 0;
  const now = opts.now;
  for (let r = 0; r < total; r++) {
    if (r % CHUNK === 0) {
      throwIfCancelled(opts.cancel, 'import planning');
      opts.onProgress?.(r, total);
    }
    const rec = records[r]!;
    const cells = rec.cells;
    // load_data.php: a line with no data is skipped.
    if (cells.every((c) => c.trim() === '')) continue;
    dataRows++;
    const at = (h: string): string => `row ${rec.row}, column "${h}"`;
    if (cells.length !== headers.length) {
      // Moodle rejects such files as a whole (csvweirdcolumns).
      problems.add({
        at: `row ${rec.row}`,
        row: rec.row,
        message: `has ${cells.length} cells but the header row has ${headers.length}`,
      });
      continue;
    }
    if (userIndex === null || !mapping.user) continue;
    const who = ctx.findUser(mapping.user.key, cells[userIndex]!);
    const userHeader = headers[userIndex]!;
    if (!who.ok) {
      problems.add({ at: at(userHeader), row: rec.row, column: userHeader, message: who.message });
      continue;
    }
    const user = who.id;
    const first = seen.get(user);
    if (first !== undefined) {
      problems.add({
        at: at(userHeader),
        row: rec.row,
        column: userHeader,
        message: `user "${user}" already appears in row ${first}; each user may have one row`,
      });
      continue;
    }
    seen.set(user, rec.row);
    // [IMP-12] load_data.php: the export date must be a whole number, not in the future, not over a year old.
    if (timeIndex >= 0 && !opts.force && now !== undefined) {
      const t = cells[timeIndex]!.trim();
      const n = Number(t);
      if (!/^\d+$/.test(t) || n > now || n < now - YEAR_SECONDS)
        problems.add({
          at: at(TIME_EXPORTED_HEADER),
          row: rec.row,
          column: TIME_EXPORTED_HEADER,
          message: `"${t}" is not a valid export date (in the future or over a year old); re-export, or force the import`,
        });
    }
    for (const p of plans) {
      const cell = cells[p.index]!;
      if (p.field === 'final') {
        const v = ctx.parseGrade(p.item, cell);
        if (v.kind === 'skip') {
          skipped++;
          continue;
        }
        if (v.kind === 'error') {
          problems.add({ at: at(p.header), row: rec.row, column: p.header, message: v.message });
          continue;
        }
        const old = ctx.final(p.item.id, user);
        if (sameGrade(old, v.value, v.decimals)) {
          unchanged++;
          continue;
        }
        const locked = ctx.lockedWhy(p.item, user);
        if (locked) {
          problems.add({
            at: at(p.header),
            row: rec.row,
            column: p.header,
            message: `${locked}; the import would change it`,
          });
          continue;
        }
        changes.push({ item: p.item.id, user, field: 'final', old, new: v.value, at: at(p.header) });
      } else {
        const text = cell.trim();
        if (text === '' && (opts.emptyCells ?? 'skip') === 'skip') {
          skipped++;
          continue;
        }
        const oldFb = ctx.grade(p.item.id, user)?.feedback ?? null;
        if ((oldFb ?? '') === text) {
          unchanged++;
          continue;
        }
        const locked = ctx.lockedWhy(p.item, user);
        if (locked) {
          problems.add({
            at: at(p.header),
            row: rec.row,
            column: p.header,
            message: `${locked}; the import would change its feedback`,
          });
          continue;
        }
        changes.push({ item: p.item.id, user, field: 'feedback', old: oldFb, new: text, at: at(p.header) });
      }
    }
  }
  opts.onProgress?.(total, total);
  if (dataRows === 0 && problems.list.length === 0)
    problems.add({ at: 'row 2', row: 2, message: 'the file has a header row but no data rows' });
  const list = problems.finish();
  return {
    ok: list.length === 0,
    changes,
    unchanged,
    skipped,
    problems: list,
    records: dataRows,
    ignoredColumns,
  };
}

function emptyPlan(problems: ProblemList): ImportPlan {
  return {
    ok: false,
    changes: [],
    unchanged: 0,
    skipped: 0,
    problems: problems.finish(),
    records: 0,
    ignoredColumns: [],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Applying.

/** One grade's change as the engine and the CRDT command take it (null clears a field). */
export interface ImportPatch {
  item: string;
  user: string;
  patch: GradePatch;
  /**
   * The values the plan was made against (final grade as the engine showed it, feedback): a commit that
   * finds the cell changed since the preview (another grader, another device) can refuse or flag it.
   */
  expected: { final?: number | null; feedback?: string | null };
}

/**
 * [IMP-11] The plan as one patch per changed grade, merging its grade and feedback changes. A new grade on a
 * grade that has a raw (activity) value or an override becomes an override, as grade_item::update_final_grade
 * marks imported grades overridden (grade/import/lib.php grade_import_commit passes source 'import');
 * otherwise it is a stored final. Clearing removes raw, final and override. The app turns these patches
 * into one CRDT bulk command; applyImportPlan applies them to course JSON.
 */
export function importPatches(course: CourseJson, plan: ImportPlan): ImportPatch[] {
  const index = new Map<string, CourseGrade>();
  for (const g of course.grades) index.set(key(g.item, g.user), g);
  const out = new Map<string, ImportPatch>();
  for (const c of plan.changes) {
    const k = key(c.item, c.user);
    let p = out.get(k);
    if (!p) out.set(k, (p = { item: c.item, user: c.user, patch: {}, expected: {} }));
    if (c.field === 'feedback') {
      p.expected.feedback = c.old === null ? null : String(c.old);
      p.patch.feedback = c.new === '' || c.new === null ? null : String(c.new);
      continue;
    }
    const v = c.new as number | null;
    p.expected.final = c.old as number | null;
    const g = index.get(k);
    if (v === null)
      Object.assign(p.patch, {
        raw: null,
        final: null,
        overridden: null,
        rawgrademin: null,
        rawgrademax: null,
      });
    else if (typeof g?.raw === 'number' || typeof g?.overridden === 'number') p.patch.overridden = v;
    else Object.assign(p.patch, { raw: null, final: v });
  }
  return [...out.values()];
}

/**
 * [IMP-11] Applies a clean plan (its importPatches) and returns the new course document; the input is not
 * changed. Throws ValidationError when the plan has problems or the result is not a valid course.
 */
export function applyImportPlan(course: CourseJson, plan: ImportPlan): CourseJson {
  if (!plan.ok)
    throw new ValidationError(
      plan.problems.length ? plan.problems : [{ at: 'plan', message: 'the plan is not clean' }],
      `the import has ${plan.problems.length} problem(s); nothing was changed`,
    );
  const grades = course.grades.map((g) => ({ ...g }));
  const index = new Map<string, CourseGrade>();
  for (const g of grades) index.set(key(g.item, g.user), g);
  for (const { item, user, patch } of importPatches(course, plan)) {
    let g = index.get(key(item, user));
    if (!g) {
      g = { user, item, raw: null };
      grades.push(g);
      index.set(key(item, user), g);
    }
    const rec = g as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries(patch)) {
      // raw and overridden are `number | null` in course JSON; the optional fields are removed when cleared.
      if (value === null && field !== 'raw' && field !== 'overridden') delete rec[field];
      else rec[field] = value;
    }
  }
  return validateCourseJson({ ...course, grades });
}

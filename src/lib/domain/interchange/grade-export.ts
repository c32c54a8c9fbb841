// Grade export (SPEC-import-export.md, EXP-*): choose users and items, format final grades in a display type,
// and write CSV, XLSX, ODS or course JSON. Pure: the engine's finals come in through a narrow GradeSource and
// the export time is an injected value; never reads a clock or a file. Follows grade/export/lib.php.
import type { CourseCategory, CourseItem, CourseJson } from './course-types.ts';
import { serialiseCourseJson } from './course-json.ts';
import { ValidationError, type Problem } from '../shared/errors.ts';
import { throwIfCancelled, type JobOptions } from '../shared/cancel.ts';
import { formatFloat, formatGrade, type DisplayType } from '../gradebook/display.ts';
import { DEFAULT_LETTERS, letterTable, type LetterTable } from '../gradebook/letters.ts';
import { writeCsv, writeOds, writeXlsx, type CsvDelimiter, type SheetCell } from './spreadsheet.ts';
import { TIME_EXPORTED_HEADER, type DirectoryUser } from './grade-import.ts';

export type ExportDisplay = 'real' | 'percentage' | 'letter';
export const EXPORT_DISPLAYS: readonly ExportDisplay[] = ['real', 'percentage', 'letter'];
export type IdentityField = 'idnumber' | 'email' | 'username';
/** Moodle's column names for these profile fields (grade/export/lib.php uses the user field strings). */
export const IDENTITY_HEADERS: Readonly<Record<IdentityField, string>> = {
  idnumber: 'ID number',
  email: 'Email address',
  username: 'Username',
};
export type ExportFormat = 'csv' | 'xlsx' | 'ods' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'xlsx', 'ods', 'json'];

/** What the export needs from the gradebook engine (the Gradebook class fits). */
export interface GradeSource {
  /** Final grade of an item, a category (by id) or `course`; null = no grade. */
  final(itemOrCategoryId: string, userId: string): number | null;
  /** The range a user's grade is read against (Natural totals have per-user maxima). */
  range?(itemOrCategoryId: string, userId: string): [number, number];
}

export interface ExportOptions extends JobOptions {
  /** [EXP-2] Only users whose course `groups` include this group. */
  group?: string;
  /** [EXP-2] Only items (and sub-category totals) under this category (id, or `course`). */
  category?: string;
  /** [EXP-2] Only these items (ids or idnumbers); totals named here are included too. */
  items?: readonly string[];
  /** [EXP-2] Only these users (ids). */
  users?: readonly string[];
  /** [EXP-3] Display type(s); several give one column each, as Moodle's export form allows. Default real. */
  display?: ExportDisplay | readonly ExportDisplay[];
  /** [EXP-4] A feedback column after each item ("export feedback"). */
  feedback?: boolean;
  /** [EXP-5] Category and course totals (default true). */
  totals?: boolean;
  /**
   * [EXP-1] User identity columns after the name, from the user directory (Moodle exports the user's
   * profile fields; "Email address" and "ID number" let Moodle's own import map the file back).
   */
  identity?: readonly IdentityField[];
  directory?: readonly DirectoryUser[];
  /** Decimal places (Moodle's export default is the course setting, 2). */
  decimals?: number;
  /** [EXP-6] Export time (unix seconds) from the caller's clock; written in the last column and the summary. */
  exportedAt: number;
}

export interface ExportColumn {
  header: string;
  kind: 'user' | 'name' | 'identity' | 'grade' | 'feedback' | 'time';
  /** Item id, category id or `course`. */
  item?: string;
  display?: ExportDisplay;
  /** True when the column holds numbers (real display of a value item or total). */
  numeric?: boolean;
}

export interface ExportSummary {
  users: number;
  items: string[];
  columns: number;
  filters: { group: string | null; category: string | null; items: string[] | null; users: string[] | null };
  display: ExportDisplay[];
  feedback: boolean;
  totals: boolean;
  decimals: number;
  exportedAt: number;
}

export interface GradeExport {
  columns: ExportColumn[];
  /** One row per user; cells as text exactly as written to CSV ('-' is no grade, as Moodle shows it). */
  rows: string[][];
  summary: ExportSummary;
}

interface Target {
  id: string;
  label: string;
  isTotal: boolean;
  item?: CourseItem;
  cat?: CourseCategory;
}

const CHUNK = 200;
const DISPLAY_NAMES: Record<ExportDisplay, string> = {
  real: 'Real',
  percentage: 'Percentage',
  letter: 'Letter',
};

/** [EXP-1] Items and totals in gradebook tree order: a category's items, its sub-categories, then its total. */
export function exportTargets(course: CourseJson): Target[] {
  const out: Target[] = [];
  const kids = new Map<string, CourseCategory[]>();
  for (const c of course.categories)
    if (c.parent !== null) kids.set(c.parent, [...(kids.get(c.parent) ?? []), c]);
  const itemsOf = new Map<string, CourseItem[]>();
  for (const it of course.items) itemsOf.set(it.category, [...(itemsOf.get(it.category) ?? []), it]);
  const walk = (c: CourseCategory): void => {
    for (const it of itemsOf.get(c.id) ?? [])
      out.push({ id: it.id, label: it.name, isTotal: false, item: it });
    for (const k of kids.get(c.id) ?? []) walk(k);
    const root = c.parent === null;
    out.push({
      id: root ? 'course' : c.id,
      label: root ? 'Course total' : `${c.name} total`,
      isTotal: true,
      cat: c,
    });
  };
  const root = course.categories.find((c) => c.parent === null);
  if (root) walk(root);
  return out;
}

/** Users in document order: the course's `users` list, then anyone else who has a grade. */
export function exportUsers(course: CourseJson): { id: string; name: string; groups: string[] }[] {
  const out: { id: string; name: string; groups: string[] }[] = [];
  const seen = new Set<string>();
  for (const u of course.users ?? []) {
    if (seen.has(u.id)) continue;
    seen.add(u.id);
    out.push({ id: u.id, name: u.name, groups: u.groups ?? [] });
  }
  for (const g of course.grades) {
    if (seen.has(g.user)) continue;
    seen.add(g.user);
    out.push({ id: g.user, name: '', groups: [] });
  }
  return out;
}

function descendants(course: CourseJson, catId: string): Set<string> {
  const out = new Set<string>([catId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of course.categories)
      if (c.parent !== null && out.has(c.parent) && !out.has(c.id)) {
        out.add(c.id);
        grew = true;
      }
  }
  return out;
}

/** [EXP-2] Which users and items an export covers; throws ValidationError naming the option at fault. */
export function selectExport(
  course: CourseJson,
  opts: Omit<ExportOptions, 'exportedAt'>,
): { users: { id: string; name: string; groups: string[] }[]; targets: Target[] } {
  const problems: Problem[] = [];
  let users = exportUsers(course);
  let groupKnown = true;
  if (opts.group !== undefined) {
    groupKnown = users.some((u) => u.groups.includes(opts.group!));
    if (!groupKnown)
      problems.push({ at: 'group', message: `no user of this course is in group "${opts.group}"` });
    users = users.filter((u) => u.groups.includes(opts.group!));
  }
  if (opts.users) {
    const known = new Set(users.map((u) => u.id));
    const all = new Set(exportUsers(course).map((u) => u.id));
    opts.users.forEach((id, i) => {
      if (!all.has(id)) problems.push({ at: `users[${i}]`, message: `unknown user "${id}"` });
      else if (!known.has(id) && opts.group !== undefined && groupKnown)
        problems.push({ at: `users[${i}]`, message: `user "${id}" is not in group "${opts.group}"` });
    });
    const want = new Set(opts.users);
    users = users.filter((u) => want.has(u.id));
  }
  let targets = exportTargets(course);
  if (opts.category !== undefined) {
    const root = course.categories.find((c) => c.parent === null);
    const catId = opts.category === 'course' && root ? root.id : opts.category;
    const cat = course.categories.find((c) => c.id === catId || (c.idnumber && c.idnumber === catId));
    if (!cat) problems.push({ at: 'category', message: `unknown category "${opts.category}"` });
    else {
      const under = descendants(course, cat.id);
      targets = targets.filter((t) => (t.item ? under.has(t.item.category) : under.has(t.cat!.id)));
    }
  }
  if (opts.items) {
    const want = new Set<string>();
    opts.items.forEach((ref, i) => {
      const t = targets.find(
        (x) =>
          x.id === ref || x.item?.idnumber === ref || (x.cat && (x.cat.id === ref || x.cat.idnumber === ref)),
      );
      if (!t)
        problems.push({
          at: `items[${i}]`,
          message: `unknown item "${ref}"${opts.category ? ' in that category' : ''}`,
        });
      else want.add(t.id);
    });
    targets = targets.filter((t) => want.has(t.id));
  } else if (opts.totals === false) targets = targets.filter((t) => !t.isTotal);
  if (problems.length) throw new ValidationError(problems);
  return { users, targets };
}

function displays(d: ExportOptions['display']): ExportDisplay[] {
  const list = d === undefined ? ['real' as const] : typeof d === 'string' ? [d] : [...d];
  for (const x of list)
    if (!EXPORT_DISPLAYS.includes(x))
      throw new ValidationError([
        { at: 'display', message: `must be one of ${EXPORT_DISPLAYS.join(', ')}, got "${x}"` },
      ]);
  if (list.length === 0)
    throw new ValidationError([{ at: 'display', message: 'choose at least one display type' }]);
  return [...new Set(list)];
}

/**
 * [EXP-1..EXP-6] Builds the export table: "User ID", "Name", then per item and total one column per display
 * type ("Quiz 1 (Real)", grade/export/lib.php format_column_name) and "Quiz 1 (Feedback)" when asked, then
 * "Last downloaded from this course" (gradeexport_txt timeexported). Reports progress per chunk of users.
 */
export function exportGrades(course: CourseJson, source: GradeSource, opts: ExportOptions): GradeExport {
  const { users, targets } = selectExport(course, opts);
  const shown = displays(opts.display);
  const decimals = opts.decimals ?? 2;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 5)
    throw new ValidationError([
      { at: 'decimals', message: 'must be a whole number 0..5 (Moodle offers 0..5)' },
    ]);
  const letters: LetterTable =
    course.settings.letters && Object.keys(course.settings.letters).length
      ? letterTable(course.settings.letters)
      : DEFAULT_LETTERS;
  const columns: ExportColumn[] = [
    { header: 'User ID', kind: 'user' },
    { header: 'Name', kind: 'name' },
  ];
  const identity = [...new Set(opts.identity ?? [])];
  for (const f of identity) {
    if (!(f in IDENTITY_HEADERS))
      throw new ValidationError([
        { at: 'identity', message: `must be idnumber, email or username, got "${f}"` },
      ]);
    columns.push({ header: IDENTITY_HEADERS[f], kind: 'identity' });
  }
  const people = new Map<string, DirectoryUser>();
  for (const d of opts.directory ?? []) people.set(d.id, d);
  for (const t of targets) {
    const isScale = t.item?.gradetype === 'scale';
    for (const d of shown)
      columns.push({
        header: `${t.label} (${DISPLAY_NAMES[d]})`,
        kind: 'grade',
        item: t.id,
        display: d,
        numeric: d === 'real' && !isScale,
      });
    if (opts.feedback && t.item)
      columns.push({ header: `${t.label} (Feedback)`, kind: 'feedback', item: t.id });
  }
  columns.push({ header: TIME_EXPORTED_HEADER, kind: 'time', numeric: true });

  const feedback = new Map<string, string>();
  if (opts.feedback)
    for (const g of course.grades) if (g.feedback) feedback.set(`${g.item}\u0000${g.user}`, g.feedback);
  const staticRange = new Map<string, [number, number]>();
  for (const t of targets) {
    if (t.item) staticRange.set(t.id, [t.item.grademin, t.item.grademax]);
    else staticRange.set(t.id, [t.cat!.grademin ?? 0, t.cat!.grademax ?? 100]);
  }
  const time = String(opts.exportedAt);
  const rows: string[][] = [];
  for (let u = 0; u < users.length; u++) {
    if (u % CHUNK === 0) {
      throwIfCancelled(opts.cancel, 'export');
      opts.onProgress?.(u, users.length);
    }
    const user = users[u]!;
    const row: string[] = [user.id, user.name];
    for (const f of identity) row.push(people.get(user.id)?.[f] ?? '');
    for (const t of targets) {
      const v = source.final(t.id, user.id);
      const [min, max] = v !== null && source.range ? source.range(t.id, user.id) : staticRange.get(t.id)!;
      const scale = t.item?.gradetype === 'scale' ? (t.item.scale ?? null) : null;
      for (const d of shown)
        row.push(
          d === 'real' && !scale && v !== null
            ? fastFloat(v, decimals)
            : formatGrade(v, d as DisplayType, { min, max, decimals, letters, scale }),
        );
      if (opts.feedback && t.item) row.push(feedback.get(`${t.id}\u0000${user.id}`) ?? '');
    }
    row.push(time);
    rows.push(row);
  }
  opts.onProgress?.(users.length, users.length);
  return {
    columns,
    rows,
    summary: {
      users: users.length,
      items: targets.map((t) => t.id),
      columns: columns.length,
      filters: {
        group: opts.group ?? null,
        category: opts.category ?? null,
        items: opts.items ? [...opts.items] : null,
        users: opts.users ? [...opts.users] : null,
      },
      display: shown,
      feedback: opts.feedback ?? false,
      totals: targets.some((t) => t.isTotal),
      decimals,
      exportedAt: opts.exportedAt,
    },
  };
}

/**
 * formatFloat (PHP number_format) without its toPrecision call unless the value sits within 1e-6 of a half,
 * where binary noise can decide the rounding; elsewhere Math.round gives the same digits. Export formats
 * 600,000 cells, and this is most of its time.
 */
export function fastFloat(v: number, decimals: number): string {
  const f = POW10[decimals]!;
  const x = Math.abs(v) * f;
  if (!(x < 1e15) || Math.abs(x - Math.floor(x) - 0.5) < 1e-6) return formatFloat(v, decimals);
  const r = Math.round(x);
  let digits = String(r);
  if (decimals > 0) {
    if (digits.length <= decimals) digits = '0'.repeat(decimals - digits.length + 1) + digits;
    digits = `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  }
  return v < 0 && r !== 0 ? `-${digits}` : digits;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000];

/** The table with typed cells for spreadsheets: numbers in numeric columns, no-grade as an empty cell. */
export function exportSheetRows(exp: GradeExport): SheetCell[][] {
  const header: SheetCell[] = exp.columns.map((c) => c.header);
  const numeric = exp.columns.map((c) => c.numeric === true);
  const out: SheetCell[][] = [header];
  for (const r of exp.rows) {
    out.push(
      r.map((text, i) => {
        if (!numeric[i]) return text;
        if (text === '-' || text === '') return null;
        const n = Number(text);
        return Number.isFinite(n) ? n : text;
      }),
    );
  }
  return out;
}

/** [EXP-7] CSV text: header row then one row per user, as the CSV import reads it back. */
export function exportToCsv(exp: GradeExport, opts: { delimiter?: CsvDelimiter } & JobOptions = {}): string {
  return writeCsv([exp.columns.map((c) => c.header), ...exp.rows], opts);
}

/** [EXP-7] XLSX workbook bytes (one "Grades" sheet). */
export function exportToXlsx(exp: GradeExport, opts: JobOptions = {}): Uint8Array {
  return writeXlsx({ name: 'Grades', rows: exportSheetRows(exp) }, opts);
}

/** [EXP-7] ODS spreadsheet bytes (one "Grades" table). */
export function exportToOds(exp: GradeExport, opts: JobOptions = {}): Uint8Array {
  return writeOds({ name: 'Grades', rows: exportSheetRows(exp) }, opts);
}

/**
 * [EXP-8] Course JSON export: the whole setup (items and categories stay, formulas need them) with the grades
 * and users of the selected users only. Item filters and display types do not apply to this format.
 */
export function exportCourseJson(
  course: CourseJson,
  opts: Omit<ExportOptions, 'exportedAt'>,
): { text: string; users: number } {
  const { users } = selectExport(course, { ...opts, items: undefined, category: undefined });
  const keep = new Set(users.map((u) => u.id));
  const doc: CourseJson = {
    ...course,
    grades: course.grades.filter((g) => keep.has(g.user)),
  };
  if (course.users) doc.users = course.users.filter((u) => keep.has(u.id));
  return { text: serialiseCourseJson(doc, 2), users: users.length };
}

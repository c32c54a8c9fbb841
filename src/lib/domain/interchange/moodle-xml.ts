// Moodle's XML grade results format (grade/import/xml/lib.php, grade/export/xml/grade_export_xml.php): plan an
// import of <results><result><assignment/><student/><score/><feedback/></result>...</results> with the same
// plan as CSV (IMP-13..IMP-15), and write that format. Pure: never applies anything, never touches files.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CourseJson } from './course-types.ts';
import { throwIfCancelled } from '../shared/cancel.ts';
import {
  ImportContext,
  ProblemList,
  sameGrade,
  type ImportChange,
  type ImportOptions,
  type ImportPlan,
  type UserKey,
  type DirectoryUser,
} from './grade-import.ts';
import { xmlText } from './spreadsheet.ts';

export interface XmlImportOptions extends Omit<
  ImportOptions,
  'directory' | 'delimiter' | 'decimalSeparator'
> {
  /** Which user field <student> holds: Moodle uses the user idnumber (default); `id` matches course user ids. */
  userKey?: UserKey;
}

const CHUNK = 200;
type XmlNode = Record<string, unknown>;

/** Text of the first child element `name`, or undefined when absent (Moodle reads [0]['#'] only). */
function childText(node: XmlNode, name: string): string | undefined {
  const v = node[name];
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const first: unknown = v[0];
  if (typeof first === 'string') return first;
  if (typeof first === 'number' || typeof first === 'boolean') return String(first);
  if (first && typeof first === 'object') {
    // Mixed content or attributes: the text part.
    const t = (first as XmlNode)['#text'];
    return typeof t === 'string' ? t : '';
  }
  return '';
}

/**
 * [IMP-13..IMP-15] Plans an XML results import. Problems name the 1-based <result> index and the element.
 * <assignment> is an item idnumber; <student> a user idnumber (from `directory`); <score> a number (scale
 * items: the position), `-` clears, absent means no grade change (feedback only); <feedback> replaces it.
 */
export function planXmlImport(
  xmlText: string,
  course: CourseJson,
  directory?: readonly DirectoryUser[],
  opts: XmlImportOptions = {},
): ImportPlan {
  const problems = new ProblemList();
  const empty = (): ImportPlan => ({
    ok: false,
    changes: [],
    unchanged: 0,
    skipped: 0,
    problems: problems.finish(),
    records: 0,
    ignoredColumns: [],
  });
  // Results files never declare a DOCTYPE; its entities would be left unexpanded (or, expanded, could
  // multiply a small file into gigabytes), so the document is refused with the line that declares one.
  const doctype = /<!DOCTYPE/i.exec(xmlText);
  if (doctype) {
    const line = xmlText.slice(0, doctype.index).split('\n').length;
    problems.add({ at: `line ${line}`, message: 'DOCTYPE declarations are not accepted in grade results' });
    return empty();
  }
  const valid = XMLValidator.validate(xmlText);
  if (valid !== true) {
    const e = valid.err;
    problems.add({ at: `line ${e.line}, column ${e.col}`, message: `not well-formed XML: ${e.msg}` });
    return empty();
  }
  const parser = new XMLParser({
    ignoreAttributes: true,
    parseTagValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    // Numeric character references (&#233;) are XML; the parser decodes them only with its HTML entity set.
    htmlEntities: true,
    isArray: () => true,
  });
  const doc = parser.parse(xmlText) as XmlNode;
  const resultsList = doc.results;
  const root = Array.isArray(resultsList) ? (resultsList[0] as unknown) : undefined;
  const results = root && typeof root === 'object' ? (root as XmlNode).result : undefined;
  if (!Array.isArray(results) || results.length === 0) {
    // lib.php: no results section -> errbadxmlformat.
    problems.add({ at: '<results>', message: 'expected a <results> element holding <result> elements' });
    return empty();
  }
  const ctx = new ImportContext(course, {
    ...opts,
    directory,
    decimalSeparator: '.',
  });
  const key = opts.userKey ?? 'idnumber';
  const changes: ImportChange[] = [];
  let unchanged = 0;
  let skipped = 0;
  const seen = new Map<string, number>();
  const total = results.length;
  for (let i = 0; i < total; i++) {
    if (i % CHUNK === 0) {
      throwIfCancelled(opts.cancel, 'import planning');
      opts.onProgress?.(i, total);
    }
    const n = i + 1;
    const at = (el: string): string => `result ${n}, <${el}>`;
    const add = (el: string, message: string): void =>
      problems.add({ at: at(el), result: n, element: el, message });
    const node = results[i] as unknown;
    if (!node || typeof node !== 'object') {
      add('result', 'must hold <assignment>, <student> and <score> or <feedback>');
      continue;
    }
    const r = node as XmlNode;
    const assignment = childText(r, 'assignment')?.trim();
    const student = childText(r, 'student')?.trim();
    if (!assignment) add('assignment', 'is required: the idnumber of a grade item');
    if (!student) add('student', `is required: the user's ${key}`);
    if (!assignment || !student) continue;
    const target = ctx.itemByIdnumber(assignment);
    if (!target) {
      const res = ctx.resolveItem(assignment, 'final');
      add(
        'assignment',
        res.ok
          ? `no grade item has idnumber "${assignment}"`
          : res.message.replace(/id, idnumber or name/, 'idnumber'),
      );
      continue;
    }
    const who = ctx.findUser(key, student);
    if (!who.ok) {
      add('student', who.message);
      continue;
    }
    const pair = `${target.id}\u0000${who.id}`;
    const first = seen.get(pair);
    if (first !== undefined) {
      add('student', `result ${first} already grades user "${who.id}" in "${target.name}"`);
      continue;
    }
    seen.set(pair, n);
    const score = childText(r, 'score');
    const feedback = childText(r, 'feedback');
    if (score === undefined && feedback === undefined) {
      add('result', 'has neither <score> nor <feedback>');
      continue;
    }
    if (score !== undefined) {
      if (target.calculation) {
        add('assignment', `"${target.name}" is a calculated item: its grades come from its formula`);
        continue;
      }
      // lib.php checks is_numeric: scale items take positions here, never labels.
      const v = ctx.parseGrade(target, score, false);
      if (v.kind === 'error') add('score', v.message);
      else if (v.kind === 'skip') skipped++;
      else {
        const old = ctx.final(target.id, who.id);
        if (sameGrade(old, v.value, v.decimals)) unchanged++;
        else {
          const locked = ctx.lockedWhy(target, who.id);
          if (locked) add('score', `${locked}; the import would change it`);
          else
            changes.push({
              item: target.id,
              user: who.id,
              field: 'final',
              old,
              new: v.value,
              at: at('score'),
            });
        }
      }
    }
    if (feedback !== undefined) {
      const old = ctx.grade(target.id, who.id)?.feedback ?? null;
      if ((old ?? '') === feedback) unchanged++;
      else {
        const locked = ctx.lockedWhy(target, who.id);
        if (locked) add('feedback', `${locked}; the import would change its feedback`);
        else
          changes.push({
            item: target.id,
            user: who.id,
            field: 'feedback',
            old,
            new: feedback,
            at: at('feedback'),
          });
      }
    }
  }
  opts.onProgress?.(total, total);
  const list = problems.finish();
  return {
    ok: list.length === 0,
    changes,
    unchanged,
    skipped,
    problems: list,
    records: total,
    ignoredColumns: [],
  };
}

/** One <result> of the XML export. */
export interface XmlResult {
  assignment: string;
  student: string;
  score: string | null;
  feedback?: string | null;
}

/**
 * Writes the results format as grade/export/xml/grade_export_xml.php does: one <result> per user and item with
 * <state>new</state>, <assignment> (item idnumber), <student> (user idnumber), <score> and optional <feedback>.
 */
export function writeResultsXml(results: readonly XmlResult[]): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n<results batch="xml_export">\n'];
  for (const r of results) {
    out.push(
      '  <result>\n    <state>new</state>\n' +
        `    <assignment>${xmlText(r.assignment)}</assignment>\n` +
        `    <student>${xmlText(r.student)}</student>\n` +
        `    <score>${xmlText(r.score ?? '-')}</score>\n` +
        (r.feedback ? `    <feedback>${xmlText(r.feedback)}</feedback>\n` : '') +
        '  </result>\n',
    );
  }
  out.push('</results>\n');
  return out.join('');
}

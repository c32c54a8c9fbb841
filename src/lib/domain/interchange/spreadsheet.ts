// Spreadsheet formats for grade import/export: a CSV reader/writer that keeps spreadsheet row numbers, and
// minimal XLSX (Office Open XML) and ODS (OpenDocument) writers zipped with fflate. Pure: bytes in, bytes out;
// never touches files, the DOM or Node built-ins (papaparse is not used here: its typings pull Node's globals
// into the domain type check).
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { Problem } from '../shared/errors.ts';
import { throwIfCancelled, type JobOptions } from '../shared/cancel.ts';

/** One cell of a written sheet: text, a number, or empty. */
export type SheetCell = string | number | null;

export interface Sheet {
  /** Sheet (tab) name; Excel limits it to 31 characters and forbids []:*?/\ (they are replaced). */
  name: string;
  rows: readonly (readonly SheetCell[])[];
}

export type CsvDelimiter = ',' | ';' | ':' | '\t';

export interface CsvRecord {
  /** Row number as a spreadsheet shows it: the header is row 1; blank lines count. */
  row: number;
  cells: string[];
}

export interface ParsedCsv {
  delimiter: CsvDelimiter;
  records: CsvRecord[];
  problems: Problem[];
}

const DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t', ':'];

/**
 * Picks the delimiter of the first line: the candidate that occurs most often outside quotes (Moodle asks the
 * user: comma, semicolon, colon or tab, lib/csvlib.class.php csv_import_reader::get_delimiter_list).
 */
export function detectDelimiter(text: string): CsvDelimiter {
  const counts = new Map<CsvDelimiter, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch as CsvDelimiter))
      counts.set(ch as CsvDelimiter, counts.get(ch as CsvDelimiter)! + 1);
  }
  let best: CsvDelimiter = ',';
  for (const d of DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/**
 * RFC 4180 CSV: quoted cells with doubled quotes, CRLF/LF/CR line ends, a leading BOM. Every record keeps
 * the row number a spreadsheet shows; a blank line is a record with one empty cell.
 */
export function parseCsv(text: string, delimiter: CsvDelimiter | 'auto' = 'auto'): ParsedCsv {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const body = start ? text.slice(1) : text;
  const d = delimiter === 'auto' ? detectDelimiter(body) : delimiter;
  const records: CsvRecord[] = [];
  const problems: Problem[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let quoteRow = 0;
  const n = body.length;
  const dc = d.charCodeAt(0);
  let i = 0;
  while (i < n) {
    const c = body.charCodeAt(i);
    if (quoted) {
      // Copy the run up to the next quote in one slice (fast path for long feedback cells).
      const q = body.indexOf('"', i);
      if (q < 0) {
        cell += body.slice(i);
        i = n;
        break;
      }
      cell += body.slice(i, q);
      if (body.charCodeAt(q + 1) === 34) {
        cell += '"';
        i = q + 2;
      } else {
        quoted = false;
        i = q + 1;
      }
      continue;
    }
    // A quote opens a quoted cell at its start, also after spaces (PHP's fgetcsv, which Moodle's
    // csv_import_reader uses, reads ` "Feedback: X"` as Feedback: X; load_data_test.php $oktext).
    if (c === 34 && (cell === '' || /^[ \t]+$/.test(cell))) {
      cell = '';
      quoted = true;
      quoteRow = records.length + 1;
      i++;
    } else if (c === dc) {
      cells.push(cell);
      cell = '';
      i++;
    } else if (c === 10 || c === 13) {
      cells.push(cell);
      records.push({ row: records.length + 1, cells });
      cells = [];
      cell = '';
      i += c === 13 && body.charCodeAt(i + 1) === 10 ? 2 : 1;
    } else {
      // Plain run up to the next delimiter, quote or line end.
      let j = i + 1;
      while (j < n) {
        const cj = body.charCodeAt(j);
        if (cj === dc || cj === 10 || cj === 13 || cj === 34) break;
        j++;
      }
      cell += body.slice(i, j);
      i = j;
    }
  }
  if (quoted) problems.push({ at: `row ${quoteRow}`, message: 'a quoted cell is never closed' });
  if (cell !== '' || cells.length > 0 || quoted) {
    cells.push(cell);
    records.push({ row: records.length + 1, cells });
  }
  return { delimiter: d, records, problems };
}

function csvCell(v: SheetCell, delimiter: string): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? String(v) : v;
  if (s.includes('"') || s.includes(delimiter) || s.includes('\n') || s.includes('\r'))
    return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** Writes rows as CSV (RFC 4180, CRLF line ends as spreadsheets expect); quotes only cells that need it. */
export function writeCsv(
  rows: readonly (readonly SheetCell[])[],
  opts: { delimiter?: CsvDelimiter } & JobOptions = {},
): string {
  const d = opts.delimiter ?? ',';
  const out: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    if (r % CHUNK === 0) {
      throwIfCancelled(opts.cancel, 'CSV export');
      opts.onProgress?.(r, rows.length);
    }
    out[r] = rows[r]!.map((v) => csvCell(v, d)).join(d);
  }
  opts.onProgress?.(rows.length, rows.length);
  return out.join('\r\n') + '\r\n';
}

/** Rows between progress reports and cancel checks. */
const CHUNK = 200;

/** XML 1.0 cannot carry control characters other than tab, LF and CR, nor U+FFFE/U+FFFF. */
function invalidXmlChar(c: number): boolean {
  return (c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffe || c === 0xffff;
}

/** Escapes text for XML and drops characters XML 1.0 cannot carry. */
export function xmlText(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 38 || c === 60 || c === 62 || c === 34 || invalidXmlChar(c)) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 38) out += '&amp;';
    else if (c === 60) out += '&lt;';
    else if (c === 62) out += '&gt;';
    else if (c === 34) out += '&quot;';
    else if (!invalidXmlChar(c)) out += s[i];
  }
  return out;
}

/** Excel column letters: 0 -> A, 25 -> Z, 26 -> AA. */
export function columnLetters(index: number): string {
  let s = '';
  let n = index + 1;
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function sheetName(name: string): string {
  const clean = name.replace(/[[\]:*?/\\]/g, ' ').trim();
  return (clean || 'Grades').slice(0, 31);
}

/**
 * Writes XML straight into UTF-8 bytes: a sheet of 600,000 cells as one JS string (then encoded) costs
 * several times more than filling a growing byte buffer.
 */
class ByteWriter {
  private buf = new Uint8Array(1 << 20);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Text known to be ASCII and free of XML specials (markup, numbers, cell references). */
  ascii(s: string): void {
    this.ensure(s.length);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Any text, XML-escaped and UTF-8 encoded; characters XML 1.0 cannot carry are dropped. */
  text(s: string): void {
    // Worst case per UTF-16 unit: "&quot;" (6 bytes); a surrogate pair is 2 units for 4 bytes.
    this.ensure(s.length * 6);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c === 38) p = put(b, p, AMP);
        else if (c === 60) p = put(b, p, LT);
        else if (c === 62) p = put(b, p, GT);
        else if (c === 34) p = put(b, p, QUOT);
        else if (!invalidXmlChar(c)) b[p++] = c;
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else if (
        c >= 0xd800 &&
        c <= 0xdbff &&
        i + 1 < s.length &&
        (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
      ) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        b[p++] = 0xf0 | (cp >> 18);
        b[p++] = 0x80 | ((cp >> 12) & 0x3f);
        b[p++] = 0x80 | ((cp >> 6) & 0x3f);
        b[p++] = 0x80 | (cp & 0x3f);
      } else if (!invalidXmlChar(c) && !(c >= 0xd800 && c <= 0xdfff)) {
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      }
    }
    this.pos = p;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

const AMP = [38, 97, 109, 112, 59];
const LT = [38, 108, 116, 59];
const GT = [38, 103, 116, 59];
const QUOT = [38, 113, 117, 111, 116, 59];

function put(b: Uint8Array, p: number, bytes: readonly number[]): number {
  for (const x of bytes) b[p++] = x;
  return p;
}

/** Deflate level: 1 is several times faster than 6 and the XML still shrinks about tenfold. */
const ZIP_LEVEL = 1;

/**
 * XLSX workbook with one sheet: numbers as number cells, text as inline strings (no shared-string table, so
 * it streams row by row). The parts are the minimum Excel, LibreOffice and Numbers open (ECMA-376 part 1).
 */
export function writeXlsx(sheet: Sheet, opts: JobOptions = {}): Uint8Array {
  const w = new ByteWriter();
  w.ascii(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
  );
  const total = sheet.rows.length;
  const letters: string[] = [];
  for (let r = 0; r < total; r++) {
    if (r % CHUNK === 0) {
      throwIfCancelled(opts.cancel, 'XLSX export');
      opts.onProgress?.(r, total);
    }
    const row = sheet.rows[r]!;
    const rn = String(r + 1);
    w.ascii(`<row r="${rn}">`);
    for (let c = 0; c < row.length; c++) {
      const v = row[c];
      if (v === null || v === undefined || v === '') continue;
      const ref = (letters[c] ??= columnLetters(c)) + rn;
      if (typeof v === 'number') {
        if (Number.isFinite(v)) w.ascii(`<c r="${ref}"><v>${v}</v></c>`);
      } else {
        w.ascii(`<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">`);
        w.text(v);
        w.ascii('</t></is></c>');
      }
    }
    w.ascii('</row>');
  }
  w.ascii('</sheetData></worksheet>');
  opts.onProgress?.(total, total);
  const files: Zippable = {
    '[Content_Types].xml': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
        '</Types>',
    ),
    '_rels/.rels': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>' +
        '</Relationships>',
    ),
    'xl/workbook.xml': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
        `<sheets><sheet name="${xmlText(sheetName(sheet.name))}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ),
    'xl/_rels/workbook.xml.rels': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>' +
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' +
        '</Relationships>',
    ),
    'xl/styles.xml': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>' +
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>' +
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
        '</styleSheet>',
    ),
    'xl/worksheets/sheet1.xml': w.bytes(),
  };
  return zipSync(files, { level: ZIP_LEVEL, mtime: ZIP_TIME });
}

/**
 * Fixed zip entry time so that the same export gives the same bytes (fflate would read the clock otherwise);
 * the export time is in the summary and the sheet. 1980-01-02 UTC: the zip (DOS) epoch is 1980-01-01 in
 * local time, so one day later stays valid in every time zone.
 */
const ZIP_TIME = Date.UTC(1980, 0, 2);

const ODS_MIME = 'application/vnd.oasis.opendocument.spreadsheet';

/**
 * ODS spreadsheet with one table (OpenDocument 1.2): `mimetype` first and stored, a manifest and content.xml.
 * Numbers are float cells with their value, text is string cells.
 */
export function writeOds(sheet: Sheet, opts: JobOptions = {}): Uint8Array {
  const w = new ByteWriter();
  w.ascii(
    '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">' +
      '<office:body><office:spreadsheet><table:table table:name="',
  );
  w.text(sheetName(sheet.name));
  w.ascii('">');
  const total = sheet.rows.length;
  for (let r = 0; r < total; r++) {
    if (r % CHUNK === 0) {
      throwIfCancelled(opts.cancel, 'ODS export');
      opts.onProgress?.(r, total);
    }
    w.ascii('<table:table-row>');
    for (const v of sheet.rows[r]!) {
      if (v === null || v === '' || (typeof v === 'number' && !Number.isFinite(v)))
        w.ascii('<table:table-cell/>');
      else if (typeof v === 'number')
        // office:value is the cell's value; the optional <text:p> rendering is left to the application.
        w.ascii(`<table:table-cell office:value-type="float" office:value="${v}"/>`);
      else {
        w.ascii('<table:table-cell office:value-type="string"><text:p>');
        w.text(v);
        w.ascii('</text:p></table:table-cell>');
      }
    }
    w.ascii('</table:table-row>');
  }
  w.ascii('</table:table></office:spreadsheet></office:body></office:document-content>');
  opts.onProgress?.(total, total);
  const files: Zippable = {
    mimetype: [strToU8(ODS_MIME), { level: 0 }],
    'META-INF/manifest.xml': strToU8(
      '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">' +
        `<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="${ODS_MIME}"/>` +
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>' +
        '</manifest:manifest>',
    ),
    'content.xml': w.bytes(),
  };
  return zipSync(files, { level: ZIP_LEVEL, mtime: ZIP_TIME });
}

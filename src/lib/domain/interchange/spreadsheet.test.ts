// Tests of the CSV reader/writer and the XLSX/ODS writers (SPEC-import-export.md EXP-7, IMP-12): files are
// unzipped with fflate and their XML read back with fast-xml-parser, independently of the writers.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { strFromU8, unzipSync } from 'fflate';
import { readOdsRows, readXlsxRows } from '../../../../test/fixtures/import/read-sheets.ts';
import {
  columnLetters,
  detectDelimiter,
  parseCsv,
  writeCsv,
  writeOds,
  writeXlsx,
  xmlText,
} from './spreadsheet.ts';
import { cancelSource, CancelledError } from '../shared/cancel.ts';

describe('CSV', () => {
  it('[IMP-12] quoted cells, doubled quotes, CRLF/LF/CR, a BOM; row numbers as a spreadsheet shows them', () => {
    const p = parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n\rlast,"multi\nline"');
    expect(p.delimiter).toBe(',');
    expect(p.records).toEqual([
      { row: 1, cells: ['a', 'b'] },
      { row: 2, cells: ['x, y', 'say "hi"'] },
      { row: 3, cells: [''] },
      { row: 4, cells: ['last', 'multi\nline'] },
    ]);
    expect(parseCsv('a,"open\nb').problems).toEqual([
      { at: 'row 1', message: 'a quoted cell is never closed' },
    ]);
  });

  it('[IMP-12] delimiter detection on the header line (Moodle offers comma, semicolon, colon, tab)', () => {
    expect(detectDelimiter('a;b;"c,d"\n1,2,3,4')).toBe(';');
    expect(detectDelimiter('a\tb\tc')).toBe('\t');
    expect(detectDelimiter('a:b')).toBe(':');
    expect(detectDelimiter('single')).toBe(',');
    expect(parseCsv('Name;Grade\nAnn;"7,5"').records[1]!.cells).toEqual(['Ann', '7,5']);
  });

  it('[EXP-7] writeCsv quotes only what needs it and parseCsv reads back exactly what was written', () => {
    expect(writeCsv([['a', 1.5, null, 'x,y', 'q"t']])).toBe('a,1.5,,"x,y","q""t"\r\n');
    const text = fc.string({ unit: fc.constantFrom('a', ' ', ',', ';', '"', '\n', '\r', 'é', '\t') });
    fc.assert(
      fc.property(
        fc.array(fc.array(text, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom<',' | ';' | '\t'>(',', ';', '\t'),
        (rows, d) => {
          const back = parseCsv(writeCsv(rows, { delimiter: d }), d).records.map((r) => r.cells);
          expect(back).toEqual(rows);
        },
      ),
    );
  });
});

describe('XLSX and ODS', () => {
  const rows = [
    ['User ID', 'Name', 'Quiz (Real)', 'Note'],
    ['u1', 'Ann <&> "A"', 7.5, null],
    ['u2', 'Bob\u0001', null, 'line\nbreak'],
    ['u3', 'Zoë 😀 中文\ud800', -0.5, 'x'],
  ];

  it('[EXP-7] an XLSX holds the Office Open XML parts and the cells read back: numbers as numbers, text escaped', () => {
    const bytes = writeXlsx({ name: 'Grades: [all]', rows });
    const files = unzipSync(bytes);
    expect(Object.keys(files).sort()).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/_rels/workbook.xml.rels',
      'xl/styles.xml',
      'xl/workbook.xml',
      'xl/worksheets/sheet1.xml',
    ]);
    expect(strFromU8(files['xl/workbook.xml']!)).toContain(
      '<sheet name="Grades   all" sheetId="1" r:id="rId1"/>',
    );
    expect(readXlsxRows(bytes)).toEqual([
      ['User ID', 'Name', 'Quiz (Real)', 'Note'],
      ['u1', 'Ann <&> "A"', 7.5],
      ['u2', 'Bob', null, 'line\nbreak'],
      ['u3', 'Zoë 😀 中文', -0.5, 'x'],
    ]);
    // Deterministic bytes: no clock in the zip headers.
    expect(writeXlsx({ name: 'Grades: [all]', rows })).toEqual(bytes);
  });

  it('[EXP-7] an ODS has its stored mimetype first, a manifest, and the cells read back', () => {
    const bytes = writeOds({ name: 'Grades', rows });
    expect(strFromU8(bytes.subarray(30, 38))).toBe('mimetype');
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toEqual(['mimetype', 'META-INF/manifest.xml', 'content.xml']);
    expect(readOdsRows(bytes)).toEqual([
      ['User ID', 'Name', 'Quiz (Real)', 'Note'],
      ['u1', 'Ann <&> "A"', 7.5, null],
      ['u2', 'Bob', null, 'line\nbreak'],
      ['u3', 'Zoë 😀 中文', -0.5, 'x'],
    ]);
  });

  it('[EXP-7] writers report progress and stop when cancelled', () => {
    const many = Array.from({ length: 450 }, (_, i) => [`u${i}`, i]);
    const seen: number[] = [];
    writeXlsx({ name: 'G', rows: many }, { onProgress: (d) => seen.push(d) });
    expect(seen).toEqual([0, 200, 400, 450]);
    const src = cancelSource();
    src.cancel();
    expect(() => writeOds({ name: 'G', rows: many }, { cancel: src.token })).toThrow(CancelledError);
  });

  it('column letters and XML escaping', () => {
    expect([0, 25, 26, 51, 52, 701, 702].map(columnLetters)).toEqual([
      'A',
      'Z',
      'AA',
      'AZ',
      'BA',
      'ZZ',
      'AAA',
    ]);
    expect(xmlText('a<b>&"c"\u0000\u0009')).toBe('a&lt;b&gt;&amp;&quot;c&quot;\u0009');
    expect(xmlText('plain')).toBe('plain');
  });
});

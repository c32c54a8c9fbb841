// CSV text -> string records via papaparse, for the analytics importers (OULAD, Moodle log CSV).
// Adapter: runs in the page, a worker or Node; never reads files or the network itself.
import Papa from 'papaparse';
import { ValidationError } from '../domain/shared/errors.ts';

export type CsvRecords = Record<string, string>[];

/** Parses CSV with a header row; a malformed row rejects the whole file, naming the file and row. */
export function parseCsv(text: string, fileName: string): CsvRecords {
  const res = Papa.parse<Record<string, string>>(text, {
    header: true,
    skipEmptyLines: true,
    dynamicTyping: false,
  });
  const problems = res.errors
    .filter((e) => e.code !== 'UndetectableDelimiter')
    .map((e) => ({ at: `${fileName} row ${(e.row ?? 0) + 2}`, message: e.message }));
  if (problems.length > 0) throw new ValidationError(problems);
  return res.data;
}

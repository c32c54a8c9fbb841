// What a teacher types or pastes into the grader grid, turned into CRDT commands: numbers (decimal comma
// accepted), scale labels, shorthand codes ("ab"), clearing; out-of-range values warn before they are kept.
// Pure (no Svelte, no storage): unit-tested in Node.
import type { Command } from '../crdt/commands';
import type { GridColumn, GridModel, GridRow } from './grid-model';

/** A shorthand code: what typing it means. */
export interface ShorthandCode {
  code: string;
  /** Grade to store (null clears it). */
  value: number | null;
  /** Also mark the grade excluded from aggregation. */
  excluded?: boolean;
  label: string;
}

/** Defaults a teacher can change: "ab" absent scores 0, "ex" excused clears and excludes. */
export const DEFAULT_CODES: readonly ShorthandCode[] = [
  { code: 'ab', value: 0, label: 'Absent: scores 0' },
  { code: 'ex', value: null, excluded: true, label: 'Excused: no grade, excluded from totals' },
];

export type EntryResult =
  | { kind: 'ok'; commands: Command[] }
  | { kind: 'warn'; commands: Command[]; message: string }
  | { kind: 'error'; message: string };

/** Interprets one typed value for one cell. */
export function parseEntry(text: string, col: GridColumn, row: GridRow, codes: readonly ShorthandCode[] = DEFAULT_CODES): EntryResult {
  const t = text.trim();
  const set = (value: number | null, excluded?: boolean): Command[] => {
    const cmds: Command[] = [{ type: 'setGrade', item: col.id, user: row.id, final: value }];
    if (excluded !== undefined) cmds.push({ type: 'excludeGrade', item: col.id, user: row.id, excluded });
    return cmds;
  };
  if (t === '' || t === '-') return { kind: 'ok', commands: set(null) };
  const code = codes.find((c) => c.code.toLowerCase() === t.toLowerCase());
  if (code) return { kind: 'ok', commands: set(code.value, code.excluded) };
  if (col.scale) {
    const k = col.scale.findIndex((l) => l.toLowerCase() === t.toLowerCase());
    if (k >= 0) return { kind: 'ok', commands: set(k + 1) };
    const n = Number(t);
    if (Number.isInteger(n) && n >= 1 && n <= col.scale.length) return { kind: 'ok', commands: set(n) };
    return { kind: 'error', message: `"${t}" is not on the scale of ${col.name} (${col.scale.join(', ')}).` };
  }
  const normalised = /^-?\d+,\d+$/.test(t) ? t.replace(',', '.') : t; // decimal comma, as typed in many locales
  const v = Number(normalised);
  if (normalised === '' || !Number.isFinite(v)) return { kind: 'error', message: `"${t}" is not a grade for ${col.name}: type a number${codes.length ? ` or a code (${codes.map((c) => c.code).join(', ')})` : ''}.` };
  // Outliers: negative, or above 1.5 x the maximum, are almost always typing slips; anything else out of range is unusual.
  if (v < 0 || v > 1.5 * col.max) return { kind: 'warn', commands: set(v), message: `${v} looks like a typing slip for ${col.name} (range ${col.min}–${col.max}). Press Enter again to keep it.` };
  if (v < col.min || v > col.max) return { kind: 'warn', commands: set(v), message: `${v} is outside ${col.name}'s range ${col.min}–${col.max} and will count as ${v < col.min ? col.min : col.max}. Press Enter again to keep it.` };
  return { kind: 'ok', commands: set(v) };
}

export function isEditable(col: GridColumn): boolean {
  return col.kind === 'item' && !col.calculated;
}

export interface BulkPlan {
  commands: Command[];
  /** Cells that will change. */
  cells: number;
  /** Human-readable reasons for cells left alone. */
  skipped: string[];
  /** Values that cannot be used: the whole action is refused while there are any. */
  errors: string[];
  warnings: string[];
}

/** Splits spreadsheet clipboard text (tab-separated, one row per line) into a matrix. */
export function parseClipboard(text: string): string[][] {
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  return lines.map((l) => l.split('\t'));
}

/** Plans pasting a block whose top-left lands on (row r0, column c0) of what the grid shows. */
export function planPaste(matrix: string[][], r0: number, c0: number, rows: readonly GridRow[], cols: readonly GridColumn[], model: GridModel, codes: readonly ShorthandCode[] = DEFAULT_CODES): BulkPlan {
  const plan: BulkPlan = { commands: [], cells: 0, skipped: [], errors: [], warnings: [] };
  matrix.forEach((line, i) => {
    const row = rows[r0 + i];
    if (!row) {
      plan.skipped.push(`pasted row ${i + 1}: no student row there`);
      return;
    }
    line.forEach((text, j) => {
      const col = cols[c0 + j];
      if (!col) {
        plan.skipped.push(`pasted column ${j + 1}: no column there`);
        return;
      }
      if (!isEditable(col)) {
        plan.skipped.push(`${col.name} (${row.name}): computed, not typed`);
        return;
      }
      if (model.lockedCell(col, row)) {
        plan.skipped.push(`${col.name} (${row.name}): locked`);
        return;
      }
      const r = parseEntry(text, col, row, codes);
      if (r.kind === 'error') plan.errors.push(`row ${i + 1}, column ${j + 1}: ${r.message}`);
      else {
        if (r.kind === 'warn') plan.warnings.push(`${row.name}, ${col.name}: ${r.message.replace(' Press Enter again to keep it.', '')}`);
        const cur = model.final(col, row);
        const next = (r.commands[0] as { final: number | null }).final;
        if (cur !== next || r.commands.length > 1) {
          plan.commands.push(...r.commands);
          plan.cells++;
        }
      }
    });
  });
  return plan;
}

/** Plans filling every empty grade of one column with a value. */
export function planFillEmpty(col: GridColumn, text: string, rows: readonly GridRow[], model: GridModel, codes: readonly ShorthandCode[] = DEFAULT_CODES): BulkPlan {
  const plan: BulkPlan = { commands: [], cells: 0, skipped: [], errors: [], warnings: [] };
  if (!isEditable(col)) {
    plan.errors.push(`${col.name} is computed: it has no grades to fill.`);
    return plan;
  }
  for (const row of rows) {
    if (model.final(col, row) !== null) continue;
    if (model.lockedCell(col, row)) {
      plan.skipped.push(`${row.name}: locked`);
      continue;
    }
    const r = parseEntry(text, col, row, codes);
    if (r.kind === 'error') {
      plan.errors.push(r.message);
      return plan;
    }
    if (r.kind === 'warn' && plan.warnings.length === 0) plan.warnings.push(r.message.replace(' Press Enter again to keep it.', ''));
    plan.commands.push(...r.commands);
    plan.cells++;
  }
  return plan;
}

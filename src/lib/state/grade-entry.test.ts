import { describe, expect, it } from 'vitest';
import { buildDemoSite } from '../domain/interchange/demo';
import { buildGridModel } from './grid-model';
import { parseClipboard, parseEntry, planFillEmpty, planPaste } from './grade-entry';

const model = buildGridModel(buildDemoSite().courses[0]!.gradebook, 0);
const col = (id: string) => model.columns.find((c) => c.id === id)!;
const row = (id: string) => model.rows.find((r) => r.id === id)!;

describe('grade entry', () => {
  it('[ENT-1] a number, with a decimal point or comma, sets the final grade', () => {
    for (const t of ['7.5', '7,5']) {
      const r = parseEntry(t, col('i-lab1'), row('s1'));
      expect(r).toEqual({ kind: 'ok', commands: [{ type: 'setGrade', item: 'i-lab1', user: 's1', final: 7.5 }] });
    }
  });
  it('[ENT-2] an empty entry clears the grade; a shorthand code applies its meaning', () => {
    expect(parseEntry('', col('i-lab1'), row('s1'))).toMatchObject({ kind: 'ok', commands: [{ final: null }] });
    const ex = parseEntry('EX', col('i-lab1'), row('s1'));
    expect(ex).toMatchObject({ kind: 'ok', commands: [{ final: null }, { type: 'excludeGrade', excluded: true }] });
    expect(parseEntry('ab', col('i-lab1'), row('s1'))).toMatchObject({ kind: 'ok', commands: [{ final: 0 }] });
  });
  it('[ENT-3] scale items take a label or its position; other words are refused with the scale named', () => {
    expect(parseEntry('excellent', col('i-part'), row('s1'))).toMatchObject({ kind: 'ok', commands: [{ final: 4 }] });
    expect(parseEntry('2', col('i-part'), row('s1'))).toMatchObject({ kind: 'ok', commands: [{ final: 2 }] });
    const bad = parseEntry('Great', col('i-part'), row('s1'));
    expect(bad.kind).toBe('error');
    expect(bad.kind === 'error' && bad.message).toContain('Not yet, Developing, Competent, Excellent');
  });
  it('[ENT-4] outliers warn: negative, above 1.5 x max, or outside the range', () => {
    expect(parseEntry('-1', col('i-lab1'), row('s1')).kind).toBe('warn');
    expect(parseEntry('31', col('i-lab1'), row('s1')).kind).toBe('warn');
    expect(parseEntry('21', col('i-lab1'), row('s1')).kind).toBe('warn');
    expect(parseEntry('20', col('i-lab1'), row('s1')).kind).toBe('ok');
    expect(parseEntry('abc', col('i-lab1'), row('s1')).kind).toBe('error');
  });
  it('[ENT-5] a pasted block lands from the active cell, skipping computed columns, and refuses bad values', () => {
    const cols = model.columns;
    const c0 = cols.findIndex((c) => c.id === 'i-lab1');
    const matrix = parseClipboard('1\t2\t3\n4\t5\t6\n');
    expect(matrix).toEqual([['1', '2', '3'], ['4', '5', '6']]);
    const plan = planPaste(matrix, 0, c0, model.rows, cols, model);
    expect(plan.errors).toEqual([]);
    // lab1 and lab2 are typed; lab3 is a locked item (its cells are locked) so it is skipped
    expect(plan.commands.every((c) => c.type === 'setGrade' && c.item !== 'i-lab3')).toBe(true);
    expect(plan.skipped.some((s) => s.includes('locked'))).toBe(true);
    const bad = planPaste([['x']], 0, c0, model.rows, cols, model);
    expect(bad.errors[0]).toContain('row 1, column 1');
  });
  it('[ENT-6] fill empty grades touches only the empty cells of the column', () => {
    const c = col('i-final');
    const empty = model.rows.filter((r) => model.final(c, r) === null).length;
    expect(empty).toBeGreaterThan(0);
    const plan = planFillEmpty(c, '0', model.rows, model);
    expect(plan.cells).toBe(empty);
    expect(planFillEmpty(col('course'), '0', model.rows, model).errors.length).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { buildDemoSite } from '../domain/interchange/demo';
import { distribution, studentTrend } from './distribution';
import { buildGridModel } from './grid-model';

const model = buildGridModel(buildDemoSite().courses[0]!.gradebook, 0);
const col = (id: string) => model.columns.find((c) => c.id === id)!;

describe('distribution', () => {
  it('[STAT-1] every graded student lands in exactly one bin; ungraded ones are counted apart', () => {
    const d = distribution(model, col('i-lab1'), model.rows);
    expect(d.bins.reduce((a, b) => a + b.count, 0)).toBe(d.graded);
    expect(d.graded + d.ungraded).toBe(model.rows.length);
    expect(d.bins).toHaveLength(10);
  });
  it('[STAT-2] a grade at the maximum falls in the top bin; the mean matches the grades', () => {
    const c = col('i-lab1');
    const finals = model.rows.map((r) => model.final(c, r)).filter((v): v is number => v !== null);
    const d = distribution(model, c, model.rows);
    expect(d.bins[9]!.count).toBe(finals.filter((v) => v >= 18).length);
    expect(d.mean).toBeCloseTo((finals.reduce((a, b) => a + b, 0) / finals.length) * 5, 6);
  });
  it('[STAT-3] a student trend has one point per grade item, in gradebook order', () => {
    const t = studentTrend(model, model.rows[0]!);
    expect(t.map((p) => p.item)).toEqual(model.columns.filter((c) => c.kind === 'item').map((c) => c.id));
    expect(t.every((p) => p.percent === null || (p.percent >= 0 && p.percent <= 100))).toBe(true);
  });
});

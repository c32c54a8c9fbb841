// grade/tests/behat/grade_minmax.feature re-encoded: ranges changed without rescaling, then "initial min and
// max grades"; user report weight, grade, range, percentage and contribution as Moodle shows them (RNG-7, REP-5).
import { describe, expect, it } from 'vitest';
import { loadCourse, formatFloat, type Gradebook } from './index.ts';
import type { CourseJson } from '../interchange/course-types.ts';

function start(): Gradebook {
  const item = (id: string, category: string) => ({
    id,
    idnumber: id,
    category,
    name: id.toUpperCase(),
    grademin: 0,
    grademax: 100,
  });
  const json: CourseJson = {
    categories: [
      { id: 'c1', parent: null, name: 'C1', aggregation: 'natural' },
      { id: 'cat1', parent: 'c1', name: 'CAT1', aggregation: 'natural' },
    ],
    items: [
      item('mi1', 'c1'),
      item('mi2', 'c1'),
      item('mi3', 'cat1'),
      item('mi4', 'cat1'),
      { ...item('mi5', 'c1'), calculation: '=[[mi1]]+[[mi2]]+[[mi3]]' },
    ],
    // Manual items: stored finals, with the range they were graded on.
    grades: [
      ['s1', 'mi1', 75],
      ['s1', 'mi2', 25],
      ['s1', 'mi3', 50],
      ['s1', 'mi4', 100],
      ['s2', 'mi1', 20],
      ['s2', 'mi3', 10],
    ].map(([user, it, v]) => ({
      user: user as string,
      item: it as string,
      raw: null,
      final: v as number,
      rawgrademin: 0,
      rawgrademax: 100,
    })),
    settings: { minmaxtouse: 'item' },
  };
  return loadCourse(json);
}

const pct = (v: number | null) => (v === null ? '-' : `${formatFloat(v, 2)} %`);
function table(gb: Gradebook, user: string): string[][] {
  return gb
    .userReport(user, { viewer: 'teacher', now: 0 })
    .map((r) => [
      r.item,
      pct(r.weightPct),
      r.final === null ? '-' : formatFloat(r.final, 2),
      `${r.range[0]}–${r.range[1]}`,
      pct(r.percentage),
      pct(r.contributionPct),
    ]);
}

describe('grade_minmax.feature', () => {
  it('[RNG-7] before any change', () => {
    const gb = start();
    expect(table(gb, 's1')).toEqual([
      ['mi1', '20.00 %', '75.00', '0–100', '75.00 %', '15.00 %'],
      ['mi2', '20.00 %', '25.00', '0–100', '25.00 %', '5.00 %'],
      ['mi5', '20.00 %', '100.00', '0–100', '100.00 %', '20.00 %'],
      ['mi3', '50.00 %', '50.00', '0–100', '50.00 %', '10.00 %'],
      ['mi4', '50.00 %', '100.00', '0–100', '100.00 %', '20.00 %'],
      ['cat1', '40.00 %', '150.00', '0–200', '75.00 %', '-'],
      ['course', '-', '350.00', '0–500', '70.00 %', '-'],
    ]);
    expect(table(gb, 's2')).toEqual([
      ['mi1', '33.33 %', '20.00', '0–100', '20.00 %', '6.67 %'],
      ['mi2', '0.00 %', '-', '0–100', '-', '0.00 %'],
      ['mi5', '33.33 %', '30.00', '0–100', '30.00 %', '10.00 %'],
      ['mi3', '100.00 %', '10.00', '0–100', '10.00 %', '3.33 %'],
      ['mi4', '0.00 %', '-', '0–100', '-', '0.00 %'],
      ['cat1', '33.33 %', '10.00', '0–100', '10.00 %', '-'],
      ['course', '-', '60.00', '0–300', '20.00 %', '-'],
    ]);
  });
  it('[RNG-4][RNG-7] MI 1 and MI 3 changed to 5..50 without rescaling, then MI 5 to 0..200, then initial min/max', () => {
    const gb = start();
    gb.updateItem('mi1', { grademin: 5, grademax: 50 });
    gb.updateItem('mi3', { grademin: 5, grademax: 50 });
    expect(table(gb, 's1')).toEqual([
      ['mi1', '12.50 %', '75.00', '5–50', '100.00 %', '18.75 %'],
      ['mi2', '25.00 %', '25.00', '0–100', '25.00 %', '6.25 %'],
      ['mi5', '25.00 %', '100.00', '0–100', '100.00 %', '25.00 %'],
      ['mi3', '33.33 %', '50.00', '5–50', '100.00 %', '12.50 %'],
      ['mi4', '66.67 %', '100.00', '0–100', '100.00 %', '25.00 %'],
      ['cat1', '37.50 %', '150.00', '0–150', '100.00 %', '-'],
      ['course', '-', '350.00', '0–400', '87.50 %', '-'],
    ]);
    expect(table(gb, 's2')).toEqual([
      ['mi1', '25.00 %', '20.00', '5–50', '33.33 %', '10.00 %'],
      ['mi2', '0.00 %', '-', '0–100', '-', '0.00 %'],
      ['mi5', '50.00 %', '30.00', '0–100', '30.00 %', '15.00 %'],
      ['mi3', '100.00 %', '10.00', '5–50', '11.11 %', '5.00 %'],
      ['mi4', '0.00 %', '-', '0–100', '-', '0.00 %'],
      ['cat1', '25.00 %', '10.00', '0–50', '20.00 %', '-'],
      ['course', '-', '60.00', '0–200', '30.00 %', '-'],
    ]);
    gb.updateItem('mi5', { grademax: 200 });
    const s1 = table(gb, 's1');
    expect(s1.find((r) => r[0] === 'mi5')).toEqual([
      'mi5',
      '40.00 %',
      '150.00',
      '0–200',
      '75.00 %',
      '30.00 %',
    ]);
    expect(s1.at(-1)).toEqual(['course', '-', '400.00', '0–500', '80.00 %', '-']);
    const s2 = table(gb, 's2');
    expect(s2.find((r) => r[0] === 'mi5')).toEqual([
      'mi5',
      '66.67 %',
      '30.00',
      '0–200',
      '15.00 %',
      '10.00 %',
    ]);
    expect(s2.at(-1)).toEqual(['course', '-', '60.00', '0–300', '20.00 %', '-']);

    const json = gb.toJson();
    const initial = loadCourse({ ...json, settings: { ...json.settings, minmaxtouse: 'grade' } });
    expect(table(initial, 's1')).toEqual([
      ['mi1', '16.67 %', '75.00', '0–100', '75.00 %', '12.50 %'],
      ['mi2', '16.67 %', '25.00', '0–100', '25.00 %', '4.17 %'],
      ['mi5', '33.33 %', '150.00', '0–200', '75.00 %', '25.00 %'],
      ['mi3', '50.00 %', '50.00', '0–100', '50.00 %', '8.33 %'],
      ['mi4', '50.00 %', '100.00', '0–100', '100.00 %', '16.67 %'],
      ['cat1', '33.33 %', '150.00', '0–200', '75.00 %', '-'],
      ['course', '-', '400.00', '0–600', '66.67 %', '-'],
    ]);
    expect(table(initial, 's2')).toEqual([
      ['mi1', '25.00 %', '20.00', '0–100', '20.00 %', '5.00 %'],
      ['mi2', '0.00 %', '-', '0–100', '-', '0.00 %'],
      ['mi5', '50.00 %', '30.00', '0–200', '15.00 %', '7.50 %'],
      ['mi3', '100.00 %', '10.00', '0–100', '10.00 %', '2.50 %'],
      ['mi4', '0.00 %', '-', '0–100', '-', '0.00 %'],
      ['cat1', '25.00 %', '10.00', '0–100', '10.00 %', '-'],
      ['course', '-', '60.00', '0–400', '15.00 %', '-'],
    ]);
  });
});

// Deterministic course fixtures for the CRDT tests, fuzz and benchmarks (sizes on demand, values from a seed).
// Pure data builders: never read a clock or a random source other than the seeded one passed in.
import type { CourseGrade, CourseJson } from '../domain/interchange/course-types.ts';
import { seededRng } from '../domain/shared/clock.ts';

/** A course with one top category, `items` value items of range 0..100 and a raw grade for every user. */
export function makeCourse(items: number, users: number, seed = 1): CourseJson {
  const rng = seededRng(seed);
  const grades: CourseGrade[] = [];
  for (let i = 0; i < items; i++)
    for (let u = 0; u < users; u++)
      grades.push({ user: `u${u}`, item: `i${i}`, raw: Math.round(rng.next() * 1000) / 10 });
  return {
    categories: [{ id: 'c0', parent: null, name: 'Course', aggregation: 'natural' }],
    items: Array.from({ length: items }, (_, i) => ({
      id: `i${i}`,
      idnumber: `item${i}`,
      category: 'c0',
      name: `Item ${i}`,
      grademin: 0,
      grademax: 100,
    })),
    grades,
    settings: { hideTotalsWithHiddenItems: 'none' },
  };
}

// Gradebook engine benchmark: full regrade, one grade change to the course total, and memory, at
// 500/1,000/2,000 students x 300 items (four category levels, mixed methods, ten calculations).
// Measures only; prints figures and ratios to the goals of issue 3.
import { Gradebook } from '../../src/lib/domain/gradebook/index.ts';
import { validateCourseJson } from '../../src/lib/domain/interchange/course-json.ts';
import { seededRng } from '../../src/lib/domain/shared/clock.ts';
import { generateCourse } from '../fixtures/courses/generate.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { percentile, report, timeRuns } from './util.ts';

// Typed arrays live outside the JS heap, so memory is heapUsed + arrayBuffers, measured after a real GC
// (exposed at run time because the bench runner starts node without --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function memMB(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1048576;
}

const GOAL_FULL_MS = 300;
const GOAL_ONE_MS = 2;
const GOAL_MB = 200;

export async function run(): Promise<void> {
  for (const students of [500, 1000, 2000]) {
    const json = validateCourseJson(
      generateCourse({ students, items: 300, levels: 3, fanout: 3, calculated: 10, seed: 7 }),
    );
    console.log(
      `\n${students} students x ${json.items.length} items, ${json.categories.length} categories, ${json.grades.length} grades`,
    );
    const before = memMB();
    const t0 = performance.now();
    let gb: Gradebook | null = new Gradebook(json, { now: 0 });
    report('load (compile + first regrade)', performance.now() - t0);
    gb.regradeAll(); // the second column set of the double buffer exists from here on
    const after = memMB();
    const mb = after - before;
    console.log(
      `${'memory of the loaded course'.padEnd(48)} ${`${mb.toFixed(1)} MB`.padStart(10)}` +
        (students === 2000 ? `  goal <= ${GOAL_MB} MB, ratio ${(mb / GOAL_MB).toFixed(2)}` : ''),
    );
    const full = await timeRuns(5, () => gb!.regradeAll());
    report('full regrade, median of 5', percentile(full, 50), students === 2000 ? GOAL_FULL_MS : undefined);
    const rng = seededRng(3);
    const users = gb.users;
    const one = await timeRuns(500, () => {
      const u = users[Math.floor(rng.next() * users.length)]!;
      const i = Math.floor(rng.next() * 290);
      gb!.setGrade(`i${i}`, u, { raw: Math.round(rng.next() * 10) });
    });
    report(
      'one grade change -> course total, median',
      percentile(one, 50),
      students === 2000 ? GOAL_ONE_MS : undefined,
    );
    report(
      'one grade change -> course total, p95',
      percentile(one, 95),
      students === 2000 ? GOAL_ONE_MS : undefined,
    );
    const rep = await timeRuns(3, () => gb!.courseReport({ viewer: 'student', now: 0 }));
    report('course report, student view, all users', percentile(rep, 50));
    gb = null;
  }
}

// Formula benchmark: compile 10 gradebook calculations, then evaluate them for 2,000 students
// (one full regrade of the calculated items), plus dependency planning. Prints figures and goal ratios.
import {
  compileFormula,
  compileGradebookFormula,
  planDependencies,
  type GradebookFormula,
} from '../../src/lib/domain/formula/index.ts';
import { seededRng } from '../../src/lib/domain/shared/clock.ts';
import { percentile, report, timeRuns } from './util.ts';

const STUDENTS = 2000;

/** Ten calculations of the kind teachers write (MoodleDocs "Grade calculations" examples and ours). */
const FORMULAS = [
  '=[[quiz1]]*2 + sum([[a1]],[[a2]])',
  '=average([[quiz1]], [[quiz2]], [[quiz3]], [[quiz4]])',
  '=max([[exam]], ([[quiz1]] + [[quiz2]])/2)',
  '=round(([[a1]] + [[a2]] + [[a3]]) / 3, 2)',
  '=if([[exam]] >= 50, [[exam]]*0.6 + [[cw]]*0.4, [[exam]])',
  '=min(100, [[cw]] + 5)',
  '=sum([[a1]],[[a2]],[[a3]],[[quiz1]],[[quiz2]],[[quiz3]],[[quiz4]]) / 7',
  '=([[exam]]^2)/100 - mod([[a1]], 3)',
  '=if(and([[a1]]>=40, [[a2]]>=40, [[a3]]>=40), 1, 0) * 100',
  '=0.25*[[quiz1]] + 0.25*[[quiz2]] + 0.5*[[exam]] - 2*floor([[a3]]/50)',
];
const IDNUMBERS = ['quiz1', 'quiz2', 'quiz3', 'quiz4', 'a1', 'a2', 'a3', 'exam', 'cw'];

export async function run(): Promise<void> {
  const rng = seededRng(2026);
  // Each student's grades, keyed by idnumber; one in ten grades missing (null counts as 0).
  const students: Map<string, number | null>[] = [];
  for (let s = 0; s < STUDENTS; s++) {
    const m = new Map<string, number | null>();
    for (const id of IDNUMBERS) m.set(id, rng.next() < 0.1 ? null : Math.round(rng.next() * 1000) / 10);
    students.push(m);
  }

  // Compile all ten (what a full regrade does once).
  const compileTimes = await timeRuns(200, () => FORMULAS.map((f) => compileGradebookFormula(f)), 20);
  report('compile 10 calculations (median)', percentile(compileTimes, 50), 1);

  const compiled: GradebookFormula[] = FORMULAS.map((f) => compileGradebookFormula(f));
  let checksum = 0;
  const regrade = (): void => {
    for (const f of compiled) {
      for (let s = 0; s < STUDENTS; s++) {
        const v = f.evaluateRefs(students[s]!);
        if (v !== null) checksum += v;
      }
    }
  };
  const evalTimes = await timeRuns(30, regrade, 5);
  const median = percentile(evalTimes, 50);
  report(`evaluate 10 x ${STUDENTS} students (median)`, median, 10);
  report(`evaluate 10 x ${STUDENTS} students (p95)`, percentile(evalTimes, 95), 10);
  const perEvalNs = (median * 1e6) / (10 * STUDENTS);
  console.log(
    `  per evaluation: ${perEvalNs.toFixed(0)} ns  (${Math.round(1e9 / perEvalNs).toLocaleString('en')} evaluations/s)`,
  );

  // Compile + one regrade together: the cost of the calculated items in a cold full regrade.
  const cold = await timeRuns(
    20,
    () => {
      const fs = FORMULAS.map((f) => compileGradebookFormula(f));
      for (const f of fs) for (let s = 0; s < STUDENTS; s++) f.evaluateRefs(students[s]!);
    },
    3,
  );
  report('compile + 10 x 2,000 evaluations (median)', percentile(cold, 50), 15);

  // Plain calculator with a record of variables (the `markbook formula` path).
  const plain = compileFormula('=a*2 + max(b, c) / 3 - round(d, 1)');
  const vars = { a: 1, b: 2, c: 3, d: 4.56 };
  const plainTimes = await timeRuns(
    20,
    () => {
      for (let i = 0; i < 20_000; i++) checksum += plain.evaluate(vars);
    },
    3,
  );
  report('plain evaluate x 20,000 (median)', percentile(plainTimes, 50), 10);

  // Dependency planning for a big course: 1,000 items, 200 calculated, chains 5 deep.
  const references = new Map<string, string[]>();
  const itemByIdnumber = new Map<string, string>();
  for (let i = 0; i < 1000; i++) itemByIdnumber.set(`id${i}`, `item${i}`);
  for (let c = 0; c < 200; c++) {
    const refs = [`id${200 + c}`, `id${400 + c}`, `id${600 + ((c * 7) % 400)}`];
    if (c % 5 !== 0) refs.push(`id${c - 1}`);
    references.set(`item${c}`, refs);
  }
  const planTimes = await timeRuns(50, () => planDependencies({ references, itemByIdnumber }), 5);
  report('plan dependencies, 1,000 items / 200 calculated', percentile(planTimes, 50), 5);

  console.log(`  (checksum ${checksum.toFixed(0)})`);
}

// The deterministic demo site: people, three courses and one realistic gradebook. Seeded on the
// first `npm start` and used by the e2e tests. Pure: same output on every machine, no clock reads.
import { seededRng, type Rng } from '../shared/clock';
import type { CourseCategory, CourseGrade, CourseItem, CourseJson } from './course-types';

export type DemoRole = 'manager' | 'editingteacher' | 'teacher' | 'student';

export interface DemoPerson {
  id: string;
  username: string;
  password: string;
  firstname: string;
  lastname: string;
  email: string;
  siteRole: 'admin' | null;
}

export interface DemoCourse {
  id: string;
  shortname: string;
  fullname: string;
  gradebook: CourseJson;
}

export interface DemoSite {
  /** Fixed reference time of the demo (2026-09-01T00:00:00Z): "hidden until" dates are relative to it. */
  epoch: number;
  people: DemoPerson[];
  courses: DemoCourse[];
  /** Course role assignments (which also mean enrolment). */
  roles: { userId: string; courseId: string; role: DemoRole }[];
}

/** Password of every demo account; printed by `npm start`. Demo only. */
export const DEMO_PASSWORD = 'markbook';

const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Elif', 'Femi', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kira', 'Liam', 'Maya', 'Nico', 'Olu', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tara'];
const LAST = ['Abbott', 'Baker', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Huang', 'Ivanova', 'Jensen', 'Kowalski', 'Lopez', 'Murphy', 'Nguyen', 'Okafor', 'Patel'];

const EPOCH = 1788220800; // 2026-09-01T00:00:00Z
const DAY = 86400;

function person(id: string, username: string, firstname: string, lastname: string, siteRole: 'admin' | null = null): DemoPerson {
  return { id, username, password: DEMO_PASSWORD, firstname, lastname, email: `${username}@example.edu`, siteRole };
}

/** A grade in [min, max] from a per-student ability, rounded to the step (0.5 for points). */
function score(rng: Rng, ability: number, min: number, max: number, step = 0.5): number {
  const noise = (rng.next() - 0.5) * 0.35;
  const p = Math.min(1, Math.max(0, ability + noise));
  return Math.round((min + p * (max - min)) / step) * step;
}

const SCALE = ['Not yet', 'Developing', 'Competent', 'Excellent'];

/** The realistic gradebook: nested categories, mixed methods, a scale item, a calculated item, hidden and locked items. */
function physicsGradebook(rng: Rng, students: readonly DemoPerson[]): CourseJson {
  const categories: CourseCategory[] = [
    { id: 'c-course', parent: null, name: 'Physics 101', aggregation: 'natural' },
    { id: 'c-labs', parent: 'c-course', name: 'Labs', aggregation: 'mean', dropLowest: 1, grademin: 0, grademax: 100 },
    { id: 'c-tests', parent: 'c-course', name: 'Tests', aggregation: 'weighted_mean', grademin: 0, grademax: 100 },
    { id: 'c-quizzes', parent: 'c-tests', name: 'Weekly quizzes', aggregation: 'simple_weighted_mean', grademin: 0, grademax: 20, weight: 1 },
  ];
  const items: CourseItem[] = [
    { id: 'i-lab1', idnumber: 'lab1', category: 'c-labs', name: 'Lab 1: Pendulum', grademin: 0, grademax: 20 },
    { id: 'i-lab2', idnumber: 'lab2', category: 'c-labs', name: 'Lab 2: Projectiles', grademin: 0, grademax: 20 },
    { id: 'i-lab3', idnumber: 'lab3', category: 'c-labs', name: 'Lab 3: Springs', grademin: 0, grademax: 20, locked: true },
    { id: 'i-lab4', idnumber: 'lab4', category: 'c-labs', name: 'Lab 4: Optics', grademin: 0, grademax: 20, hidden: EPOCH + 60 * DAY },
    { id: 'i-q1', idnumber: 'q1', category: 'c-quizzes', name: 'Quiz 1', grademin: 0, grademax: 10 },
    { id: 'i-q2', idnumber: 'q2', category: 'c-quizzes', name: 'Quiz 2', grademin: 0, grademax: 10 },
    { id: 'i-q3', idnumber: 'q3', category: 'c-quizzes', name: 'Quiz 3', grademin: 0, grademax: 10, extraCredit: true },
    { id: 'i-mid', idnumber: 'midterm', category: 'c-tests', name: 'Midterm exam', grademin: 0, grademax: 50, weight: 2 },
    { id: 'i-final', idnumber: 'final', category: 'c-tests', name: 'Final exam', grademin: 0, grademax: 100, weight: 3, hidden: true },
    { id: 'i-part', idnumber: 'participation', category: 'c-course', name: 'Participation', gradetype: 'scale', grademin: 1, grademax: 4, scale: SCALE },
    { id: 'i-best', idnumber: 'bestexam', category: 'c-course', name: 'Best exam (%)', grademin: 0, grademax: 100, calculation: '=max([[midterm]]*2, [[final]])', weight: 0, weightOverride: true, extraCredit: true },
  ];
  const grades: CourseGrade[] = [];
  students.forEach((s, n) => {
    const ability = 0.35 + 0.6 * rng.next();
    for (const it of items) {
      if (it.calculation) continue;
      if (it.gradetype === 'scale') {
        grades.push({ user: s.id, item: it.id, raw: Math.max(1, Math.min(4, Math.round(1 + ability * 3 + (rng.next() - 0.5)))) });
        continue;
      }
      // a few missing submissions, and the final exam not yet sat by a quarter of the class
      if ((it.idnumber === 'final' && n % 4 === 3) || rng.next() < 0.04) continue;
      grades.push({ user: s.id, item: it.id, raw: score(rng, ability, it.grademin, it.grademax) });
    }
  });
  // an outcome rated on a scale for most students (outcomes stay out of the totals: aggregateOutcomes is off);
  // its own random stream, so adding it left every other demo grade as it was
  const orng = seededRng(7);
  items.push({ id: 'i-out-comm', idnumber: 'outcomm', category: 'c-course', name: 'Outcome: scientific communication', gradetype: 'scale', grademin: 1, grademax: 4, scale: SCALE, outcome: true });
  students.forEach((s, n) => {
    if (n % 5 !== 4) grades.push({ user: s.id, item: 'i-out-comm', raw: 1 + Math.floor(orng.next() * 4) });
  });
  // one excluded grade, one overridden category total and one locked grade, as graders do
  grades.push({ user: students[0]!.id, item: 'i-lab2', raw: 3, excluded: true, feedback: 'Excused: medical certificate.' });
  grades.push({ user: students[1]!.id, item: 'c-labs', overridden: 85, feedback: 'Lab total adjusted after moderation.' });
  grades.push({ user: students[2]!.id, item: 'i-q1', raw: 9, locked: true, feedback: 'Regraded and locked.' });
  return {
    categories,
    items,
    grades: dedupe(grades),
    settings: { hideTotalsWithHiddenItems: 'none', minmaxtouse: 'item', includeScalesInAggregation: true, enableOutcomes: true, displayType: 'real' },
    users: students.map((s) => ({ id: s.id, name: `${s.firstname} ${s.lastname}`, groups: [Number(s.id.slice(1)) % 2 ? 'Group A' : 'Group B'] })),
  };
}

/** Later grades for the same cell replace earlier ones (keeps the demo's special cases). */
function dedupe(grades: CourseGrade[]): CourseGrade[] {
  const byKey = new Map<string, CourseGrade>();
  for (const g of grades) byKey.set(`${g.item}\u0000${g.user}`, g);
  return [...byKey.values()];
}

function simpleGradebook(rng: Rng, students: readonly DemoPerson[], name: string, n: number): CourseJson {
  const items: CourseItem[] = Array.from({ length: n }, (_, k) => ({
    id: `i-a${k + 1}`,
    idnumber: `a${k + 1}`,
    category: 'c-course',
    name: `Assignment ${k + 1}`,
    grademin: 0,
    grademax: 100,
  }));
  const grades: CourseGrade[] = [];
  for (const s of students) {
    const ability = 0.4 + 0.55 * rng.next();
    for (const it of items) if (rng.next() > 0.08) grades.push({ user: s.id, item: it.id, raw: score(rng, ability, 0, 100, 1) });
  }
  return {
    categories: [{ id: 'c-course', parent: null, name, aggregation: 'mean' }],
    items,
    grades,
    settings: { hideTotalsWithHiddenItems: 'none', minmaxtouse: 'item' },
    users: students.map((s) => ({ id: s.id, name: `${s.firstname} ${s.lastname}` })),
  };
}

/** Builds the demo site. Deterministic: the same seed gives byte-identical JSON. */
export function buildDemoSite(seed = 20260901): DemoSite {
  const rng = seededRng(seed);
  const people: DemoPerson[] = [
    person('u-admin', 'admin', 'Sam', 'Admin', 'admin'),
    person('u-t1', 'teacher1', 'Terry', 'Teacher'),
    person('u-t2', 'teacher2', 'Toni', 'Tutor'),
    person('u-nt', 'assistant', 'Alex', 'Assistant'),
  ];
  const students: DemoPerson[] = [];
  for (let k = 1; k <= 40; k++) {
    const first = FIRST[(k * 7) % FIRST.length]!;
    const last = LAST[(k * 5) % LAST.length]!;
    students.push(person(`s${k}`, `student${k}`, first, last));
  }
  people.push(...students);
  const courses: DemoCourse[] = [
    { id: 'phys101', shortname: 'PHYS101', fullname: 'Physics 101', gradebook: physicsGradebook(rng, students) },
    { id: 'hist201', shortname: 'HIST201', fullname: 'Modern History', gradebook: simpleGradebook(rng, students.slice(0, 25), 'Modern History', 4) },
    { id: 'math110', shortname: 'MATH110', fullname: 'Calculus I', gradebook: simpleGradebook(rng, students.slice(15), 'Calculus I', 6) },
  ];
  const roles: DemoSite['roles'] = [
    { userId: 'u-admin', courseId: 'phys101', role: 'manager' },
    { userId: 'u-t1', courseId: 'phys101', role: 'editingteacher' },
    { userId: 'u-t2', courseId: 'phys101', role: 'editingteacher' },
    { userId: 'u-nt', courseId: 'phys101', role: 'teacher' },
    { userId: 'u-t1', courseId: 'hist201', role: 'editingteacher' },
    { userId: 'u-t2', courseId: 'math110', role: 'editingteacher' },
    { userId: 'u-nt', courseId: 'math110', role: 'teacher' },
  ];
  for (const c of courses) for (const u of c.gradebook.users ?? []) roles.push({ userId: u.id, courseId: c.id, role: 'student' });
  return { epoch: EPOCH, people, courses, roles };
}

// Student projections: the server runs the shared gradebook engine on a course document and writes each student's
// own released grades and feedback (as the student user report shows them) into `student/<course>/<user>`.
// Never writes another student's data, hidden items' grades or hidden grades' feedback into a projection.
import * as Y from 'yjs';
import { currentEpoch, docToCourseJson, readHistory } from '../src/lib/crdt/course-doc.ts';
import { loadCourse } from '../src/lib/domain/gradebook/index.ts';
import { isHiddenAt } from '../src/lib/domain/gradebook/flags.ts';
import type { CourseJson } from '../src/lib/domain/interchange/course-types.ts';
import type { Room } from './room.ts';

/** Schema of a projection document (root maps). */
export const PROJECTION_VERSION = 1;

/** One row of a projection: the student report row plus what the student may read about it. */
export interface ProjectedRow {
  item: string;
  name: string;
  /** Position in the report (Moodle's user report order). */
  order: number;
  final: number | null;
  range: [number, number];
  percentage: number | null;
  weightPct: number | null;
  contributionPct: number | null;
  letter: string | null;
  /** Teacher feedback, only when neither the item nor the grade is hidden from the student. */
  feedback: string | null;
}

/**
 * The rows a student may see, computed by the engine with `viewer: 'student'` (hidden items and
 * hideTotalsWithHiddenItems applied as the course settings say; Moodle grade/report/user/classes/report/user.php).
 */
export function projectStudent(
  json: CourseJson,
  userId: string,
  now: number,
  gb = loadCourse(json, { now }),
): ProjectedRow[] {
  const names = new Map<string, string>();
  for (const c of json.categories) names.set(c.id, c.name);
  for (const i of json.items) names.set(i.id, i.name);
  const hiddenItems = new Set(
    [...json.items, ...json.categories].filter((x) => isHiddenAt(x.hidden, now)).map((x) => x.id),
  );
  const feedback = new Map<string, string>();
  for (const g of json.grades)
    if (g.user === userId && g.feedback && !isHiddenAt(g.hidden, now) && !hiddenItems.has(g.item))
      feedback.set(g.item, g.feedback);
  return gb.userReport(userId, { viewer: 'student', now }).map((r, order) => ({
    item: r.item,
    name: r.item === 'course' ? 'Course total' : (names.get(r.item) ?? r.item),
    order,
    final: r.final,
    range: r.range,
    percentage: r.percentage,
    weightPct: r.weightPct,
    contributionPct: r.contributionPct,
    letter: r.letter,
    feedback: feedback.get(r.item) ?? null,
  }));
}

export interface ProjectorDeps {
  getRoom(name: string): Promise<Room>;
  /** User ids holding the student role in a course. */
  students(courseId: string): Promise<string[]>;
  /** unix seconds */
  now(): number;
  log(entry: object): void;
}

interface CourseState {
  courseId: string;
  running: Promise<void> | null;
  /** Users to refresh on the next run; 'all' after setup changes or on first run. */
  dirty: Set<string> | 'all';
  timer: ReturnType<typeof setTimeout> | null;
  /** History length already projected (to find which users changed). */
  seen: number;
  epoch: string | null;
}

/** Debounces course changes and rewrites only the projections whose rows changed. */
export class Projector {
  private readonly courses = new Map<string, CourseState>();
  /** Projections written (metrics). */
  written = 0;

  constructor(
    private readonly deps: ProjectorDeps,
    private readonly debounceMs = 100,
  ) {}

  private state(courseId: string): CourseState {
    let s = this.courses.get(courseId);
    if (!s) {
      s = { courseId, running: null, dirty: 'all', timer: null, seen: 0, epoch: null };
      this.courses.set(courseId, s);
    }
    return s;
  }

  /** A course document changed: find whose grades it touched from the change log, then refresh after a pause. */
  courseChanged(courseId: string, doc: Y.Doc): void {
    const s = this.state(courseId);
    const e = currentEpoch(doc);
    if (!e) return;
    if (s.dirty !== 'all') {
      if (e.id !== s.epoch) s.dirty = 'all';
      else {
        const entries = readHistory(e).slice(s.seen);
        for (const x of entries) {
          if (x.k === 'grade') (s.dirty as Set<string>).add(x.user);
          else s.dirty = 'all';
          if (s.dirty === 'all') break;
        }
      }
    }
    this.arm(courseId, s);
  }

  /** Someone opened a projection: make sure it exists (cheap when nothing changed). */
  request(courseId: string, userId: string): void {
    const s = this.state(courseId);
    if (s.dirty !== 'all') s.dirty.add(userId);
    this.arm(courseId, s);
  }

  private arm(courseId: string, s: CourseState): void {
    if (s.timer) return;
    s.timer = setTimeout(() => this.start(s), this.debounceMs);
  }

  private start(s: CourseState): Promise<void> {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    const run = (s.running ?? Promise.resolve())
      .then(() => this.run(s.courseId, s))
      .catch((e) =>
        this.deps.log({ level: 'error', msg: 'projection failed', courseId: s.courseId, error: String(e) }),
      )
      .finally(() => {
        if (s.running === run) s.running = null;
      });
    s.running = run;
    return run;
  }

  /** Runs every scheduled projection now and resolves when all are written. */
  async flush(): Promise<void> {
    for (;;) {
      const busy = [...this.courses.values()].filter((s) => s.timer || s.running);
      if (busy.length === 0) return;
      await Promise.all(busy.map((s) => (s.timer ? this.start(s) : s.running)));
    }
  }

  private async run(courseId: string, s: CourseState): Promise<void> {
    const dirty = s.dirty;
    s.dirty = new Set();
    const course = await this.deps.getRoom(`course/${courseId}`);
    const e = currentEpoch(course.doc);
    if (!e) return;
    s.epoch = e.id;
    s.seen = readHistory(e).length;
    const json = docToCourseJson(course.doc);
    const now = this.deps.now();
    const gb = loadCourse(json, { now });
    const inCourse = new Set(gb.users);
    const students = (await this.deps.students(courseId)).filter(
      (u) => inCourse.has(u) && (dirty === 'all' || dirty.has(u)),
    );
    for (const userId of students) {
      const rows = projectStudent(json, userId, now, gb);
      const room = await this.deps.getRoom(`student/${courseId}/${userId}`);
      const update = diffProjection(room.doc, courseId, userId, rows);
      if (update) {
        await room.submit(update, 'server');
        this.written++;
      }
    }
  }
}

/** The update that makes a projection document hold exactly `rows` (null when it already does). */
export function diffProjection(
  current: Y.Doc,
  courseId: string,
  userId: string,
  rows: readonly ProjectedRow[],
): Uint8Array | null {
  const scratch = new Y.Doc();
  Y.applyUpdate(scratch, Y.encodeStateAsUpdate(current));
  let out: Uint8Array | null = null;
  scratch.on('update', (u: Uint8Array) => (out = out ? Y.mergeUpdates([out, u]) : u));
  scratch.transact(() => {
    const meta = scratch.getMap('meta');
    if (meta.get('version') !== PROJECTION_VERSION) meta.set('version', PROJECTION_VERSION);
    if (meta.get('courseId') !== courseId) meta.set('courseId', courseId);
    if (meta.get('userId') !== userId) meta.set('userId', userId);
    const report = scratch.getMap<string>('report');
    const keep = new Set<string>();
    for (const r of rows) {
      keep.add(r.item);
      const text = JSON.stringify(r);
      if (report.get(r.item) !== text) report.set(r.item, text);
    }
    for (const k of [...report.keys()]) if (!keep.has(k)) report.delete(k);
  });
  scratch.destroy();
  return out;
}

// Maps OULAD tables (already parsed into string records) onto analytics rows: presentations -> courses,
// assessments + VLE materials -> activities, registrations -> enrolments, studentAssessment -> submissions.
// Pure; all-or-nothing: any bad row rejects the whole import with every problem named by file, row and column.
//
// Data: Open University Learning Analytics Dataset (OULAD), Kuzilek, J., Hlosta, M., & Zdrahal, Z. (2017).
// Open University Learning Analytics dataset. Scientific Data, 4, 170171. https://doi.org/10.1038/sdata.2017.171
// Licence CC BY 4.0 — the app must show OULAD_CITATION wherever OULAD-derived rows are used.
import { ValidationError, type Problem } from '../shared/errors.ts';
import type {
  ActivityDataRows,
  ActivityRow,
  CourseRow,
  EnrolmentRow,
  Outcome,
  SubmissionRow,
  UserRow,
} from './types.ts';

export const OULAD_CITATION =
  'Kuzilek, J., Hlosta, M., & Zdrahal, Z. (2017). Open University Learning Analytics dataset. ' +
  'Scientific Data, 4, 170171. https://doi.org/10.1038/sdata.2017.171 (CC BY 4.0)';

export type CsvRecord = Readonly<Record<string, string | undefined>>;

/** The six OULAD tables we have (studentVle is not available; see shared/data/oulad/README.md). */
export interface OuladTables {
  readonly courses: readonly CsvRecord[];
  readonly assessments: readonly CsvRecord[];
  readonly vle: readonly CsvRecord[];
  readonly studentInfo: readonly CsvRecord[];
  readonly studentRegistration: readonly CsvRecord[];
  readonly studentAssessment: readonly CsvRecord[];
}

export const OULAD_FILES: Readonly<Record<keyof OuladTables, string>> = {
  courses: 'courses.csv',
  assessments: 'assessments.csv',
  vle: 'vle.csv',
  studentInfo: 'studentInfo.csv',
  studentRegistration: 'studentRegistration.csv',
  studentAssessment: 'studentAssessment.csv',
};

const DAY = 86400;

/**
 * Presentation start as a unix time. OULAD gives only relative days; the code says the month ('B' = February,
 * 'J' = October). We anchor on the 1st of that month (UTC): only differences between days matter.
 */
export function presentationStart(code: string): number | null {
  const m = /^(\d{4})([BJ])$/.exec(code);
  if (!m) return null;
  return Date.UTC(Number(m[1]), m[2] === 'B' ? 1 : 9, 1) / 1000;
}

/** OULAD VLE activity types -> the closest Moodle module name (unknown types keep their own name). */
const VLE_MODNAME: Readonly<Record<string, string>> = {
  resource: 'resource',
  oucontent: 'page',
  subpage: 'page',
  homepage: 'page',
  page: 'page',
  url: 'url',
  forumng: 'forum',
  oucollaborate: 'lti',
  ouelluminate: 'lti',
  quiz: 'quiz',
  externalquiz: 'quiz',
  questionnaire: 'feedback',
  glossary: 'glossary',
  ouwiki: 'wiki',
  dataplus: 'data',
  folder: 'folder',
  sharedsubpage: 'page',
  htmlactivity: 'page',
  dualpane: 'page',
  repeatactivity: 'page',
};

const OUTCOMES: Readonly<Record<string, Outcome>> = {
  Pass: 'pass',
  Distinction: 'distinction',
  Fail: 'fail',
  Withdrawn: 'withdrawn',
};

export const courseIdOf = (module: string, presentation: string): string => `${module}-${presentation}`;

/** [ANA-1.2] Maps OULAD onto analytics rows; throws ValidationError listing every bad row. */
export function mapOulad(t: OuladTables): ActivityDataRows {
  const problems: Problem[] = [];
  const at = (file: keyof OuladTables, i: number, col: string): string =>
    `${OULAD_FILES[file]} row ${i + 2}, column "${col}"`;
  const req = (file: keyof OuladTables, r: CsvRecord, i: number, col: string): string => {
    const v = r[col];
    if (v === undefined || v === '') {
      problems.push({ at: at(file, i, col), message: 'is required' });
      return '';
    }
    return v;
  };
  const int = (
    file: keyof OuladTables,
    r: CsvRecord,
    i: number,
    col: string,
    optional: boolean,
  ): number | null => {
    const v = r[col];
    if (v === undefined || v === '') {
      if (!optional) problems.push({ at: at(file, i, col), message: 'is required' });
      return null;
    }
    const n = Number(v);
    if (!Number.isFinite(n)) {
      problems.push({ at: at(file, i, col), message: `"${v}" is not a number` });
      return null;
    }
    return n;
  };

  const courses: CourseRow[] = [];
  const courseStart = new Map<string, number>();
  t.courses.forEach((r, i) => {
    const mod = req('courses', r, i, 'code_module');
    const pres = req('courses', r, i, 'code_presentation');
    const len = int('courses', r, i, 'module_presentation_length', false);
    const start = presentationStart(pres);
    if (pres && start === null)
      problems.push({
        at: at('courses', i, 'code_presentation'),
        message: `"${pres}" is not like 2013J or 2014B`,
      });
    if (!mod || start === null || len === null) return;
    const id = courseIdOf(mod, pres);
    courseStart.set(id, start);
    courses.push({
      id,
      shortname: id,
      fullname: `${mod} ${pres}`,
      startdate: start,
      enddate: start + len * DAY,
      visible: true,
      format: 'weeks',
      completionEnabled: false,
      gradePass: null,
      source: 'oulad',
      family: mod,
    });
  });
  const courseEnd = new Map(courses.map((c) => [c.id, c.enddate!] as const));
  const knownCourse = (file: keyof OuladTables, r: CsvRecord, i: number): string | null => {
    const id = courseIdOf(r['code_module'] ?? '', r['code_presentation'] ?? '');
    if (!courseStart.has(id)) {
      problems.push({
        at: at(file, i, 'code_presentation'),
        message: `no presentation ${id} in courses.csv`,
      });
      return null;
    }
    return id;
  };

  const activities: ActivityRow[] = [];
  const assessmentCourse = new Map<string, string>();
  t.assessments.forEach((r, i) => {
    const cid = knownCourse('assessments', r, i);
    const id = req('assessments', r, i, 'id_assessment');
    const type = req('assessments', r, i, 'assessment_type');
    const date = int('assessments', r, i, 'date', true);
    const weight = int('assessments', r, i, 'weight', false);
    if (type && type !== 'TMA' && type !== 'CMA' && type !== 'Exam')
      problems.push({
        at: at('assessments', i, 'assessment_type'),
        message: `"${type}" is not TMA, CMA or Exam`,
      });
    if (!cid || !id || weight === null) return;
    const start = courseStart.get(cid)!;
    assessmentCourse.set(id, cid);
    activities.push({
      id: `a${id}`,
      courseId: cid,
      // Tutor-marked assignments behave like Moodle assign, computer-marked ones like quiz.
      modname: type === 'TMA' ? 'assign' : 'quiz',
      name: `${type} ${id}`,
      visible: true,
      // An exam without a date is at the end of the presentation (OULAD documentation).
      due: date === null ? courseEnd.get(cid)! : start + date * DAY,
      weight,
      isExam: type === 'Exam',
      section: date === null ? null : Math.floor(date / 7) + 1,
    });
  });
  t.vle.forEach((r, i) => {
    const cid = knownCourse('vle', r, i);
    const id = req('vle', r, i, 'id_site');
    const type = req('vle', r, i, 'activity_type');
    const week = int('vle', r, i, 'week_from', true);
    if (!cid || !id) return;
    activities.push({
      id: `v${id}`,
      courseId: cid,
      modname: VLE_MODNAME[type] ?? type,
      name: `${type} ${id}`,
      visible: true,
      due: null,
      weight: 0,
      isExam: false,
      section: week,
    });
  });

  const regs = new Map<string, CsvRecord>();
  t.studentRegistration.forEach((r, i) => {
    const cid = knownCourse('studentRegistration', r, i);
    const sid = req('studentRegistration', r, i, 'id_student');
    int('studentRegistration', r, i, 'date_registration', true);
    int('studentRegistration', r, i, 'date_unregistration', true);
    if (cid && sid) regs.set(`${cid}:${sid}`, r);
  });

  const enrolments: EnrolmentRow[] = [];
  const users = new Map<string, UserRow>();
  t.studentInfo.forEach((r, i) => {
    const cid = knownCourse('studentInfo', r, i);
    const sid = req('studentInfo', r, i, 'id_student');
    const res = req('studentInfo', r, i, 'final_result');
    const outcome = OUTCOMES[res];
    if (res && !outcome)
      problems.push({
        at: at('studentInfo', i, 'final_result'),
        message: `"${res}" is not Pass, Distinction, Fail or Withdrawn`,
      });
    const prev = int('studentInfo', r, i, 'num_of_prev_attempts', false);
    const credits = int('studentInfo', r, i, 'studied_credits', false);
    if (!cid || !sid) return;
    const id = `${cid}:${sid}`;
    const reg = regs.get(id);
    const start = courseStart.get(cid)!;
    const dReg = reg?.['date_registration'];
    const dUnreg = reg?.['date_unregistration'];
    const profile: Record<string, string> = {};
    for (const f of ['gender', 'region', 'highest_education', 'imd_band', 'age_band', 'disability']) {
      const v = r[f];
      // The original spells one IMD band without a percent sign; normalise it.
      if (v) profile[f] = f === 'imd_band' && v === '10-20' ? '10-20%' : v;
    }
    users.set(sid, { id: sid, name: `Student ${sid}` });
    enrolments.push({
      id,
      courseId: cid,
      userId: sid,
      role: 'student',
      start: dReg ? start + Number(dReg) * DAY : null,
      end: dUnreg ? start + Number(dUnreg) * DAY : null,
      previousAttempts: prev ?? 0,
      studiedCredits: credits ?? 0,
      outcome: outcome ?? null,
      finalGrade: null,
      completed: null,
      profile,
    });
  });

  const submissions: SubmissionRow[] = [];
  t.studentAssessment.forEach((r, i) => {
    const aid = req('studentAssessment', r, i, 'id_assessment');
    const sid = req('studentAssessment', r, i, 'id_student');
    const day = int('studentAssessment', r, i, 'date_submitted', false);
    const score = int('studentAssessment', r, i, 'score', true);
    if (score !== null && (score < 0 || score > 100))
      problems.push({ at: at('studentAssessment', i, 'score'), message: `${score} is outside 0..100` });
    const cid = assessmentCourse.get(aid);
    if (aid && !cid)
      problems.push({
        at: at('studentAssessment', i, 'id_assessment'),
        message: `no assessment ${aid} in assessments.csv`,
      });
    if (!cid || !sid || day === null) return;
    submissions.push({
      id: `${aid}:${sid}`,
      courseId: cid,
      activityId: `a${aid}`,
      userId: sid,
      submitted: courseStart.get(cid)! + day * DAY,
      score: score === null ? null : score / 100,
      banked: r['is_banked'] === '1',
    });
  });

  if (problems.length > 0) throw new ValidationError(problems);
  return { courses, activities, logs: [], submissions, enrolments, users: [...users.values()] };
}

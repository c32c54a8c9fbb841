// The demo site directory (site JSON) and demo dynamic-cohort rules, derived from buildDemoSite().
// Pure and deterministic: no clock or random source beyond the seeded one; times are relative to the demo epoch.
import { seededRng } from '../shared/clock.ts';
import { buildDemoSite, type DemoSite } from './demo.ts';
import { parseSiteJson, type SiteDocument, type SiteUser } from './site-json.ts';
import { parseRules, type Rule } from '../cohorts/rule.ts';

const DAY = 86400;

/** Menu options of the `programme` custom profile field (Moodle's param1 is newline-separated). */
export const DEMO_PROGRAMMES = ['Science', 'Humanities', 'Mathematics'] as const;

/** Which demo course each course sits in: Sciences holds Physics and (through Mathematics) Calculus. */
const COURSE_CATEGORY: Record<string, string> = {
  phys101: 'cat-sci',
  math110: 'cat-math',
  hist201: 'cat-hum',
};

/** The rules the demo ships with: only the first is enabled, as an admin would have left it after reviewing. */
export const DEMO_RULE_IDS = ['rule-physcalc', 'rule-staff', 'rule-quiz'] as const;

function demoUsers(demo: DemoSite): SiteUser[] {
  const rng = seededRng(7);
  const E = demo.epoch;
  return demo.people.map((p, k) => {
    const student = /^s\d+$/.test(p.id);
    const n = student ? Number(p.id.slice(1)) : 0;
    // every seventh student signs in through the school's single sign-on; one student has never signed in
    const auth = student && n % 7 === 0 ? 'oauth2' : 'manual';
    const created = E - (200 + Math.floor(rng.next() * 400)) * DAY;
    const lastaccess = n === 13 ? 0 : E - Math.floor(rng.next() * 45) * DAY - k * 60;
    const profile: SiteUser['profile'] = {};
    if (student) {
      profile['programme'] = DEMO_PROGRAMMES[n % DEMO_PROGRAMMES.length]!;
      // a date field: expected graduation (two intakes); a few students have no value stored (COH-S2)
      if (n % 9 !== 0) profile['graduation'] = E + (n % 2 ? 300 : 665) * DAY;
    }
    return {
      id: p.id,
      username: p.username,
      firstname: p.firstname,
      lastname: p.lastname,
      email: p.email,
      auth,
      city: student ? (n % 3 === 0 ? 'Leeds' : n % 3 === 1 ? 'York' : 'Hull') : 'Leeds',
      country: 'GB',
      institution: 'Markbook Demo School',
      department: student ? 'Students' : 'Staff',
      idnumber: student ? `S${String(n).padStart(4, '0')}` : '',
      timecreated: created,
      lastlogin: lastaccess,
      lastaccess,
      // nobody is suspended: the server keeps sign-in accounts in step with this directory, and every demo
      // person must be able to sign in
      suspended: 0,
      deleted: 0,
      profile,
      interests: student ? [n % 2 ? 'Robotics' : 'Chess', ...(n % 5 === 0 ? ['Music'] : [])] : [],
    };
  });
}

/**
 * The demo site directory: the demo's people as users (profile fields, auth methods, times), a
 * category tree, the three courses with completion on, enrolments and role assignments from the
 * demo's course roles, completions, cohorts and a physics quiz with grades. Validated by the site
 * JSON parser, so a mistake here fails loudly.
 */
export function buildDemoSiteJson(demo: DemoSite = buildDemoSite()): SiteDocument {
  const rng = seededRng(11);
  const E = demo.epoch;
  const users = demoUsers(demo);
  const courseIds = demo.courses.map((c) => c.id);
  const enrolments = demo.roles.map((r) => ({
    userId: r.userId,
    courseId: r.courseId,
    method: 'manual',
    active: 1 as const,
    instanceEnabled: 1 as const,
  }));
  const roles = [
    { userId: 'u-admin', role: 'manager', contextLevel: 'system' as const, contextId: null },
    ...demo.roles.map((r) => ({
      userId: r.userId,
      role: r.role,
      contextLevel: 'course' as const,
      contextId: r.courseId,
    })),
  ];
  // Calculus: every third of its students has completed it; Modern History: the first eight of its class.
  const completions = demo.roles
    .filter((r) => r.role === 'student' && r.courseId === 'math110')
    .filter((_r, i) => i % 3 === 0)
    .map((r) => ({
      userId: r.userId,
      courseId: 'math110',
      timecompleted: E - (10 + Math.floor(rng.next() * 60)) * DAY,
    }));
  demo.roles
    .filter((r) => r.role === 'student' && r.courseId === 'hist201')
    .slice(0, 8)
    .forEach((r, i) =>
      completions.push({ userId: r.userId, courseId: 'hist201', timecompleted: E - (5 + i) * DAY }),
    );
  const physStudents = demo.roles
    .filter((r) => r.role === 'student' && r.courseId === 'phys101')
    .map((r) => r.userId);
  const quizGrades = physStudents
    .filter((_u, i) => i % 6 !== 5)
    .map((userId) => ({ quizId: 'quiz-phys1', userId, grade: Math.round(rng.next() * 20) / 2 }));
  const site = {
    users,
    profileFields: [
      { shortname: 'programme', name: 'Programme', datatype: 'menu', param1: DEMO_PROGRAMMES.join('\n') },
      { shortname: 'graduation', name: 'Expected graduation', datatype: 'datetime', param1: '' },
    ],
    categories: [
      { id: 'cat-school', name: 'School', parentId: null },
      { id: 'cat-sci', name: 'Sciences', parentId: 'cat-school' },
      { id: 'cat-math', name: 'Mathematics', parentId: 'cat-sci' },
      { id: 'cat-hum', name: 'Humanities', parentId: 'cat-school' },
    ],
    courses: demo.courses.map((c) => ({
      id: c.id,
      fullname: c.fullname,
      categoryId: COURSE_CATEGORY[c.id] ?? null,
      enableCompletion: 1,
    })),
    enrolments,
    completions,
    roles,
    cohorts: [
      {
        id: 'co-physcalc',
        name: 'Physics students who completed Calculus',
        idnumber: 'PHYSCALC',
        contextid: 'system',
        visible: 1,
        component: '',
        theme: '',
        customFields: {},
        members: [],
      },
      {
        id: 'co-staff',
        name: 'Staff',
        idnumber: 'STAFF',
        contextid: 'system',
        visible: 1,
        component: '',
        theme: '',
        customFields: {},
        members: [],
      },
      {
        id: 'co-quiz',
        name: 'Physics quiz high scorers',
        idnumber: 'QUIZHIGH',
        contextid: 'cat-sci',
        visible: 1,
        component: '',
        theme: '',
        customFields: {},
        members: [],
      },
      {
        id: 'co-council',
        name: 'Student council',
        idnumber: 'COUNCIL',
        contextid: 'system',
        visible: 1,
        component: '',
        theme: '',
        customFields: {},
        members: ['s3', 's8', 's21', 's34'],
      },
    ],
    cohortCustomFields: [],
    quizzes: [{ id: 'quiz-phys1', courseId: 'phys101', grade: 10 }],
    quizGrades,
  };
  if (!courseIds.every((id) => id in COURSE_CATEGORY)) throw new Error('demo course without a category');
  return parseSiteJson(site);
}

/** The demo rules as stored in the site document's `rules` collection (rules-file JSON). */
export function demoRulesJson(): Record<string, unknown>[] {
  return [
    {
      id: 'rule-physcalc',
      name: 'Physics students who completed Calculus',
      description: 'Students enrolled in Physics 101 who have completed Calculus I.',
      operator: 'AND',
      cohortId: 'co-physcalc',
      conditions: [
        { type: 'user_enrolment', operator: 'enrolled', courseId: 'phys101', role: 'student', method: null },
        { type: 'course_completed', operator: 'any', courseId: 'math110' },
      ],
      enabled: true,
    },
    {
      id: 'rule-staff',
      name: 'Staff',
      description: 'Everyone who teaches with editing rights anywhere in the school.',
      operator: 'OR',
      cohortId: 'co-staff',
      conditions: [
        {
          type: 'user_role',
          operator: 'has_role',
          role: 'editingteacher',
          contextLevel: 'category',
          categoryId: 'cat-school',
          includeChildren: true,
        },
      ],
      enabled: false,
    },
    {
      id: 'rule-quiz',
      name: 'Physics quiz high scorers',
      description:
        'Science-programme students scoring 8 or more on the first physics quiz, unless suspended.',
      operator: 'AND',
      cohortId: 'co-quiz',
      conditions: [
        { type: 'quiz_result', quizId: 'quiz-phys1', minGrade: 8, maxGrade: 10 },
        {
          type: 'group',
          operator: 'OR',
          not: true,
          conditions: [{ type: 'user_profile', field: 'suspended', operator: 'equals', value: 1 }],
        },
      ],
      enabled: false,
    },
  ];
}

/** The demo rules, parsed (two disabled, one enabled). */
export function buildDemoRules(): Rule[] {
  return parseRules(demoRulesJson());
}

// OULAD mapping (fixture + the real six tables) and the honest evaluation on it; Moodle log CSV import.
// Data: OULAD, Kuzilek, Hlosta & Zdrahal (2017), Scientific Data 4:170171, doi:10.1038/sdata.2017.171, CC BY 4.0.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../ml/csv.ts';
import { ValidationError } from '../shared/errors.ts';
import { logisticRegressionBackend } from './backend.ts';
import { buildActivityData } from './data.ts';
import { evaluate } from './evaluation.ts';
import { importMoodleLog } from './moodle-log.ts';
import { mapOulad, OULAD_FILES, presentationStart, type OuladTables } from './oulad.ts';
import { OULAD_TARGETS, OULAD_TEST_FROM, ouladDataset } from './oulad-model.ts';

const root = resolve(import.meta.dirname, '../../../..');
const FIXTURES = join(root, 'test/fixtures/analytics');
const OULAD_DIR = join(root, '../shared/data/oulad');
const DAY = 86400;

function readTables(dir: string): OuladTables {
  const t: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(OULAD_FILES)) t[k] = parseCsv(readFileSync(join(dir, f), 'utf8'), f);
  return t as unknown as OuladTables;
}

describe('OULAD import', () => {
  const rows = mapOulad(readTables(join(FIXTURES, 'oulad-mini')));

  it('[ANA-1.2] presentations become weekly courses starting in February (B) or October (J)', () => {
    expect(presentationStart('2013J')).toBe(Date.UTC(2013, 9, 1) / 1000);
    expect(presentationStart('2014B')).toBe(Date.UTC(2014, 1, 1) / 1000);
    const c = rows.courses.find((x) => x.id === 'AAA-2013J')!;
    expect(c.enddate! - c.startdate).toBe(268 * DAY);
    expect(c).toMatchObject({ format: 'weeks', source: 'oulad' });
  });

  it('[ANA-1.2] TMA -> assign, CMA -> quiz, a dateless exam is due at the end, VLE keeps its planned week', () => {
    const start = presentationStart('2013J')!;
    const a = new Map(rows.activities.map((x) => [x.id, x]));
    expect(a.get('a1')).toMatchObject({
      modname: 'assign',
      due: start + 19 * DAY,
      weight: 10,
      isExam: false,
    });
    expect(a.get('a2')).toMatchObject({ modname: 'quiz', weight: 0 });
    expect(a.get('a3')).toMatchObject({ isExam: true, due: start + 268 * DAY });
    expect(a.get('v10')).toMatchObject({ modname: 'forum', due: null });
    expect(a.get('v11')).toMatchObject({ modname: 'page', section: 2 });
  });

  it('[ANA-1.2] registrations become enrolments with outcome and unregistration as the end', () => {
    const start = presentationStart('2013J')!;
    const e = new Map(rows.enrolments.map((x) => [x.id, x]));
    expect(e.get('AAA-2013J:101')).toMatchObject({
      start: start - 53 * DAY,
      end: start + 30 * DAY,
      outcome: 'withdrawn',
      previousAttempts: 1,
    });
    expect(e.get('AAA-2013J:100')!.profile['imd_band']).toBe('10-20%');
    expect(e.get('AAA-2014B:100')).toMatchObject({ start: null, outcome: 'fail', studiedCredits: 120 });
    expect(rows.users.map((u) => u.id).sort()).toEqual(['100', '101']);
  });

  it('[ANA-1.2] submissions keep day, banked flag and score as a fraction (missing score = not graded)', () => {
    const s = new Map(rows.submissions.map((x) => [x.id, x]));
    expect(s.get('1:100')).toMatchObject({ score: 0.78, banked: false, courseId: 'AAA-2013J' });
    expect(s.get('1:101')!.score).toBeNull();
    expect(s.get('2:100')!.banked).toBe(true);
  });

  it('[ANA-1.2] bad rows reject the whole import, each problem naming file, row and column', () => {
    const t = readTables(join(FIXTURES, 'oulad-mini'));
    const bad: OuladTables = {
      ...t,
      studentAssessment: [
        ...t.studentAssessment,
        { id_assessment: '999', id_student: '1', date_submitted: '3', is_banked: '0', score: '5' },
      ],
      studentInfo: t.studentInfo.map((r, i) => (i === 1 ? { ...r, final_result: 'Maybe' } : r)),
      courses: [
        ...t.courses,
        { code_module: 'ZZZ', code_presentation: '2013X', module_presentation_length: '200' },
      ],
    };
    try {
      mapOulad(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const msgs = (e as ValidationError).problems.map((p) => `${p.at}: ${p.message}`);
      expect(msgs).toEqual(
        expect.arrayContaining([
          'studentAssessment.csv row 5, column "id_assessment": no assessment 999 in assessments.csv',
          'studentInfo.csv row 3, column "final_result": "Maybe" is not Pass, Distinction, Fail or Withdrawn',
          'courses.csv row 4, column "code_presentation": "2013X" is not like 2013J or 2014B',
        ]),
      );
    }
  });
});

describe('Moodle log CSV import', () => {
  it('[ANA-1.1] maps logstore rows, module context -> activity, and batches them', () => {
    const recs = parseCsv(readFileSync(join(FIXTURES, 'moodle-log.csv'), 'utf8'), 'moodle-log.csv');
    const { batches, rows } = importMoodleLog(recs, 100);
    expect(rows).toBe(3);
    const [a, b, c] = batches[0]!;
    expect(a).toMatchObject({
      seq: 100,
      userId: '7',
      courseId: '5',
      activityId: null,
      crud: 'r',
      eduLevel: 'participating',
      time: 1700000000,
    });
    expect(b).toMatchObject({ activityId: '42', crud: 'c', action: 'created' });
    expect(c!.action).toBe('created'); // from the event name when the column is empty
  });

  it('[ANA-1.1] any bad row rejects the file, naming row and column', () => {
    const recs = parseCsv(readFileSync(join(FIXTURES, 'moodle-log-bad.csv'), 'utf8'), 'bad.csv');
    try {
      importMoodleLog(recs, 1, 'bad.csv');
      expect.unreachable();
    } catch (e) {
      const at = (e as ValidationError).problems.map((p) => p.at);
      expect(at).toEqual([
        'bad.csv row 3, column "crud"',
        'bad.csv row 4, column "edulevel"',
        'bad.csv row 4, column "userid"',
        'bad.csv row 4, column "timecreated"',
      ]);
    }
  });
});

describe.runIf(existsSync(OULAD_DIR))('OULAD (real data, honest protocol: train 2013 -> test 2014)', () => {
  const data = buildActivityData(mapOulad(readTables(OULAD_DIR)));

  it('[ANA-1.2] all 32,593 registrations of 22 presentations load', () => {
    expect(data.courses.size).toBe(22);
    let n = 0;
    for (const c of data.courses.values()) n += c.students.length;
    expect(n).toBe(32593);
  });

  it('[ANA-5.3][ANA-7.2] at 25 %: students already withdrawn are out, and withdrawn-or-failed AUC beats 0.80 and the rule', async () => {
    const target = OULAD_TARGETS['at_risk']!;
    const ds = ouladDataset(data, target, 0.25);
    for (let r = 0; r < ds.rows; r++) {
      const e = data.enrolment(ds.sampleIds[r]!)!;
      if (e.end !== null) expect(e.end).toBeGreaterThan(ds.rangeEnd[r]!);
    }
    const rep = await evaluate({
      protocol: 'honest',
      backend: logisticRegressionBackend,
      target,
      dataset: ds,
      testFrom: OULAD_TEST_FROM,
      ruleIndicator: 'due_submitted_share',
    });
    const r = rep.ranges[0]!;
    expect(rep.trainAnalysables.every((c) => c.includes('2013'))).toBe(true);
    expect(rep.testAnalysables.every((c) => c.includes('2014'))).toBe(true);
    expect(r.model!.auc).toBeGreaterThan(0.8);
    expect(r.model!.f1).toBeGreaterThan(r.baselines.rule!.f1);
    expect(r.model!.mcc).toBeGreaterThan(r.baselines.majority!.mcc);
  });

  it('[ANA-7.2] at 25 %: withdrawal is harder without click data, but the model still beats chance and the rule', async () => {
    const target = OULAD_TARGETS['withdrawal']!;
    const rep = await evaluate({
      protocol: 'honest',
      backend: logisticRegressionBackend,
      target,
      dataset: ouladDataset(data, target, 0.25),
      testFrom: OULAD_TEST_FROM,
      ruleIndicator: 'due_submitted_share',
    });
    const r = rep.ranges[0]!;
    expect(r.model!.auc).toBeGreaterThan(0.65);
    expect(r.model!.f1).toBeGreaterThan(r.baselines.rule!.f1);
  });
});

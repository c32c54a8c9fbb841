// Model flows on a seeded synthetic school: config validation and versioning, datasets, train/predict with used
// samples, static targets, both evaluation protocols, insights and actions, model export/import, registry.
import { describe, expect, it } from 'vitest';
import { seededRng } from '../shared/clock.ts';
import { cancelSource, CancelledError } from '../shared/cancel.ts';
import { ValidationError } from '../shared/errors.ts';
import { logisticRegressionBackend, parseTrainedModel, toChunks } from './backend.ts';
import { buildActivityData } from './data.ts';
import { buildDataset, MemoryIndicatorCache } from './dataset.ts';
import { evaluate, STATUS } from './evaluation.ts';
import { binaryMetrics } from './metrics.ts';
import { INDICATORS } from './indicators.ts';
import { actionsReport, insightCourses, listInsights, recordAction } from './insights.ts';
import {
  modelEditorData,
  predictModel,
  trainModel,
  updateModel,
  validateModelConfig,
  type ModelConfig,
} from './model.ts';
import { defaultRegistry, Registry } from './registry.ts';
import { studentEnrolments, siteCourses } from './analysers.ts';
import { courseDropout, finalGrade, finalResult, noTeaching } from './targets.ts';
import { TIME_SPLITTINGS } from './time-splitting.ts';
import { syntheticWorld, T0, WEEK } from '../../../../test/fixtures/analytics/synthetic-world.ts';

const reg = defaultRegistry();
const rows = syntheticWorld({ courses: 4, studentsPerCourse: 80 });
const data = buildActivityData(rows);
const INDS = [
  'read_actions',
  'any_write_action_in_course',
  'due_submitted_share',
  'mean_score',
  'recent_activity',
];
const quarters = TIME_SPLITTINGS.find((t) => t.id === 'quarters')!;
// Courses start every 14 weeks and last 12: at this time courses 1-3 are finished and course 4 is in week 5.
const NOW = T0 + 3 * 14 * WEEK + 5 * WEEK;

const baseConfig = {
  id: 'm1',
  name: 'Dropout',
  targetId: 'course_dropout',
  indicatorIds: INDS,
  timeSplittingId: 'quarters',
  backendId: 'lr',
  enabled: true,
};

describe('analytics models', () => {
  it('[ANA-8.0] a config naming unknown plug-ins is rejected with every JSON path at fault', () => {
    try {
      validateModelConfig(reg, {
        ...baseConfig,
        targetId: 'nope',
        indicatorIds: ['read_actions', 'zzz'],
        backendId: 'x',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const at = (e as ValidationError).problems.map((p) => p.at);
      expect(at).toEqual(expect.arrayContaining(['$.targetId', '$.indicatorIds[1]', '$.backendId']));
    }
    expect(() => validateModelConfig(reg, { ...baseConfig, timeSplittingId: 'upcoming_week' })).toThrow(
      /cannot use time splitting/,
    );
  });

  it('[ANA-8.0] changing indicators bumps the version; renaming does not', () => {
    const m = validateModelConfig(reg, baseConfig);
    expect(updateModel(reg, m, { name: 'Renamed' })).toMatchObject({
      retrain: false,
      model: { version: 1, name: 'Renamed' },
    });
    expect(updateModel(reg, m, { indicatorIds: ['read_actions'] })).toMatchObject({
      retrain: true,
      model: { version: 2 },
    });
  });

  it('[ANA-8.0] the editor lists targets with the time splittings each may use', () => {
    const ed = modelEditorData(reg);
    const nr = ed.targets.find((t) => t.id === 'no_recent_accesses')!;
    expect(nr.timeSplittings.sort()).toEqual(['past_3_days', 'past_month', 'past_week']);
    expect(ed.backends.map((b) => b.id)).toContain('lr');
  });

  it('[ANA-2.4] datasets have one row per valid sample and finished range, with range and mean columns', () => {
    const ds = buildDataset({
      data,
      analyser: studentEnrolments,
      target: courseDropout,
      indicators: INDICATORS.filter((i) => INDS.includes(i.id)),
      timeSplitting: quarters,
      now: NOW,
      mode: 'training',
    });
    expect(ds.featureNames.slice(0, 4)).toEqual(['range/0', 'range/1', 'range/2', 'range/3']);
    expect(ds.featureNames).toContain('read_actions/mean');
    expect(new Set(ds.analysableIds)).toEqual(new Set(['c1', 'c2', 'c3']));
    expect(ds.skipped).toEqual([{ analysableId: 'c4', reason: 'course not finished' }]);
    // [ANA-5.3] no row for a range after the student's enrolment ended.
    for (let r = 0; r < ds.rows; r++) {
      const e = data.enrolment(ds.sampleIds[r]!)!;
      if (e.end !== null) expect(e.end).toBeGreaterThan(ds.rangeEnd[r]!);
    }
    // Every row of a sample carries the same label (labels are per sample, not per range).
    const bySample = new Map<string, number>();
    for (let r = 0; r < ds.rows; r++) {
      const prev = bySample.get(ds.sampleIds[r]!);
      if (prev !== undefined) expect(ds.y[r]).toBe(prev);
      bySample.set(ds.sampleIds[r]!, ds.y[r]!);
    }
  });

  it('[ANA-4] indicator values are cached per sample and range and reused', () => {
    const cache = new MemoryIndicatorCache();
    const opts = {
      data,
      analyser: studentEnrolments,
      target: courseDropout,
      indicators: INDICATORS.filter((i) => INDS.includes(i.id)),
      timeSplitting: quarters,
      now: NOW,
      mode: 'training' as const,
      cache,
    };
    const a = buildDataset(opts);
    expect(cache.size).toBeGreaterThan(0);
    let calls = 0;
    const spy = INDICATORS.filter((i) => INDS.includes(i.id)).map((i) => ({
      ...i,
      calculate: (...args: Parameters<typeof i.calculate>) => (calls++, i.calculate(...args)),
    }));
    const b = buildDataset({ ...opts, indicators: spy });
    expect(calls).toBe(0);
    expect(b.x).toEqual(a.x);
  });

  it('[ANA-2.4] a cancelled dataset build throws and returns nothing', () => {
    const c = cancelSource();
    let seen = 0;
    expect(() =>
      buildDataset({
        data,
        analyser: studentEnrolments,
        target: courseDropout,
        indicators: INDICATORS.filter((i) => INDS.includes(i.id)),
        timeSplitting: quarters,
        now: NOW,
        mode: 'training',
        cancel: c.token,
        onProgress: (done) => {
          seen = done;
          if (done === 1) c.cancel();
        },
      }),
    ).toThrow(CancelledError);
    expect(seen).toBe(1);
  });

  it('[ANA-2.5][ANA-8.1] trains on finished courses once, predicts the running one once, keeping indicator values', async () => {
    const model = validateModelConfig(reg, baseConfig);
    const t1 = await trainModel({ reg, model, data, now: NOW, usedForTraining: new Set() });
    expect(t1.samples).toBeGreaterThan(200);
    await expect(
      trainModel({ reg, model, data, now: NOW, usedForTraining: new Set(t1.usedKeys) }),
    ).rejects.toThrow(/no new training samples/);
    const p1 = await predictModel({
      reg,
      model,
      data,
      now: NOW,
      alreadyPredicted: new Set(),
      trained: t1.trained,
    });
    expect(p1.processedKeys.length).toBeGreaterThan(0);
    for (const p of p1.predictions) {
      expect(p.courseId).toBe('c4');
      expect(p.prediction).toBe(1); // class 0 never stored
      // The score is the dropout probability, at or above the threshold stored with the model.
      expect(p.score).toBeGreaterThanOrEqual(Math.round(t1.trained.decisionThreshold! * 10000) / 10000);
      expect(Object.keys(p.calculations)).toEqual(INDS);
      expect(p.rangeIndex).toBe(0); // week 5 of 12: only the first quarter has ended
    }
    const p2 = await predictModel({
      reg,
      model,
      data,
      now: NOW,
      alreadyPredicted: new Set(p1.processedKeys),
      trained: t1.trained,
    });
    expect(p2.processedKeys).toEqual([]);
  });

  it("[ANA-8.1] the decision threshold stored at training decides binary predictions; without one, Moodle's 0.6", async () => {
    const model = validateModelConfig(reg, baseConfig);
    const t = await trainModel({ reg, model, data, now: NOW, usedForTraining: new Set() });
    const thr = t.trained.decisionThreshold!;
    expect(thr).toBeGreaterThan(0);
    expect(thr).toBeLessThan(1);
    // Chosen for F1 on the training samples: no worse there than the 0.5 cut of the most likely class.
    const ds = buildDataset({
      data,
      analyser: studentEnrolments,
      target: courseDropout,
      indicators: INDICATORS.filter((i) => INDS.includes(i.id)),
      timeSplitting: quarters,
      now: NOW,
      mode: 'training',
    });
    const p = await logisticRegressionBackend.predict(t.trained, toChunks(ds.x, null, ds.rows, ds.nFeatures));
    const y = ds.y.map((v) => (v === 1 ? 1 : 0));
    const p1 = Float64Array.from({ length: ds.rows }, (_, r) => p.values[r * 2 + 1]!);
    expect(binaryMetrics(y, p1, thr).f1).toBeGreaterThanOrEqual(binaryMetrics(y, p1, 0.5).f1);
    const run = (trained: typeof t.trained) =>
      predictModel({ reg, model, data, now: NOW, alreadyPredicted: new Set(), trained });
    // Threshold 0: every processed sample is flagged, whatever its probability.
    const all = await run({ ...t.trained, decisionThreshold: 0 });
    expect(all.predictions.length).toBe(all.processedKeys.length);
    // An older export without a threshold: only the most likely class at >= 0.6 confidence becomes an insight.
    const { decisionThreshold: _drop, ...older } = t.trained;
    const moodle = await run(parseTrainedModel(JSON.parse(JSON.stringify(older))));
    for (const x of moodle.predictions) expect(x.score).toBeGreaterThanOrEqual(0.6);
    const bad = { ...t.trained, decisionThreshold: 1.5 };
    expect(() => parseTrainedModel(bad)).toThrow(/\$\.decisionThreshold/);
  });

  it('[ANA-6.5] an exported model imports back and predicts the same; a broken one names the JSON path', async () => {
    const model = validateModelConfig(reg, baseConfig);
    const t = await trainModel({ reg, model, data, now: NOW, usedForTraining: new Set() });
    const back = parseTrainedModel(JSON.parse(JSON.stringify(t.trained)));
    const ds = buildDataset({
      data,
      analyser: studentEnrolments,
      target: courseDropout,
      indicators: INDICATORS.filter((i) => INDS.includes(i.id)),
      timeSplitting: quarters,
      now: NOW,
      mode: 'training',
    });
    const a = await logisticRegressionBackend.predict(
      t.trained,
      toChunks(ds.x, null, ds.rows, ds.nFeatures, 97),
    );
    const b = await logisticRegressionBackend.predict(back, toChunks(ds.x, null, ds.rows, ds.nFeatures));
    expect(b.values).toEqual(a.values);
    const broken = JSON.parse(JSON.stringify(t.trained));
    broken.params.models[0].weights.pop();
    expect(() => parseTrainedModel(broken)).toThrow(/\$\.params\.models\[0\]\.weights/);
  });

  it('[ANA-7.2][ANA-7.3] honest evaluation trains on earlier courses and reports metrics and baselines per range', async () => {
    const ds = buildDataset({
      data,
      analyser: studentEnrolments,
      target: courseDropout,
      indicators: INDICATORS.filter((i) => INDS.includes(i.id)),
      timeSplitting: quarters,
      now: T0 + 100 * WEEK,
      mode: 'training',
    });
    const rep = await evaluate({
      protocol: 'honest',
      backend: logisticRegressionBackend,
      target: courseDropout,
      dataset: ds,
      testFrom: T0 + 2 * 14 * WEEK,
      ruleIndicator: 'due_submitted_share',
    });
    expect(rep.trainAnalysables).toEqual(['c1', 'c2']);
    expect(rep.testAnalysables).toEqual(['c3', 'c4']);
    expect(rep.ranges.map((r) => r.rangeIndex)).toEqual([0, 1, 2, 3]);
    // Nobody in this school withdraws after 80 % of the course: the last quarter cannot be trained, and says so.
    expect(rep.ranges[3]!.note).toMatch(/class 1 has 0 samples/);
    for (const r of rep.ranges.slice(0, 3)) {
      expect(r.model!.n).toBe(r.testSamples);
      expect(r.baselines.majority!.auc).toBe(0.5);
      expect(r.baselines.rule).not.toBeNull();
      expect(r.roc[0]).toMatchObject({ fpr: 0, tpr: 0 });
    }
    // Engagement drives withdrawal in this school: the model ranks better than chance.
    expect(rep.ranges[1]!.model!.auc).toBeGreaterThan(0.6);
  });

  it('[ANA-5.6][ANA-5.7] multiclass final result and linear final grade evaluate against trivial predictors', async () => {
    const inds = INDICATORS.filter((i) => INDS.includes(i.id));
    const testFrom = T0 + 2 * 14 * WEEK;
    const build = (target: typeof finalResult) =>
      buildDataset({
        data,
        analyser: studentEnrolments,
        target,
        indicators: inds,
        timeSplitting: quarters,
        now: T0 + 100 * WEEK,
        mode: 'training',
      });
    const mc = build(finalResult);
    const rep = await evaluate({
      protocol: 'honest',
      backend: logisticRegressionBackend,
      target: finalResult,
      dataset: mc,
      testFrom,
    });
    const r2 = rep.ranges[2]!;
    // Accuracy of always answering the most common class among the test rows of that range.
    const counts = new Map<number, number>();
    let n = 0;
    for (let i = 0; i < mc.rows; i++)
      if (mc.rangeIndex[i] === 2 && mc.analysableStart[i]! >= testFrom) {
        counts.set(mc.y[i]!, (counts.get(mc.y[i]!) ?? 0) + 1);
        n++;
      }
    expect(r2.testSamples).toBe(n);
    expect(r2.other!['accuracy']!).toBeGreaterThan(Math.max(...counts.values()) / n);
    const lin = build(finalGrade);
    const lrep = await evaluate({
      protocol: 'honest',
      backend: logisticRegressionBackend,
      target: finalGrade,
      dataset: lin,
      testFrom,
    });
    const l2 = lrep.ranges[2]!;
    let trainSum = 0;
    let trainN = 0;
    for (let i = 0; i < lin.rows; i++)
      if (lin.rangeIndex[i] === 2 && lin.analysableStart[i]! < testFrom) {
        trainSum += lin.y[i]!;
        trainN++;
      }
    let se = 0;
    for (let i = 0; i < lin.rows; i++)
      if (lin.rangeIndex[i] === 2 && lin.analysableStart[i]! >= testFrom)
        se += (lin.y[i]! - trainSum / trainN) ** 2;
    expect(l2.other!['rmse']!).toBeLessThan(Math.sqrt(se / l2.testSamples));
  });

  it('[ANA-7.1] Moodle protocol: 10 seeded random splits, weighted F1 mean and SD, status flags', async () => {
    const ds = buildDataset({
      data,
      analyser: studentEnrolments,
      target: courseDropout,
      indicators: INDICATORS.filter((i) => INDS.includes(i.id)),
      timeSplitting: quarters,
      now: T0 + 100 * WEEK,
      mode: 'training',
    });
    const run = () =>
      evaluate({
        protocol: 'moodle',
        backend: logisticRegressionBackend,
        target: courseDropout,
        dataset: ds,
        rng: seededRng(5),
      });
    const a = await run();
    const b = await run();
    expect(a.moodle!.scores).toHaveLength(10);
    expect(a.moodle!.scores).toEqual(b.moodle!.scores);
    const expectedStatus =
      (a.moodle!.score < 0.7 ? STATUS.LOW_SCORE : 0) |
      (a.moodle!.deviation > 0.05 ? STATUS.NOT_ENOUGH_DATA : 0);
    expect(a.moodle!.status).toBe(expectedStatus);
    expect(a.moodle!.metrics?.model.auc).toBeGreaterThan(0.5);
  });

  it('[ANA-5.8] static "no teaching" flags a course starting now that has no teacher, without training', async () => {
    const start = T0 + 200 * WEEK;
    const lonely = buildActivityData({
      ...rows,
      courses: [
        ...rows.courses,
        { ...rows.courses[0]!, id: 'new', startdate: start, enddate: start + 10 * WEEK },
      ],
      enrolments: [...rows.enrolments, { ...rows.enrolments[1]!, id: 'new:s', courseId: 'new' }],
    });
    const model: ModelConfig = validateModelConfig(reg, {
      id: 'nt',
      name: 'No teaching',
      targetId: 'no_teaching',
      indicatorIds: ['no_teacher', 'no_student'],
      timeSplittingId: 'single_range',
      backendId: 'lr',
      enabled: true,
    });
    const res = await predictModel({
      reg,
      model,
      data: lonely,
      now: start + 3600,
      alreadyPredicted: new Set(),
      trained: null,
    });
    expect(res.predictions.map((p) => p.sampleId)).toEqual(['new']);
    expect(res.predictions[0]).toMatchObject({
      score: 1,
      courseId: 'new',
      calculations: { no_teacher: -1, no_student: 1 },
    });
    expect(noTeaching.feedbackActions).toEqual(['useful', 'notuseful']);
    void siteCourses;
  });

  it('[ANA-8.2][ANA-8.3][ANA-8.4] insights per course for allowed users; settled ones hidden; actions checked and reported', async () => {
    const model = validateModelConfig(reg, baseConfig);
    const t = await trainModel({ reg, model, data, now: NOW, usedForTraining: new Set() });
    const { predictions } = await predictModel({
      reg,
      model,
      data,
      now: NOW,
      alreadyPredicted: new Set(),
      trained: t.trained,
    });
    expect(predictions.length).toBeGreaterThan(1);
    const canList = (u: string, c: string) => u === 't1' && c === 'c4';
    expect(() =>
      listInsights({
        viewerId: 'u4-1',
        canList,
        courseId: 'c4',
        modelId: 'm1',
        target: courseDropout,
        predictions,
        actions: [],
      }),
    ).toThrow(/may not list/);
    const first = listInsights({
      viewerId: 't1',
      canList,
      courseId: 'c4',
      modelId: 'm1',
      target: courseDropout,
      predictions,
      actions: [],
    });
    expect(first.rows).toHaveLength(predictions.length);
    expect(first.rows[0]!.suggestedActions).toEqual(['message_student', 'view_report']);
    const p0 = first.rows[0]!.prediction;
    const fixed = recordAction({
      id: 'a1',
      prediction: p0,
      target: courseDropout,
      userId: 't1',
      action: 'fixed',
      time: NOW,
      canList,
    });
    expect(() =>
      recordAction({
        id: 'a2',
        prediction: p0,
        target: courseDropout,
        userId: 't1',
        action: 'useful',
        time: NOW,
        canList,
      }),
    ).toThrow(ValidationError);
    const msg = recordAction({
      id: 'a3',
      prediction: p0,
      target: courseDropout,
      userId: 't1',
      action: 'message_student',
      time: NOW,
      canList,
    });
    const after = listInsights({
      viewerId: 't1',
      canList,
      courseId: 'c4',
      modelId: 'm1',
      target: courseDropout,
      predictions,
      actions: [fixed, msg],
    });
    expect(after.rows.map((r) => r.prediction.id)).not.toContain(p0.id);
    expect(after.rows).toHaveLength(predictions.length - 1);
    expect(insightCourses('t1', canList, predictions)).toEqual([
      { courseId: 'c4', modelId: 'm1', count: predictions.length },
    ]);
    expect(actionsReport([fixed, msg])).toEqual({
      byAction: { fixed: 1, message_student: 1 },
      usefulness: 1,
      predictionsWithFeedback: 1,
    });
  });

  it('[ANA-9] plug-ins register once; unknown ids are named in the error', () => {
    const r = new Registry<{ id: string }>('thing');
    r.register({ id: 'a' });
    expect(() => r.register({ id: 'a' })).toThrow(/already registered/);
    expect(() => r.get('b')).toThrow(/unknown thing "b"/);
    expect(reg.timeSplittings.list().length).toBe(TIME_SPLITTINGS.length);
  });
});

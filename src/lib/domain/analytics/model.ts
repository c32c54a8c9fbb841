// Analytics models (target + indicators + time splitting + backend): validated config, versioning, the data the
// model editor needs, and the train and predict flows. Pure: `now`, ids and storage rows are passed in and out.
import type { UnixSeconds } from '../shared/clock.ts';
import { ValidationError, jsonPath, type Problem } from '../shared/errors.ts';
import type { JobOptions } from '../shared/cancel.ts';
import { toChunks, type TrainedModelJson } from './backend.ts';
import { bestF1Threshold } from './metrics.ts';
import type { ActivityData } from './data.ts';
import {
  buildDatasetAsync,
  rowCalculations,
  usedKey,
  type AverageColumns,
  type Dataset,
  type IndicatorCache,
} from './dataset.ts';
import type { DataNeed } from './indicators.ts';
import { resolveTimeSplitting, type AnalyticsRegistry } from './registry.ts';
import type { Target } from './targets.ts';

/** [ANA-8.0] A model as stored (table `analyticsModels`) and edited. */
export interface ModelConfig {
  readonly id: string;
  readonly name: string;
  readonly targetId: string;
  readonly indicatorIds: readonly string[];
  /** null = not chosen yet (Moodle's default dropout model ships without one). */
  readonly timeSplittingId: string | null;
  readonly backendId: string;
  readonly enabled: boolean;
  /** Bumped whenever target, indicators, time splitting, backend or averages change (`model::update`). */
  readonly version: number;
  /** Restrict to these courses (Moodle `contextids`); null = all. */
  readonly courseIds: readonly string[] | null;
  readonly averages: AverageColumns;
  /** Adds a null-marker column per indicator (not in Moodle). */
  readonly missingFlags: boolean;
}

/** [ANA-8.0] Validates a model config against the registry; every problem names its JSON path. */
export function validateModelConfig(reg: AnalyticsRegistry, json: unknown): ModelConfig {
  const problems: Problem[] = [];
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (typeof json !== 'object' || json === null) problems.push({ at: '$', message: 'must be an object' });
  const str = (k: string) => {
    if (typeof o[k] !== 'string' || o[k] === '')
      problems.push({ at: jsonPath('$', k), message: 'must be a non-empty string' });
  };
  str('id');
  str('name');
  str('targetId');
  str('backendId');
  let target: Target | null = null;
  if (typeof o['targetId'] === 'string') {
    if (reg.targets.has(o['targetId'])) target = reg.targets.get(o['targetId']);
    else problems.push({ at: jsonPath('$', 'targetId'), message: `unknown target "${o['targetId']}"` });
  }
  if (typeof o['backendId'] === 'string' && !reg.backends.has(o['backendId']))
    problems.push({ at: jsonPath('$', 'backendId'), message: `unknown backend "${o['backendId']}"` });
  if (!Array.isArray(o['indicatorIds']) || o['indicatorIds'].length === 0)
    problems.push({
      at: jsonPath('$', 'indicatorIds'),
      message: 'must be a non-empty array of indicator ids',
    });
  else {
    const seen = new Set<string>();
    (o['indicatorIds'] as unknown[]).forEach((id, i) => {
      if (typeof id !== 'string' || !reg.indicators.has(id))
        problems.push({ at: jsonPath('$', 'indicatorIds', i), message: `unknown indicator "${String(id)}"` });
      else if (seen.has(id))
        problems.push({ at: jsonPath('$', 'indicatorIds', i), message: `duplicate indicator "${id}"` });
      else seen.add(id);
    });
    if (target)
      for (const req of target.requiredIndicators)
        if (!seen.has(req))
          problems.push({
            at: jsonPath('$', 'indicatorIds'),
            message: `target ${target.id} needs indicator "${req}"`,
          });
  }
  const ts = o['timeSplittingId'];
  if (ts !== null && ts !== undefined) {
    try {
      const t = typeof ts === 'string' ? resolveTimeSplitting(reg, ts) : null;
      if (!t) problems.push({ at: jsonPath('$', 'timeSplittingId'), message: 'must be a string or null' });
      else if (target && !target.canUseTimeSplitting(t))
        problems.push({
          at: jsonPath('$', 'timeSplittingId'),
          message: `target ${target.id} cannot use time splitting "${t.id}"`,
        });
    } catch (e) {
      problems.push({ at: jsonPath('$', 'timeSplittingId'), message: (e as Error).message });
    }
  }
  if (o['enabled'] !== undefined && typeof o['enabled'] !== 'boolean')
    problems.push({ at: jsonPath('$', 'enabled'), message: 'must be true or false' });
  if (o['version'] !== undefined && !(Number.isInteger(o['version']) && (o['version'] as number) >= 1))
    problems.push({ at: jsonPath('$', 'version'), message: 'must be an integer >= 1' });
  if (
    o['courseIds'] !== undefined &&
    o['courseIds'] !== null &&
    !(Array.isArray(o['courseIds']) && o['courseIds'].every((c) => typeof c === 'string'))
  )
    problems.push({ at: jsonPath('$', 'courseIds'), message: 'must be null or an array of course ids' });
  if (
    o['averages'] !== undefined &&
    !['moodle', 'relative', 'centered', 'none'].includes(o['averages'] as string)
  )
    problems.push({
      at: jsonPath('$', 'averages'),
      message: 'must be "moodle", "relative", "centered" or "none"',
    });
  if (o['missingFlags'] !== undefined && typeof o['missingFlags'] !== 'boolean')
    problems.push({ at: jsonPath('$', 'missingFlags'), message: 'must be true or false' });
  if (problems.length > 0) throw new ValidationError(problems);
  return {
    id: o['id'] as string,
    name: o['name'] as string,
    targetId: o['targetId'] as string,
    indicatorIds: [...(o['indicatorIds'] as string[])],
    timeSplittingId: (ts as string | null | undefined) ?? null,
    backendId: o['backendId'] as string,
    enabled: (o['enabled'] as boolean | undefined) ?? false,
    version: (o['version'] as number | undefined) ?? 1,
    courseIds: (o['courseIds'] as string[] | null | undefined) ?? null,
    averages: (o['averages'] as AverageColumns | undefined) ?? 'moodle',
    missingFlags: (o['missingFlags'] as boolean | undefined) ?? false,
  };
}

/** [ANA-8.0] Applies an edit; the version is bumped (and training must be redone) when the model's meaning changes. */
export function updateModel(
  reg: AnalyticsRegistry,
  old: ModelConfig,
  patch: Partial<Omit<ModelConfig, 'id' | 'version'>>,
): { model: ModelConfig; retrain: boolean } {
  const next = validateModelConfig(reg, { ...old, ...patch, version: old.version });
  const changed =
    next.targetId !== old.targetId ||
    next.backendId !== old.backendId ||
    next.timeSplittingId !== old.timeSplittingId ||
    next.averages !== old.averages ||
    next.missingFlags !== old.missingFlags ||
    next.indicatorIds.join(',') !== old.indicatorIds.join(',');
  return { model: changed ? { ...next, version: old.version + 1 } : next, retrain: changed };
}

export interface OptionItem {
  readonly id: string;
  readonly name: string;
}

/** What the model editor shows: every plug-in, with the target-dependent choices. */
export interface ModelEditorData {
  readonly targets: ReadonlyArray<
    OptionItem & {
      type: string;
      isStatic: boolean;
      analyser: string;
      timeSplittings: string[];
      requiredIndicators: readonly string[];
    }
  >;
  readonly indicators: ReadonlyArray<OptionItem & { kind: string; needs: readonly DataNeed[] }>;
  readonly timeSplittings: ReadonlyArray<OptionItem & { validForEvaluation: boolean }>;
  readonly backends: readonly OptionItem[];
}

export function modelEditorData(reg: AnalyticsRegistry): ModelEditorData {
  const tss = reg.timeSplittings.list();
  return {
    targets: reg.targets.list().map((t) => ({
      id: t.id,
      name: t.name,
      type: t.type,
      isStatic: t.isStatic,
      analyser: t.analyser,
      timeSplittings: tss.filter((s) => t.canUseTimeSplitting(s)).map((s) => s.id),
      requiredIndicators: t.requiredIndicators,
    })),
    indicators: reg.indicators.list().map((i) => ({ id: i.id, name: i.name, kind: i.kind, needs: i.needs })),
    timeSplittings: tss.map((s) => ({ id: s.id, name: s.name, validForEvaluation: s.validForEvaluation })),
    backends: reg.backends.list().map((b) => ({ id: b.id, name: b.name })),
  };
}

export interface FlowInput extends JobOptions {
  readonly reg: AnalyticsRegistry;
  readonly model: ModelConfig;
  readonly data: ActivityData;
  readonly now: UnixSeconds;
  readonly cache?: IndicatorCache;
}

async function modelDataset(
  i: FlowInput,
  mode: 'training' | 'prediction',
  used: ReadonlySet<string>,
): Promise<{ ds: Dataset; target: Target }> {
  const { reg, model } = i;
  if (model.timeSplittingId === null) throw new Error(`model ${model.id} has no time splitting chosen`);
  const target = reg.targets.get(model.targetId);
  const ts = resolveTimeSplitting(reg, model.timeSplittingId);
  const ds = await buildDatasetAsync({
    data: i.data,
    analyser: reg.analysers.get(target.analyser),
    target,
    indicators: model.indicatorIds.map((id) => reg.indicators.get(id)),
    timeSplitting: ts,
    now: i.now,
    mode,
    used,
    ...(model.courseIds ? { analysableIds: new Set(model.courseIds) } : {}),
    ...(i.cache ? { cache: i.cache } : {}),
    averages: model.averages,
    missingFlags: model.missingFlags,
    ...(i.onProgress ? { onProgress: i.onProgress } : {}),
    ...(i.cancel ? { cancel: i.cancel } : {}),
    ...(i.pause ? { pause: i.pause } : {}),
  });
  return { ds, target };
}

export interface TrainResult {
  readonly trained: TrainedModelJson;
  /** Keys to add to `analyticsUsedSamples` (never trained on again). */
  readonly usedKeys: readonly string[];
  readonly samples: number;
  readonly skipped: ReadonlyArray<{ analysableId: string; reason: string }>;
}

/** [ANA-2.5] Trains on finished courses' samples not used before; returns the model and the keys it used. */
export async function trainModel(
  i: FlowInput & { readonly usedForTraining: ReadonlySet<string>; readonly previous?: TrainedModelJson },
): Promise<TrainResult> {
  const { ds, target } = await modelDataset(i, 'training', i.usedForTraining);
  if (target.isStatic) throw new Error(`target ${target.id} is static: it is not trained`);
  if (ds.rows === 0)
    throw new Error(
      `no new training samples (${ds.skipped.map((s) => `${s.analysableId}: ${s.reason}`).join('; ') || 'no analysables'})`,
    );
  const backend = i.reg.backends.get(i.model.backendId);
  const trained = await backend.train(
    toChunks(ds.x, ds.y, ds.rows, ds.nFeatures),
    {
      targetType: target.type,
      classes: target.classes,
      featureNames: ds.featureNames,
      trainedAt: i.now,
      ...(i.previous ? { previous: i.previous } : {}),
    },
    { ...(i.cancel ? { cancel: i.cancel } : {}) },
  );
  // [ANA-8.1] Binary targets keep the decision threshold the honest evaluation uses (best positive-class F1 on the
  // training samples' own scores, chosen for OULAD on validation only, ANA-7.4), so insights flag the students the
  // evaluated F1 describes instead of only those the model gives >= 0.6 (few, when positives are rare).
  let decisionThreshold: number | undefined;
  if (target.type === 'binary') {
    const p = await backend.predict(trained, toChunks(ds.x, null, ds.rows, ds.nFeatures), {
      ...(i.cancel ? { cancel: i.cancel } : {}),
    });
    const pos = target.classes[target.classes.length - 1]!;
    const col = target.classes.indexOf(pos);
    const y = new Float64Array(ds.rows);
    const s = new Float64Array(ds.rows);
    for (let r = 0; r < ds.rows; r++) {
      y[r] = ds.y[r] === pos ? 1 : 0;
      s[r] = p.values[r * p.width + col]!;
    }
    decisionThreshold = bestF1Threshold(y, s);
  }
  return {
    trained: decisionThreshold === undefined ? trained : { ...trained, decisionThreshold },
    usedKeys: ds.sampleIds.map((s, r) => usedKey(s, ds.rangeIndex[r]!)),
    samples: ds.rows,
    skipped: ds.skipped,
  };
}

/** [ANA-8.1] A stored prediction (`analytics_predictions`), with the indicator values used. */
export interface PredictionRow {
  readonly id: string;
  readonly modelId: string;
  readonly modelVersion: number;
  readonly targetId: string;
  readonly courseId: string;
  readonly sampleId: string;
  readonly userId: string | null;
  readonly rangeIndex: number;
  readonly prediction: number;
  readonly score: number;
  readonly calculations: Readonly<Record<string, number | null>>;
  readonly timecreated: UnixSeconds;
  readonly timestart: UnixSeconds;
  readonly timeend: UnixSeconds;
}

export interface PredictResult {
  readonly predictions: readonly PredictionRow[];
  /** Every (sample, range) processed, including those below the confidence floor or of ignored classes. */
  readonly processedKeys: readonly string[];
}

/**
 * [ANA-8.1] Predicts ongoing samples at their latest ready range, skipping (sample, range) pairs already predicted;
 * keeps predictions of non-ignored classes with confidence >= the target's floor (static ones score 1).
 */
export async function predictModel(
  i: FlowInput & {
    readonly alreadyPredicted: ReadonlySet<string>;
    readonly trained: TrainedModelJson | null;
  },
): Promise<PredictResult> {
  const { ds, target } = await modelDataset(i, 'prediction', i.alreadyPredicted);
  const out: PredictionRow[] = [];
  const processedKeys = ds.sampleIds.map((s, r) => usedKey(s, ds.rangeIndex[r]!));
  let classes: Float64Array;
  let scores: Float64Array;
  if (target.isStatic) {
    classes = ds.y;
    scores = new Float64Array(ds.rows).fill(1);
  } else {
    if (!i.trained) throw new Error(`model ${i.model.id} is not trained`);
    if (i.trained.featureNames.join('\u0000') !== ds.featureNames.join('\u0000'))
      throw new Error('the trained model was made with different indicators; retrain it');
    const backend = i.reg.backends.get(i.trained.backend);
    const p = await backend.predict(i.trained, toChunks(ds.x, null, ds.rows, ds.nFeatures), {
      ...(i.cancel ? { cancel: i.cancel } : {}),
    });
    classes = new Float64Array(ds.rows);
    scores = new Float64Array(ds.rows);
    for (let r = 0; r < ds.rows; r++) {
      if (target.type === 'linear') {
        classes[r] = p.values[r]!;
        scores[r] = 1;
        continue;
      }
      const thr = i.trained.decisionThreshold;
      if (target.type === 'binary' && thr !== undefined) {
        // Positive at or above the stored threshold; the score is the positive-class probability.
        const pos = target.classes.length - 1;
        const p1 = p.values[r * p.width + pos]!;
        const c = p1 >= thr ? pos : 0;
        classes[r] = target.classes[c]!;
        scores[r] = p.values[r * p.width + c]!;
        continue;
      }
      let best = 0;
      for (let c = 1; c < p.width; c++)
        if (p.values[r * p.width + c]! > p.values[r * p.width + best]!) best = c;
      classes[r] = target.classes[best]!;
      scores[r] = p.values[r * p.width + best]!;
    }
  }
  // Moodle drops predictions under PREDICTION_MIN_SCORE (analytics/classes/model.php); a stored decision threshold
  // replaces that rule for binary targets (ANA-8.1).
  const thresholded = target.type === 'binary' && i.trained?.decisionThreshold !== undefined;
  for (let r = 0; r < ds.rows; r++) {
    if (target.ignoredClasses.includes(classes[r]!)) continue;
    if (target.type !== 'linear' && !thresholded && scores[r]! < target.minPredictionScore) continue;
    const sampleId = ds.sampleIds[r]!;
    const e = i.data.enrolment(sampleId);
    out.push({
      id: `${i.model.id}:${i.model.version}:${sampleId}:${ds.rangeIndex[r]}`,
      modelId: i.model.id,
      modelVersion: i.model.version,
      targetId: target.id,
      courseId: target.analyser === 'site_courses' ? sampleId : (e?.courseId ?? ds.analysableIds[r]!),
      sampleId,
      userId: e?.userId ?? (target.analyser === 'users' ? sampleId : null),
      rangeIndex: ds.rangeIndex[r]!,
      prediction: classes[r]!,
      score: Math.round(scores[r]! * 10000) / 10000,
      calculations: rowCalculations(ds, r),
      timecreated: i.now,
      timestart: ds.rangeStart[r]!,
      timeend: ds.rangeEnd[r]!,
    });
  }
  return { predictions: out, processedKeys };
}

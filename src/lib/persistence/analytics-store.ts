// Learning-analytics device tables (Dexie, MarkbookDB version 2): activity rows written and read in batches,
// models, trained models (JSON export/import), used samples, predictions and insight actions. Never imported by
// domain code; never decides anything (validation and ML live in the domain and the worker).
import type { Table } from 'dexie';
import type { MarkbookDB } from './db';
import { ValidationError } from '../domain/shared/errors';
import { parseTrainedModel, type TrainedModelJson } from '../domain/analytics/backend';
import type { EvaluationReport } from '../domain/analytics/evaluation';
import type { ModelConfig, PredictionRow } from '../domain/analytics/model';
import type { PredictionActionRow } from '../domain/analytics/insights';
import { ANALYTICS_BATCH_SIZE, toBatches, type ActivityDataRows } from '../domain/analytics/types';

export type DataTable = keyof ActivityDataRows;

/** [ANA-1] Which Dexie table holds each kind of activity row, and its primary key. */
export const DATA_TABLES: Readonly<Record<DataTable, { table: string; key: string }>> = {
  courses: { table: 'analyticsCourses', key: 'id' },
  activities: { table: 'analyticsActivities', key: 'id' },
  logs: { table: 'analyticsLogs', key: 'seq' },
  submissions: { table: 'analyticsSubmissions', key: 'id' },
  enrolments: { table: 'analyticsEnrolments', key: 'id' },
  users: { table: 'analyticsUsers', key: 'id' },
};
export const DATA_TABLE_NAMES = Object.keys(DATA_TABLES) as DataTable[];

/** A model as stored: its config and the last evaluation run on this device. */
export interface StoredModel {
  id: string;
  config: ModelConfig;
  evaluation: StoredEvaluation | null;
  updatedAt: number;
}

/** Both protocols' reports for one model version, with when they ran. */
export interface StoredEvaluation {
  modelVersion: number;
  at: number;
  honest: EvaluationReport | null;
  moodle: EvaluationReport | null;
}

export interface StoredTrainedModel {
  modelId: string;
  modelVersion: number;
  trained: TrainedModelJson;
  samples: number;
  trainedAt: number;
}

export type SamplePurpose = 'train' | 'predict';

/** A row of `analyticsUsedSamples`: primary key [modelId+sampleId+rangeIndex]. */
export interface UsedSampleRow {
  /** `<purpose>:<model id>:v<version>`: a new model version starts with no used samples (Moodle `model::clear`). */
  modelId: string;
  sampleId: string;
  rangeIndex: number;
}

/** [ANA-2.5] The used-samples owner key of a model version and purpose. */
export function usedOwner(purpose: SamplePurpose, modelId: string, version: number): string {
  return `${purpose}:${modelId}:v${version}`;
}

/** [ANA-2.5] Splits the domain's used keys (`<sample>#<range>`) into table rows. */
export function usedRows(owner: string, keys: readonly string[]): UsedSampleRow[] {
  return keys.map((k) => {
    const cut = k.lastIndexOf('#');
    const rangeIndex = Number(k.slice(cut + 1));
    if (cut <= 0 || !Number.isInteger(rangeIndex)) throw new Error(`"${k}" is not a <sample>#<range> key`);
    return { modelId: owner, sampleId: k.slice(0, cut), rangeIndex };
  });
}

/** The inverse of usedRows: the keys the domain compares against. */
export function usedKeysOf(rows: readonly UsedSampleRow[]): string[] {
  return rows.map((r) => `${r.sampleId}#${r.rangeIndex}`);
}

/** Total batches a write of these tables makes (progress denominator). */
export function batchCount(
  rows: Partial<Record<DataTable, readonly unknown[]>>,
  size = ANALYTICS_BATCH_SIZE,
): number {
  let n = 0;
  for (const t of DATA_TABLE_NAMES) n += Math.ceil((rows[t]?.length ?? 0) / size);
  return n;
}

const table = <T, K = string>(db: MarkbookDB, name: string): Table<T, K> => db.table<T, K>(name);

/**
 * [ANA-1] Writes activity rows in batches inside one transaction: a failure leaves the tables as they were.
 * `replace` clears every activity table first (an OULAD import replaces the data set).
 */
export async function writeActivityData(
  db: MarkbookDB,
  rows: Partial<ActivityDataRows>,
  o: { replace?: boolean; onProgress?(done: number, total: number): void } = {},
): Promise<void> {
  const names = DATA_TABLE_NAMES.map((t) => DATA_TABLES[t].table);
  const total = batchCount(rows);
  let done = 0;
  await db.transaction('rw', names, async () => {
    if (o.replace) for (const n of names) await table(db, n).clear();
    for (const t of DATA_TABLE_NAMES) {
      for (const batch of toBatches<unknown>(rows[t] ?? [])) {
        // After a clear nothing can collide: bulkAdd skips the per-row replace check of bulkPut.
        if (o.replace) await table(db, DATA_TABLES[t].table).bulkAdd(batch);
        else await table(db, DATA_TABLES[t].table).bulkPut(batch);
        o.onProgress?.(++done, total);
      }
    }
  });
}

/** [ANA-1] Reads every activity table in primary-key order, one batch at a time (never all logs at once). */
export async function readActivityBatches(
  db: MarkbookDB,
  onBatch: (t: DataTable, rows: unknown[]) => Promise<void> | void,
  size = ANALYTICS_BATCH_SIZE,
): Promise<void> {
  for (const t of DATA_TABLE_NAMES) {
    const tb = table<Record<string, unknown>, unknown>(db, DATA_TABLES[t].table);
    let last: unknown = undefined;
    for (;;) {
      const batch: Record<string, unknown>[] =
        last === undefined
          ? await tb.orderBy(':id').limit(size).toArray()
          : await tb.where(':id').above(last).limit(size).toArray();
      if (batch.length === 0) break;
      await onBatch(t, batch);
      if (batch.length < size) break;
      last = batch[batch.length - 1]![DATA_TABLES[t].key];
    }
  }
}

export async function activityCounts(db: MarkbookDB): Promise<Record<DataTable, number>> {
  const out = {} as Record<DataTable, number>;
  for (const t of DATA_TABLE_NAMES) out[t] = await table(db, DATA_TABLES[t].table).count();
  return out;
}

/** True when any stored course came from OULAD (screens must then show OULAD_CITATION). */
export async function hasOuladData(db: MarkbookDB): Promise<boolean> {
  const c = await table<{ source: string }>(db, 'analyticsCourses')
    .filter((r) => r.source === 'oulad')
    .first();
  return c !== undefined;
}

/** The next free log sequence number (a log import appends after the stored ones). */
export async function nextLogSeq(db: MarkbookDB): Promise<number> {
  const last = await table<{ seq: number }, number>(db, 'analyticsLogs').orderBy('seq').last();
  return (last?.seq ?? 0) + 1;
}

export async function courseNames(db: MarkbookDB): Promise<Map<string, string>> {
  const rows = await table<{ id: string; fullname: string }>(db, 'analyticsCourses').toArray();
  return new Map(rows.map((r) => [r.id, r.fullname]));
}

// --- Models -------------------------------------------------------------------------------------------------

export const listModels = (db: MarkbookDB): Promise<StoredModel[]> =>
  table<StoredModel>(db, 'analyticsModels').toArray();
export const getModel = (db: MarkbookDB, id: string): Promise<StoredModel | undefined> =>
  table<StoredModel>(db, 'analyticsModels').get(id);

export async function putModel(db: MarkbookDB, config: ModelConfig, now: number): Promise<void> {
  const t = table<StoredModel>(db, 'analyticsModels');
  await db.transaction('rw', t, async () => {
    const old = await t.get(config.id);
    // An evaluation of an older version no longer describes the model.
    const evaluation =
      old?.evaluation && old.evaluation.modelVersion === config.version ? old.evaluation : null;
    await t.put({ id: config.id, config, evaluation, updatedAt: now });
  });
}

export async function saveEvaluation(db: MarkbookDB, modelId: string, ev: StoredEvaluation): Promise<void> {
  await table<StoredModel>(db, 'analyticsModels').update(modelId, { evaluation: ev });
}

// --- Trained models, used samples -----------------------------------------------------------------------------

export const getTrained = (db: MarkbookDB, modelId: string): Promise<StoredTrainedModel | undefined> =>
  table<StoredTrainedModel>(db, 'analyticsTrainedModels').get(modelId);

/** Stores a trained model and marks its samples as used for training, together. */
export async function saveTraining(
  db: MarkbookDB,
  row: StoredTrainedModel,
  usedKeys: readonly string[],
): Promise<void> {
  const owner = usedOwner('train', row.modelId, row.modelVersion);
  await db.transaction('rw', ['analyticsTrainedModels', 'analyticsUsedSamples'], async () => {
    await table<StoredTrainedModel>(db, 'analyticsTrainedModels').put(row);
    for (const b of toBatches(usedRows(owner, usedKeys)))
      await table<UsedSampleRow, unknown>(db, 'analyticsUsedSamples').bulkPut(b);
  });
}

export async function usedKeys(
  db: MarkbookDB,
  purpose: SamplePurpose,
  modelId: string,
  version: number,
): Promise<string[]> {
  const owner = usedOwner(purpose, modelId, version);
  const rows = await table<UsedSampleRow, unknown>(db, 'analyticsUsedSamples')
    .where('[modelId+sampleId+rangeIndex]')
    .between([owner, '', -Infinity], [owner, '\uffff', Infinity])
    .toArray();
  return usedKeysOf(rows);
}

/** The export file of a trained model: the config it belongs to and the trained parameters (ANA-6.5). */
export function trainedExportJson(config: ModelConfig, row: StoredTrainedModel): string {
  return JSON.stringify({ model: config, trained: row.trained, samples: row.samples });
}

/** [ANA-6.5] Reads an export file: JSON errors and model-format problems name the path at fault. */
export function parseTrainedExport(text: string): {
  model: unknown;
  trained: TrainedModelJson;
  samples: number;
} {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError([{ at: '$', message: `not JSON: ${(e as Error).message}` }]);
  }
  if (typeof json !== 'object' || json === null || !('trained' in json))
    throw new ValidationError([
      { at: '$.trained', message: 'is required (a markbook-analytics-model export)' },
    ]);
  const o = json as { model?: unknown; trained: unknown; samples?: unknown };
  let trained: TrainedModelJson;
  try {
    trained = parseTrainedModel(o.trained);
  } catch (e) {
    if (e instanceof ValidationError)
      throw new ValidationError(
        e.problems.map((p) => ({ at: p.at.replace(/^\$/, '$.trained'), message: p.message })),
      );
    throw e;
  }
  return { model: o.model, trained, samples: typeof o.samples === 'number' ? o.samples : trained.samples };
}

// --- Predictions and actions ---------------------------------------------------------------------------------

/** Stores predictions and marks every processed (sample, range) as predicted, together (ANA-2.5, ANA-8.1). */
export async function savePredictions(
  db: MarkbookDB,
  modelId: string,
  version: number,
  rows: readonly PredictionRow[],
  processedKeys: readonly string[],
): Promise<void> {
  const owner = usedOwner('predict', modelId, version);
  await db.transaction('rw', ['analyticsPredictions', 'analyticsUsedSamples'], async () => {
    for (const b of toBatches(rows)) await table<PredictionRow>(db, 'analyticsPredictions').bulkPut(b);
    for (const b of toBatches(usedRows(owner, processedKeys)))
      await table<UsedSampleRow, unknown>(db, 'analyticsUsedSamples').bulkPut(b);
  });
}

export const allPredictions = (db: MarkbookDB): Promise<PredictionRow[]> =>
  table<PredictionRow>(db, 'analyticsPredictions').toArray();

export const coursePredictions = (db: MarkbookDB, courseId: string): Promise<PredictionRow[]> =>
  table<PredictionRow>(db, 'analyticsPredictions').where('courseId').equals(courseId).toArray();

export async function putAction(db: MarkbookDB, row: PredictionActionRow): Promise<void> {
  await table<PredictionActionRow>(db, 'analyticsPredictionActions').put(row);
}

export const allActions = (db: MarkbookDB): Promise<PredictionActionRow[]> =>
  table<PredictionActionRow>(db, 'analyticsPredictionActions').toArray();

export async function actionsFor(
  db: MarkbookDB,
  predictionIds: readonly string[],
): Promise<PredictionActionRow[]> {
  if (predictionIds.length === 0) return [];
  return table<PredictionActionRow>(db, 'analyticsPredictionActions')
    .where('predictionId')
    .anyOf([...predictionIds])
    .toArray();
}

/** Display names of analytics users (missing ids are left out). */
export async function userNames(db: MarkbookDB, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await table<{ id: string; name: string }>(db, 'analyticsUsers').bulkGet([...new Set(ids)]);
  return new Map(
    rows.filter((r): r is { id: string; name: string } => r !== undefined).map((r) => [r.id, r.name]),
  );
}

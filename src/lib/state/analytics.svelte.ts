// Analytics view state: the device tables' summary, models, the running worker job (progress, cancel, status for
// live regions) and the flows import -> evaluate -> train -> predict -> insights. Heavy work runs in the analytics
// worker; storage goes through persistence/analytics-store.ts. Never computes analytics on the main thread.
import { database } from '../persistence/db';
import {
  activityCounts,
  getModel,
  getTrained,
  hasOuladData,
  listModels,
  nextLogSeq,
  parseTrainedExport,
  putModel,
  readActivityBatches,
  saveEvaluation,
  savePredictions,
  saveTraining,
  trainedExportJson,
  usedKeys,
  writeActivityData,
  type DataTable,
  type StoredModel,
} from '../persistence/analytics-store';
import { defaultRegistry, type AnalyticsRegistry } from '../domain/analytics/registry';
import {
  updateModel,
  validateModelConfig,
  type ModelConfig,
  type ModelEditorData,
  type PredictResult,
  type TrainResult,
} from '../domain/analytics/model';
import type { EvaluationReport } from '../domain/analytics/evaluation';
import { OULAD_FILES, type OuladTables } from '../domain/analytics/oulad';
import { OULAD_THRESHOLD_FOLDS } from '../domain/analytics/oulad-model';
import type { TfBackendChoice } from '../ml/tf-backend-select';
import { ValidationError } from '../domain/shared/errors';
import { AnalyticsClient, AnalyticsJobError, type AppCall, type Job } from './analytics-client';
import type { LogImportResult, OuladImportResult } from './analytics-app.worker';
import { defaultModelConfigs, matchOuladFiles, testFromFor } from './analytics-view';

export interface JobView {
  readonly label: string;
  phase: string;
  done: number;
  total: number;
}

const NOW_PREF = 'analyticsNow';

export class AnalyticsState {
  counts = $state<Record<DataTable, number> | null>(null);
  hasOulad = $state(false);
  models = $state.raw<StoredModel[]>([]);
  /** Analysis date (unix seconds) for training and prediction; null = today. */
  analysisNow = $state<number | null>(null);
  job = $state<JobView | null>(null);
  /** Last outcome, read out by the live region. */
  status = $state('');
  error = $state<string | null>(null);
  problems = $state.raw<readonly { at: string; message: string }[]>([]);
  tf = $state.raw<TfBackendChoice | null>(null);
  editor = $state.raw<ModelEditorData | null>(null);

  private client: AnalyticsClient | null = null;
  private current: Job<unknown> | null = null;
  private loaded = false;
  private tfInit: Promise<TfBackendChoice> | null = null;

  private worker(): AnalyticsClient {
    this.client ??= new AnalyticsClient(
      new Worker(new URL('./analytics-app.worker.ts', import.meta.url), { type: 'module' }),
    );
    return this.client;
  }

  /** Runs one worker job with progress shown; errors land in `error`/`problems` and are rethrown. */
  private async job$<T>(label: string, call: AppCall): Promise<T> {
    const view: JobView = { label, phase: '', done: 0, total: 0 };
    this.job = view;
    const j = this.worker().run<T>(call, (phase, done, total) => {
      if (this.job) this.job = { ...this.job, phase, done, total };
    });
    this.current = j as Job<unknown>;
    try {
      return await j.result;
    } finally {
      this.current = null;
      this.job = null;
    }
  }

  /** Stops the running job (the worker drops what it was building). */
  cancel(): void {
    this.current?.cancel();
  }

  private fail(e: unknown): void {
    if (e instanceof AnalyticsJobError && e.cancelled) {
      this.status = 'Cancelled.';
      this.error = null;
      return;
    }
    this.error = e instanceof Error ? e.message : String(e);
    this.problems = e instanceof AnalyticsJobError || e instanceof ValidationError ? e.problems : [];
    this.status = `Failed: ${this.error}`;
  }

  private begin(): void {
    this.error = null;
    this.problems = [];
  }

  async init(): Promise<void> {
    const db = database();
    this.counts = await activityCounts(db);
    this.hasOulad = await hasOuladData(db);
    const pref = await db.prefs.get(NOW_PREF);
    this.analysisNow = typeof pref?.value === 'number' ? pref.value : null;
    if ((await listModels(db)).length === 0) {
      const reg = defaultRegistry();
      for (const c of defaultModelConfigs()) await putModel(db, validateModelConfig(reg, c), Date.now());
    }
    this.models = (await listModels(db)).sort((a, b) => a.config.name.localeCompare(b.config.name));
  }

  async setAnalysisNow(t: number | null): Promise<void> {
    this.analysisNow = t;
    await database().prefs.put({ key: NOW_PREF, value: t });
  }

  /** Sends the stored rows to the worker once per page load, in batches. */
  private async ensureLoaded(): Promise<void> {
    if (this.loaded) return;
    const c = this.worker();
    await c.run({ type: 'clear' }).result;
    let sent = 0;
    const total = Object.values(this.counts ?? {}).reduce((a, b) => a + b, 0);
    this.job = { label: 'Loading device data into the worker', phase: '', done: 0, total };
    try {
      await readActivityBatches(database(), async (table, rows) => {
        await c.run({ type: 'append', table, rows }).result;
        sent += rows.length;
        this.job = { label: 'Loading device data into the worker', phase: table, done: sent, total };
      });
    } finally {
      this.job = null;
    }
    this.loaded = true;
  }

  /** [ANA-1.2] Reads the chosen OULAD files, maps them in the worker and replaces the device tables. */
  async importOulad(files: readonly File[]): Promise<boolean> {
    this.begin();
    const { byTable, problems } = matchOuladFiles(files.map((f) => f.name));
    if (problems.length > 0) {
      this.problems = problems;
      this.error = 'Choose the six OULAD files: ' + Object.values(OULAD_FILES).join(', ');
      this.status = `Import failed: ${this.error}`;
      return false;
    }
    try {
      const texts: Partial<Record<keyof OuladTables, string>> = {};
      for (const [t, i] of Object.entries(byTable)) texts[t as keyof OuladTables] = await files[i]!.text();
      const rows = await this.job$<OuladImportResult>('Importing OULAD', {
        type: 'import-oulad',
        files: texts,
      });
      this.loaded = true; // the worker now holds exactly these rows
      this.job = { label: 'Saving on this device', phase: '', done: 0, total: 1 };
      try {
        await writeActivityData(database(), rows, {
          replace: true,
          onProgress: (done, total) =>
            (this.job = { label: 'Saving on this device', phase: '', done, total }),
        });
      } finally {
        this.job = null;
      }
      await this.init();
      this.status = `Imported ${rows.courses.length} presentations, ${rows.enrolments.length} enrolments and ${rows.submissions.length} submissions.`;
      return true;
    } catch (e) {
      this.loaded = false;
      this.fail(e);
      return false;
    }
  }

  /** [ANA-1.1] Appends a Moodle-style log CSV (all-or-nothing). */
  async importLog(file: File): Promise<boolean> {
    this.begin();
    try {
      await this.ensureLoaded();
      const text = await file.text();
      const firstSeq = await nextLogSeq(database());
      const { logs } = await this.job$<LogImportResult>('Importing log', {
        type: 'import-log',
        text,
        fileName: file.name,
        firstSeq,
      });
      await writeActivityData(database(), { logs });
      await this.init();
      this.status = `Imported ${logs.length} log events.`;
      return true;
    } catch (e) {
      // The worker may hold logs the device did not store: reload it from the tables before the next job.
      this.loaded = false;
      this.fail(e);
      return false;
    }
  }

  /** [ANA-6.3] Loads TF.js in the worker once (registers the nn backend) and records the backend chosen. */
  ensureTf(): Promise<TfBackendChoice> {
    this.tfInit ??= this.worker()
      .run<TfBackendChoice>({ type: 'init-tf' })
      .result.then((c) => (this.tf = c));
    return this.tfInit;
  }

  async loadEditor(): Promise<ModelEditorData> {
    try {
      await this.ensureTf();
    } catch (e) {
      this.status = `TensorFlow.js could not start (${(e as Error).message}); logistic regression only.`;
    }
    const ed = await this.worker().run<ModelEditorData>({ type: 'editor' }).result;
    this.editor = ed;
    return ed;
  }

  /** The page's registry: the built-ins plus the backends the worker declares (it runs them, the page only names them). */
  registry(): AnalyticsRegistry {
    const reg = defaultRegistry();
    for (const b of this.editor?.backends ?? [])
      if (!reg.backends.has(b.id))
        reg.backends.register({
          id: b.id,
          name: b.name,
          train: () => Promise.reject(new Error(`${b.name} runs in the analytics worker`)),
          predict: () => Promise.reject(new Error(`${b.name} runs in the analytics worker`)),
        });
    return reg;
  }

  /** [ANA-8.0] Saves an edit (or a new model); problems name the field. Returns the saved config or null. */
  async saveModel(json: Record<string, unknown>): Promise<ModelConfig | null> {
    this.begin();
    const reg = this.registry();
    try {
      const old = typeof json['id'] === 'string' ? await getModel(database(), json['id']) : undefined;
      const next = old
        ? updateModel(reg, old.config, json as Partial<ModelConfig>)
        : { model: validateModelConfig(reg, json), retrain: true };
      await putModel(database(), next.model, Date.now());
      await this.init();
      this.status =
        old && next.retrain ? `Saved as version ${next.model.version}: train it again.` : 'Saved.';
      return next.model;
    } catch (e) {
      this.fail(e);
      return null;
    }
  }

  /** [ANA-7] Runs both protocols (honest, then Moodle's) on every finished course, with the real clock. */
  async evaluate(modelId: string): Promise<boolean> {
    this.begin();
    try {
      const m = (await getModel(database(), modelId))!;
      await this.ensureLoaded();
      await this.worker().run({ type: 'set-now', now: null }).result;
      const testFrom = testFromFor(this.hasOulad);
      const common = {
        model: m.config,
        seed: 1,
        ruleIndicator: 'due_submitted_share',
        ...(testFrom !== undefined ? { testFrom } : {}),
        // the same threshold choice as `markbook analytics evaluate`, so the app shows the command line's figures
        ...(this.hasOulad ? { thresholdFolds: OULAD_THRESHOLD_FOLDS } : {}),
      };
      const honest = await this.job$<EvaluationReport>(
        'Evaluating (train on earlier courses, test on later ones)',
        {
          type: 'evaluate',
          protocol: 'honest',
          ...common,
        },
      );
      const moodle = await this.job$<EvaluationReport>("Evaluating (Moodle's 10 random splits)", {
        type: 'evaluate',
        protocol: 'moodle',
        ...common,
      });
      await saveEvaluation(database(), modelId, {
        modelVersion: m.config.version,
        at: Date.now(),
        honest,
        moodle,
      });
      await this.init();
      const auc = honest.ranges[0]?.model?.auc;
      this.status = `Evaluation finished${auc !== undefined && Number.isFinite(auc) ? `: AUC ${auc.toFixed(3)}` : ''}.`;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private async atAnalysisDate(): Promise<void> {
    await this.worker().run({ type: 'set-now', now: this.analysisNow }).result;
  }

  /** [ANA-2.5] Trains on finished courses' samples not used before, continuing from the stored model. */
  async train(modelId: string): Promise<boolean> {
    this.begin();
    try {
      const m = (await getModel(database(), modelId))!;
      await this.ensureLoaded();
      try {
        await this.ensureTf();
      } catch {
        /* shown as unavailable; logistic regression still trains */
      }
      await this.atAnalysisDate();
      const db = database();
      const used = await usedKeys(db, 'train', modelId, m.config.version);
      const prev = await getTrained(db, modelId);
      const previous = prev && prev.modelVersion === m.config.version ? prev : undefined;
      const res = await this.job$<TrainResult>('Training', {
        type: 'train',
        model: m.config,
        usedForTraining: used,
        ...(previous ? { previous: previous.trained } : {}),
      });
      await saveTraining(
        db,
        {
          modelId,
          modelVersion: m.config.version,
          trained: res.trained,
          samples: (previous?.samples ?? 0) + res.samples,
          trainedAt: res.trained.trainedAt,
        },
        res.usedKeys,
      );
      this.status = `Trained on ${res.samples} samples.`;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  /** [ANA-8.1] Predicts ongoing courses at the analysis date; stores predictions with their indicator values. */
  async predict(modelId: string): Promise<number | null> {
    this.begin();
    try {
      const m = (await getModel(database(), modelId))!;
      const db = database();
      const trained = await getTrained(db, modelId);
      const target = this.registry().targets.get(m.config.targetId);
      if (!target.isStatic && (!trained || trained.modelVersion !== m.config.version))
        throw new Error('train this version of the model first');
      await this.ensureLoaded();
      await this.atAnalysisDate();
      const already = await usedKeys(db, 'predict', modelId, m.config.version);
      const res = await this.job$<PredictResult>('Predicting', {
        type: 'predict',
        model: m.config,
        trained: target.isStatic ? null : trained!.trained,
        alreadyPredicted: already,
      });
      await savePredictions(db, modelId, m.config.version, res.predictions, res.processedKeys);
      const courses = new Set(res.predictions.map((p) => p.courseId)).size;
      this.status = `${res.predictions.length} new insights in ${courses} course${courses === 1 ? '' : 's'} (${res.processedKeys.length} samples analysed).`;
      return res.predictions.length;
    } catch (e) {
      this.fail(e);
      return null;
    }
  }

  async exportTrained(modelId: string): Promise<string | null> {
    const m = await getModel(database(), modelId);
    const t = await getTrained(database(), modelId);
    return m && t ? trainedExportJson(m.config, t) : null;
  }

  /** [ANA-6.5] Imports a trained-model file for this model; the file's features must match the model's. */
  async importTrained(modelId: string, text: string): Promise<boolean> {
    this.begin();
    try {
      const m = (await getModel(database(), modelId))!;
      const { trained, samples } = parseTrainedExport(text);
      await saveTraining(
        database(),
        { modelId, modelVersion: m.config.version, trained, samples, trainedAt: trained.trainedAt },
        [],
      );
      this.status = `Imported a trained model (${trained.backend}, ${samples} samples).`;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }
}

export const analytics = new AnalyticsState();

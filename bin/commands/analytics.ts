// `markbook analytics evaluate|train|predict`: learning-analytics models on OULAD (or exported rows) from the
// command line, printing JSON. Reads only the files named on the command line; writes only --out.
// Data: OULAD, Kuzilek, Hlosta & Zdrahal (2017), Scientific Data 4:170171, doi:10.1038/sdata.2017.171, CC BY 4.0.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, flagString, flagNumber, printJson, UsageError, type ParsedArgs } from './cli-util.ts';
import { parseCsv } from '../../src/lib/ml/csv.ts';
import {
  mapOulad,
  OULAD_CITATION,
  OULAD_FILES,
  type OuladTables,
} from '../../src/lib/domain/analytics/oulad.ts';
import { buildActivityData, type ActivityData } from '../../src/lib/domain/analytics/data.ts';
import {
  OULAD_AVERAGES,
  OULAD_INDICATORS,
  OULAD_MISSING_FLAGS,
  OULAD_TARGETS,
  OULAD_TEST_FROM,
  OULAD_THRESHOLD_FOLDS,
  OULAD_VALIDATE_FROM,
  ouladDataset,
} from '../../src/lib/domain/analytics/oulad-model.ts';
import {
  evaluate,
  leaveOneGroupOut,
  type MetricSet,
  type RangeEvaluation,
} from '../../src/lib/domain/analytics/evaluation.ts';
import {
  logisticRegressionBackend,
  parseTrainedModel,
  type MlBackend,
} from '../../src/lib/domain/analytics/backend.ts';
import { defaultRegistry } from '../../src/lib/domain/analytics/registry.ts';
import {
  predictModel,
  trainModel,
  validateModelConfig,
  type ModelConfig,
} from '../../src/lib/domain/analytics/model.ts';
import { seededRng } from '../../src/lib/domain/shared/clock.ts';
import { ValidationError } from '../../src/lib/domain/shared/errors.ts';

const USAGE = `usage:
  markbook analytics evaluate --oulad <dir> --target withdrawal|at_risk --at <fraction>[,<fraction>...]
                              [--protocol honest|moodle] [--split test|validation|modules] [--backend lr|nn] [--tf cpu|wasm] [--seed N] [--epochs N]
  markbook analytics train    --oulad <dir> --target withdrawal|at_risk --at <fraction> [--backend lr|nn]
                              [--until <unix time>] --out <model.json>
  markbook analytics predict  --oulad <dir> --model <model.json> --now <unix time|ISO date> [--limit N]`;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Reads the six OULAD tables. With `before`, keeps only presentations starting before that time (and their rows), so
 * a validation run inside the training years cannot read anything of the test year, not even its registrations.
 */
export function loadOulad(dir: string, before?: number): ActivityData {
  const tables: Record<string, Record<string, string>[]> = {};
  for (const [k, f] of Object.entries(OULAD_FILES)) {
    let text: string;
    try {
      text = readFileSync(join(dir, f), 'utf8');
    } catch {
      throw new UsageError(`--oulad: cannot read ${join(dir, f)}`);
    }
    tables[k] = parseCsv(text, f);
  }
  const rows = mapOulad(tables as unknown as OuladTables);
  if (before === undefined) return buildActivityData(rows);
  const keep = new Set(rows.courses.filter((c) => c.startdate < before).map((c) => c.id));
  const users = new Set(rows.enrolments.filter((e) => keep.has(e.courseId)).map((e) => e.userId));
  return buildActivityData({
    courses: rows.courses.filter((c) => keep.has(c.id)),
    activities: rows.activities.filter((a) => keep.has(a.courseId)),
    logs: rows.logs.filter((l) => keep.has(l.courseId)),
    submissions: rows.submissions.filter((x) => keep.has(x.courseId)),
    enrolments: rows.enrolments.filter((e) => keep.has(e.courseId)),
    users: rows.users.filter((u) => users.has(u.id)),
  });
}

async function backendFor(
  p: ParsedArgs,
): Promise<{ backend: MlBackend; tfBackend: string | null; tfReason: string | null }> {
  const name = flagString(p, 'backend') ?? 'lr';
  if (name === 'lr') return { backend: logisticRegressionBackend, tfBackend: null, tfReason: null };
  if (name !== 'nn') throw new UsageError(`--backend must be lr or nn, not "${name}"`);
  const pin = flagString(p, 'tf') ?? 'wasm';
  if (pin !== 'cpu' && pin !== 'wasm') throw new UsageError(`--tf must be cpu or wasm, not "${pin}"`);
  const tf = await import('@tensorflow/tfjs');
  const { selectTfBackend } = await import('../../src/lib/ml/tf-backend-select.ts');
  const { createNeuralNetworkBackend } = await import('../../src/lib/ml/nn-backend.ts');
  const choice = await selectTfBackend(tf, {
    prefer: pin,
    wasmPath: join(repoRoot, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'),
  });
  const epochs = flagNumber(p, 'epochs');
  // Evaluations fit the network several times (threshold folds); cap the Moodle epoch formula to keep runs short.
  const backend = createNeuralNetworkBackend(tf, epochs !== undefined ? { epochs } : { maxEpochs: 100 });
  return { backend, tfBackend: choice.backend, tfReason: choice.reason };
}

function targetOf(p: ParsedArgs) {
  const name = flagString(p, 'target');
  if (!name) throw new UsageError('--target is required (withdrawal or at_risk)');
  const t = OULAD_TARGETS[name];
  if (!t) throw new UsageError(`--target must be withdrawal or at_risk, not "${name}"`);
  return { name, target: t };
}

function fractions(p: ParsedArgs): number[] {
  const v = flagString(p, 'at');
  if (!v) throw new UsageError('--at is required (a fraction of the course, e.g. 0.25)');
  return v.split(',').map((s) => {
    const f = Number(s);
    if (!(f > 0 && f <= 1)) throw new UsageError(`--at: "${s}" is not a fraction in (0, 1]`);
    return f;
  });
}

const r4 = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 10000) / 10000 : null);

function metricJson(m: MetricSet | null | undefined) {
  if (!m) return null;
  return {
    auc: r4(m.auc),
    prAuc: r4(m.prAuc),
    precision: r4(m.precision),
    recall: r4(m.recall),
    f1: r4(m.f1),
    mcc: r4(m.mcc),
    brier: r4(m.brier),
    weightedF1: r4(m.weightedF1),
    accuracy: r4(m.accuracy),
    threshold: r4(m.threshold),
  };
}

function rangeJson(r: RangeEvaluation, protocol: string) {
  if (protocol === 'moodle') {
    const mm = r.moodle!;
    return {
      trainSamples: r.trainSamples,
      testSamples: r.testSamples,
      testPositiveRate: r4(r.testPositiveRate),
      ...metricJson(mm.metrics?.model),
      baselines: { majority: metricJson(mm.metrics?.majority), rule: metricJson(mm.metrics?.rule) },
      moodle: { score: r4(mm.score), deviation: r4(mm.deviation), status: mm.status, messages: mm.messages },
    };
  }
  return {
    trainSamples: r.trainSamples,
    testSamples: r.testSamples,
    testPositiveRate: r4(r.testPositiveRate),
    ...metricJson(r.model),
    baselines: { majority: metricJson(r.baselines.majority), rule: metricJson(r.baselines.rule) },
  };
}

async function cmdEvaluate(p: ParsedArgs): Promise<number> {
  const dir = flagString(p, 'oulad');
  if (!dir) throw new UsageError('--oulad <dir> is required');
  const { name, target } = targetOf(p);
  const ats = fractions(p);
  const protocol = flagString(p, 'protocol') ?? 'honest';
  if (protocol !== 'honest' && protocol !== 'moodle')
    throw new UsageError(`--protocol must be honest or moodle, not "${protocol}"`);
  const seed = flagNumber(p, 'seed') ?? 1;
  const { backend, tfBackend, tfReason } = await backendFor(p);
  const split = flagString(p, 'split') ?? 'test';
  if (split !== 'test' && split !== 'validation' && split !== 'modules')
    throw new UsageError(`--split must be test, validation or modules, not "${split}"`);
  if (split !== 'test' && protocol !== 'honest')
    throw new UsageError(`--split ${split} needs --protocol honest`);
  // Validation: the training years only (2013), train 2013B -> validate 2013J; the 2014 test year is never read
  // (its presentations are left out before any indicator is calculated).
  // --split modules: leave one module out over 2013 (ANA-7.4 "V2"), also without reading 2014.
  const data = loadOulad(dir, split === 'test' ? undefined : OULAD_TEST_FROM);
  const results = [];
  for (const at of ats) {
    const dataset = ouladDataset(data, target, at);
    const rep =
      split === 'modules'
        ? await leaveOneGroupOut({
            backend,
            target,
            dataset,
            thresholdFolds: OULAD_THRESHOLD_FOLDS,
            ruleIndicator: 'due_submitted_share',
            groupOf: (id) => data.courses.get(id)?.course.family ?? id,
          })
        : await evaluate({
            protocol,
            backend,
            target,
            dataset,
            testFrom: split === 'validation' ? OULAD_VALIDATE_FROM : OULAD_TEST_FROM,
            thresholdFolds: OULAD_THRESHOLD_FOLDS,
            rng: seededRng(seed),
            ruleIndicator: 'due_submitted_share',
          });
    results.push({
      target: name,
      at,
      protocol,
      backend: backend.id,
      ...(tfBackend ? { tfBackend, tfReason } : {}),
      ...(protocol === 'honest'
        ? {
            split:
              split === 'validation'
                ? 'validation inside 2013: train on 2013B presentations, validate on 2013J presentations'
                : split === 'modules'
                  ? 'validation inside 2013: leave one module out (train on the other modules), predictions pooled'
                  : 'train on 2013 presentations, test on 2014 presentations',
          }
        : { split: '10 random 80/20 row splits (Moodle)' }),
      ...rangeJson(rep.ranges[0]!, protocol),
      dataset: { rows: dataset.rows, features: dataset.nFeatures, droppedAllNull: dataset.droppedAllNull },
      citation: OULAD_CITATION,
    });
  }
  printJson(results.length === 1 ? results[0] : results);
  return 0;
}

/** The model config the OULAD commands train and predict with. */
function ouladModel(
  reg: ReturnType<typeof defaultRegistry>,
  targetId: string,
  at: number,
  backendId: string,
): ModelConfig {
  return validateModelConfig(reg, {
    id: `oulad-${targetId}`,
    name: `OULAD ${targetId}`,
    targetId,
    indicatorIds: [...OULAD_INDICATORS],
    timeSplittingId: `at_fraction_${Math.round(at * 1000) / 10}`,
    backendId,
    enabled: true,
    averages: OULAD_AVERAGES,
    missingFlags: OULAD_MISSING_FLAGS,
  });
}

function parseNow(v: string | undefined, flag: string): number {
  if (!v) throw new UsageError(`--${flag} is required`);
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v) / 1000;
  if (!Number.isFinite(n)) throw new UsageError(`--${flag}: "${v}" is neither a unix time nor an ISO date`);
  return Math.floor(n);
}

async function cmdTrain(p: ParsedArgs): Promise<number> {
  const dir = flagString(p, 'oulad');
  if (!dir) throw new UsageError('--oulad <dir> is required');
  const out = flagString(p, 'out');
  if (!out) throw new UsageError('--out <model.json> is required');
  const { target } = targetOf(p);
  const [at] = fractions(p);
  const { backend, tfBackend } = await backendFor(p);
  const reg = defaultRegistry();
  if (backend.id !== 'lr') reg.backends.register(backend);
  const model = ouladModel(reg, target.id, at!, backend.id);
  // Default: mid-2014, when every 2013 presentation has finished and no 2014 one has.
  const until = flagString(p, 'until')
    ? parseNow(flagString(p, 'until'), 'until')
    : Date.UTC(2014, 6, 1) / 1000;
  const data = loadOulad(dir);
  const res = await trainModel({ reg, model, data, now: until, usedForTraining: new Set() });
  writeFileSync(
    out,
    JSON.stringify({
      model,
      trained: res.trained,
      usedSamples: res.usedKeys.length,
      citation: OULAD_CITATION,
    }),
  );
  printJson({
    model: model.id,
    target: target.id,
    backend: backend.id,
    ...(tfBackend ? { tfBackend } : {}),
    trainedOn: res.samples,
    // P(positive) at or above which predict flags a student (ANA-8.1).
    decisionThreshold: res.trained.decisionThreshold ?? null,
    skippedCourses: res.skipped.length,
    out,
  });
  return 0;
}

async function cmdPredict(p: ParsedArgs): Promise<number> {
  const dir = flagString(p, 'oulad');
  if (!dir) throw new UsageError('--oulad <dir> is required');
  const file = flagString(p, 'model');
  if (!file) throw new UsageError('--model <model.json> is required');
  const now = parseNow(flagString(p, 'now'), 'now');
  const limit = flagNumber(p, 'limit') ?? 20;
  let json: { model?: unknown; trained?: unknown };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch (e) {
    throw new UsageError(`--model: cannot read ${file}: ${(e as Error).message}`);
  }
  const reg = defaultRegistry();
  const trained = parseTrainedModel(json.trained);
  if (trained.backend === 'nn') {
    const { backend } = await backendFor({
      positional: [],
      flags: new Map([
        ['backend', 'nn'],
        ['tf', flagString(p, 'tf') ?? 'wasm'],
      ]),
    });
    reg.backends.register(backend);
  }
  const model = validateModelConfig(reg, json.model);
  const data = loadOulad(dir);
  const res = await predictModel({ reg, model, data, now, alreadyPredicted: new Set(), trained });
  const byCourse: Record<string, number> = {};
  for (const x of res.predictions) byCourse[x.courseId] = (byCourse[x.courseId] ?? 0) + 1;
  printJson({
    model: model.id,
    now,
    processed: res.processedKeys.length,
    insights: res.predictions.length,
    byCourse,
    predictions: res.predictions.slice(0, limit),
    citation: OULAD_CITATION,
  });
  return 0;
}

export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    const p = parseArgs(rest);
    if (sub === 'evaluate') return await cmdEvaluate(p);
    if (sub === 'train') return await cmdTrain(p);
    if (sub === 'predict') return await cmdPredict(p);
    process.stderr.write(`${sub ? `unknown subcommand "${sub}"\n` : ''}${USAGE}\n`);
    return 2;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`markbook analytics: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof ValidationError) {
      process.stderr.write(
        `markbook analytics: invalid input:\n${e.problems.map((x) => `  ${x.at}: ${x.message}`).join('\n')}\n`,
      );
      return 1;
    }
    throw e;
  }
}

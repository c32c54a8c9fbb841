// View helpers of the analytics screens, checked against real domain output (OULAD module AAA fixture, the
// default registry): field-addressed problems, both protocols side by side, chart geometry, links, file matching.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../ml/csv';
import { mapOulad, OULAD_FILES, type OuladTables } from '../domain/analytics/oulad';
import { buildActivityData } from '../domain/analytics/data';
import { ouladDataset, OULAD_TEST_FROM } from '../domain/analytics/oulad-model';
import { evaluate } from '../domain/analytics/evaluation';
import { atRisk } from '../domain/analytics/targets';
import { logisticRegressionBackend } from '../domain/analytics/backend';
import { defaultRegistry } from '../domain/analytics/registry';
import { modelEditorData, validateModelConfig } from '../domain/analytics/model';
import { ValidationError } from '../domain/shared/errors';
import { seededRng } from '../domain/shared/clock';
import {
  dateToUnix,
  defaultModelConfigs,
  fmt,
  indicatorGroups,
  matchOuladFiles,
  problemsByField,
  rangeBars,
  rangeTables,
  rocPath,
  suggestedActionHref,
  unixToDate,
} from './analytics-view';

const DIR = 'test/fixtures/analytics/oulad-e2e';
function fixture() {
  const t = {} as Record<keyof OuladTables, Record<string, string>[]>;
  for (const [k, f] of Object.entries(OULAD_FILES))
    t[k as keyof OuladTables] = parseCsv(readFileSync(`${DIR}/${f}`, 'utf8'), f);
  return buildActivityData(mapOulad(t));
}

async function reports() {
  const dataset = ouladDataset(fixture(), atRisk, 0.25);
  const common = { backend: logisticRegressionBackend, target: atRisk, dataset, testFrom: OULAD_TEST_FROM };
  const honest = await evaluate({ ...common, protocol: 'honest', ruleIndicator: 'due_submitted_share' });
  const moodle = await evaluate({
    ...common,
    protocol: 'moodle',
    rng: seededRng(1),
    ruleIndicator: 'due_submitted_share',
  });
  return { honest, moodle };
}

describe('analytics view helpers', () => {
  it('[ANA-8.0] default models validate against the registry', () => {
    const reg = defaultRegistry();
    for (const c of defaultModelConfigs()) expect(() => validateModelConfig(reg, c)).not.toThrow();
  });

  it('[ANA-8.0] validation problems land beside the field their JSON path names', () => {
    const reg = defaultRegistry();
    let problems: readonly { at: string; message: string }[] = [];
    try {
      validateModelConfig(reg, {
        ...defaultModelConfigs()[1],
        name: '',
        indicatorIds: ['mean_score', 'nope'],
        backendId: 'x',
      });
    } catch (e) {
      problems = (e as ValidationError).problems;
    }
    const by = problemsByField(problems);
    expect(by['name']).toHaveLength(1);
    expect(by['backendId']?.[0]).toContain('unknown backend');
    expect(by['indicatorIds']?.[0]).toMatch(/^item 2: unknown indicator "nope"/);
    expect(Object.values(by).flat()).toHaveLength(problems.length);
  });

  it('[ANA-7] both protocols side by side per range, with the baselines', async () => {
    const { honest, moodle } = await reports();
    const tables = rangeTables(honest, moodle);
    expect(tables.map((t) => t.rangeIndex)).toEqual(honest.ranges.map((r) => r.rangeIndex));
    const auc = tables[0]!.rows.find((r) => r.metric === 'AUC')!;
    const h = honest.ranges[0]!;
    expect(auc.honest).toEqual([
      fmt(h.model!.auc),
      fmt(h.baselines.majority!.auc),
      fmt(h.baselines.rule!.auc),
    ]);
    const mm = moodle.ranges[0]!.moodle!.metrics!;
    expect(auc.moodle).toEqual([fmt(mm.model.auc), fmt(mm.majority.auc), fmt(mm.rule!.auc)]);
    expect(tables[0]!.rows.map((r) => r.metric)).toEqual([
      'AUC',
      'PR-AUC',
      'Precision',
      'Recall',
      'F1',
      'MCC',
      'Brier',
      'Weighted F1',
    ]);
    expect(tables[0]!.moodleStatus).toContain(fmt(moodle.ranges[0]!.moodle!.score));
  });

  it('[ANA-7] only one protocol run: the other side shows dashes, not zeros', async () => {
    const { honest } = await reports();
    const t = rangeTables(honest, null)[0]!;
    expect(t.rows.every((r) => r.moodle.every((v) => v === '–'))).toBe(true);
    expect(t.moodleStatus).toBeNull();
  });

  it('[ANA-7.2] ROC path runs from (0,0) to (1,1) with false positive rate never decreasing', async () => {
    const { honest } = await reports();
    const d = rocPath(honest.ranges[0]!.roc, 200);
    const pts = d.split(' ').map((s) => s.slice(1).split(',').map(Number) as [number, number]);
    expect(pts[0]).toEqual([0, 200]);
    expect(pts[pts.length - 1]).toEqual([200, 0]);
    for (let i = 1; i < pts.length; i++) expect(pts[i]![0]).toBeGreaterThanOrEqual(pts[i - 1]![0]);
  });

  it('[ANA-7.3] per-range bars stay inside the chart and carry the report values', async () => {
    const { honest } = await reports();
    const bars = rangeBars(honest, 300, 100);
    expect(bars.length).toBeGreaterThan(0);
    for (const b of bars) {
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.y + b.height).toBeCloseTo(100, 6);
      expect(b.x + b.width).toBeLessThanOrEqual(300);
    }
    expect(bars.find((b) => b.series === 'Model AUC')!.value).toBe(honest.ranges[0]!.model!.auc);
  });

  it('[ANA-8.3] suggested actions link to the user report of the course', () => {
    expect(suggestedActionHref('view_report', 'AAA-2014J', '11391')).toBe('/report?id=AAA-2014J&user=11391');
    expect(suggestedActionHref('message_student', 'c 1', 'u&2')).toBe('/report?id=c%201&user=u%262#message');
    expect(suggestedActionHref('view_report', 'c', null)).toBeNull();
  });

  it('[ANA-1.2] OULAD files are matched by name; missing and stray files are named', () => {
    const all = Object.values(OULAD_FILES);
    expect(matchOuladFiles(all).problems).toEqual([]);
    const r = matchOuladFiles(['courses.csv', 'notes.txt']);
    expect(r.byTable.courses).toBe(0);
    expect(r.problems).toContainEqual({ at: 'notes.txt', message: 'is not one of the OULAD files' });
    expect(r.problems.filter((p) => p.message === 'file not chosen')).toHaveLength(all.length - 1);
  });

  it('[ANA-4] indicator groups list every indicator once, log-reading ones under activity logs', () => {
    const ed = modelEditorData(defaultRegistry());
    const groups = indicatorGroups(ed);
    const ids = groups.flatMap((g) => g.items.map((i) => i.id));
    expect(ids.sort()).toEqual(ed.indicators.map((i) => i.id).sort());
    const logs = groups.find((g) => g.key === 'logs')!;
    expect(logs.items.every((i) => i.needs.includes('logs'))).toBe(true);
    expect(
      groups
        .filter((g) => g.key !== 'logs')
        .flatMap((g) => g.items)
        .some((i) => i.needs.includes('logs')),
    ).toBe(false);
  });

  it('analysis dates read and print as UTC days; bad text is refused', () => {
    expect(dateToUnix('2015-01-15')).toBe(Date.UTC(2015, 0, 15) / 1000);
    expect(unixToDate(dateToUnix('2015-01-15')!)).toBe('2015-01-15');
    expect(dateToUnix('15/01/2015')).toBeNull();
    expect(fmt(Number.NaN)).toBe('–');
  });
});

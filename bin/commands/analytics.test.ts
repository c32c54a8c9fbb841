// `markbook analytics` end to end on the real OULAD tables: evaluate prints every metric for the model and both
// baselines; train writes a model that predict uses; bad arguments exit 2 with a message naming the flag.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadOulad, main } from './analytics.ts';

const OULAD = resolve(import.meta.dirname, '../../../shared/data/oulad');
const KEYS = ['auc', 'prAuc', 'precision', 'recall', 'f1', 'mcc', 'brier', 'weightedF1'];

function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(
    (s: string | Uint8Array) => ((out += String(s)), true),
  );
  vi.spyOn(process.stderr, 'write').mockImplementation(
    (s: string | Uint8Array) => ((err += String(s)), true),
  );
  return { out: () => out, err: () => err };
}

afterEach(() => vi.restoreAllMocks());

describe('markbook analytics', () => {
  it('[ANA-7] a missing or wrong flag exits 2 and names it', async () => {
    const c = capture();
    expect(await main(['evaluate', '--oulad', OULAD, '--at', '0.25'])).toBe(2);
    expect(c.err()).toMatch(/--target is required/);
    expect(await main(['evaluate', '--oulad', OULAD, '--target', 'dropout', '--at', '0.25'])).toBe(2);
    expect(c.err()).toMatch(/--target must be withdrawal or at_risk/);
    expect(await main(['evaluate', '--oulad', OULAD, '--target', 'at_risk', '--at', '2'])).toBe(2);
    expect(c.err()).toMatch(/--at: "2" is not a fraction/);
    expect(await main(['frobnicate'])).toBe(2);
    expect(c.out()).toBe('');
  });

  it.runIf(existsSync(OULAD))(
    '[ANA-7.2] evaluate (honest) prints model metrics, both baselines and sample counts',
    async () => {
      const c = capture();
      expect(await main(['evaluate', '--oulad', OULAD, '--target', 'withdrawal', '--at', '0.25'])).toBe(0);
      const r = JSON.parse(c.out());
      for (const k of KEYS) {
        expect(typeof r[k]).toBe('number');
        expect(typeof r.baselines.majority[k]).toBe('number');
        expect(typeof r.baselines.rule[k]).toBe('number');
      }
      expect(r.trainSamples).toBeGreaterThan(10000);
      expect(r.testSamples).toBeGreaterThan(10000);
      expect(r.baselines.majority.auc).toBe(0.5);
      expect(r.citation).toMatch(/10\.1038\/sdata\.2017\.171/);
    },
    // Loads 7 MB of CSV and fits several models: allow for a busy shared machine.
    60_000,
  );

  it.runIf(existsSync(OULAD))(
    '[ANA-7.1] evaluate --protocol moodle reports the weighted-F1 score, its SD and status',
    async () => {
      const c = capture();
      expect(
        await main([
          'evaluate',
          '--oulad',
          OULAD,
          '--target',
          'at_risk',
          '--at',
          '0.5',
          '--protocol',
          'moodle',
        ]),
      ).toBe(0);
      const r = JSON.parse(c.out());
      expect(r.protocol).toBe('moodle');
      expect(r.moodle.score).toBeGreaterThan(0);
      expect(r.moodle.deviation).toBeLessThan(0.05);
      for (const k of KEYS) expect(typeof r[k]).toBe('number');
    },
    // Loads 7 MB of CSV and fits several models: allow for a busy shared machine.
    60_000,
  );

  it.runIf(existsSync(OULAD))(
    '[ANA-7.4] --split validation and --split modules stay inside 2013 and never read the test year',
    async () => {
      const c = capture();
      expect(
        await main([
          'evaluate',
          '--oulad',
          OULAD,
          '--target',
          'at_risk',
          '--at',
          '0.25',
          '--split',
          'validation',
        ]),
      ).toBe(0);
      const r = JSON.parse(c.out());
      expect(r.split).toMatch(/2013B.*2013J/);
      // Fewer rows than the 2013 -> 2014 split on both sides: only 2013 presentations are used.
      expect(r.trainSamples).toBeGreaterThan(1000);
      expect(r.trainSamples).toBeLessThan(11305);
      expect(r.testSamples).toBeLessThan(11305);
      for (const k of KEYS) expect(typeof r[k]).toBe('number');
      vi.restoreAllMocks();
      const e = capture();
      expect(
        await main([
          'evaluate',
          '--oulad',
          OULAD,
          '--target',
          'at_risk',
          '--at',
          '0.25',
          '--split',
          'future',
        ]),
      ).toBe(2);
      expect(e.err()).toMatch(/--split must be test, validation or modules/);
      // Leave one module out over 2013: every 2013 row (V1's training and validation rows) is scored exactly once.
      vi.restoreAllMocks();
      const m = capture();
      expect(
        await main([
          'evaluate',
          '--oulad',
          OULAD,
          '--target',
          'at_risk',
          '--at',
          '0.25',
          '--split',
          'modules',
        ]),
      ).toBe(0);
      const lomo = JSON.parse(m.out());
      expect(lomo.split).toMatch(/leave one module out/);
      expect(lomo.testSamples).toBe(r.trainSamples + r.testSamples);
      expect(lomo.trainSamples).toBeLessThan(lomo.testSamples);
      expect(lomo.auc).toBeGreaterThan(lomo.baselines.majority.auc);
      for (const k of KEYS) expect(typeof lomo[k]).toBe('number');
      vi.restoreAllMocks();
      const mm = capture();
      expect(
        await main([
          'evaluate',
          '--oulad',
          OULAD,
          '--target',
          'at_risk',
          '--at',
          '0.25',
          '--split',
          'modules',
          '--protocol',
          'moodle',
        ]),
      ).toBe(2);
      expect(mm.err()).toMatch(/--split modules needs --protocol honest/);
      // The data a validation run builds holds no 2014 presentation, registration or submission at all.
      const before = Date.UTC(2014, 0, 1) / 1000;
      const data = loadOulad(OULAD, before);
      const ids = [...data.courses.keys()];
      expect(ids.sort()).toEqual([
        'AAA-2013J',
        'BBB-2013B',
        'BBB-2013J',
        'DDD-2013B',
        'DDD-2013J',
        'EEE-2013J',
        'FFF-2013B',
        'FFF-2013J',
        'GGG-2013J',
      ]);
      for (const c of data.courses.values()) {
        expect(c.course.startdate).toBeLessThan(before);
        for (const st of c.students)
          for (const x of data.submissionsOf(c.course.id, st.userId)) expect(x.courseId).toBe(c.course.id);
      }
    },
    60_000,
  );

  it.runIf(existsSync(OULAD))(
    '[ANA-8.1] train writes a model; predict uses it on the presentations running at --now',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'markbook-analytics-'));
      const file = join(dir, 'model.json');
      let c = capture();
      expect(
        await main(['train', '--oulad', OULAD, '--target', 'at_risk', '--at', '0.25', '--out', file]),
      ).toBe(0);
      const t = JSON.parse(c.out());
      expect(t.trainedOn).toBeGreaterThan(10000);
      expect(t.decisionThreshold).toBeGreaterThan(0);
      expect(t.decisionThreshold).toBeLessThan(0.5);
      expect(JSON.parse(readFileSync(file, 'utf8')).trained.format).toBe('markbook-analytics-model');
      vi.restoreAllMocks();
      c = capture();
      // Mid-December 2014: the 2014J presentations (started 1 October) are past 25 % and running.
      expect(
        await main([
          'predict',
          '--oulad',
          OULAD,
          '--model',
          file,
          '--now',
          '2014-12-15T00:00:00Z',
          '--limit',
          '3',
        ]),
      ).toBe(0);
      const p = JSON.parse(c.out());
      expect(p.insights).toBeGreaterThan(0);
      expect(Object.keys(p.byCourse).every((k: string) => k.endsWith('2014J'))).toBe(true);
      expect(p.predictions).toHaveLength(3);
      expect(p.predictions[0].calculations).toHaveProperty('due_submitted_share');
    },
    // Loads 7 MB of CSV and fits several models: allow for a busy shared machine.
    60_000,
  );
});

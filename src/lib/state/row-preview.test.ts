// The page's own regrade of an edited row must be exactly what the regrade worker then sends: the same cells, the
// same finals and markers. Real Yjs documents and the real worker host in Node (no mocks).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand, type Command } from '../crdt/commands';
import { SEP, observeEpoch, requireEpoch } from '../crdt/course-doc';
import type { RegradeOut } from '../workers/regrade-host';
import { demoCourseWithHost } from '../../../test/fixtures/regrade-host';
import { applyGridPatch, type GridPatch, type GridSnapshot } from './grid-model';
import { PREVIEW_MAX_USERS, RowPreview } from './row-preview';

const NOW = 1_700_000_000;
const ctx = { actor: { userId: 't1', deviceId: 'd1' }, clock: { now: () => NOW } };

async function setup() {
  const { doc, out } = demoCourseWithHost(NOW, ctx.actor);
  const turns = async (pred: () => boolean) => {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 0));
    expect(pred()).toBe(true);
  };
  const snapshots = () => out.filter((m): m is Extract<RegradeOut, { t: 'snapshot' }> => m.t === 'snapshot');
  await turns(() => snapshots().length > 0);
  const h = { grid: snapshots()[0]!.snapshot };
  // the cells each transaction changed, as the page's epoch observer reports them
  let changed: string[] = [];
  observeEpoch(requireEpoch(doc), { cells: (keys) => changed.push(...keys), setup: () => undefined });
  const preview = new RowPreview(doc);
  /** Runs a command; returns the page's preview of it and (after the worker answered) the worker's patch. */
  const edit = async (cmd: Command): Promise<{ preview: GridPatch | null; worker: GridPatch } | null> => {
    changed = [];
    const before = out.length;
    const r = applyCommand(doc, cmd, ctx);
    if (!r.ok || !changed.length) return null; // refused, or nothing to change
    const p = preview.patch(h.grid, changed, NOW);
    await turns(() => out.slice(before).some((m) => m.t === 'patch'));
    const worker = out.slice(before).find((m) => m.t === 'patch') as Extract<RegradeOut, { t: 'patch' }>;
    expect(applyGridPatch(h.grid, worker.patch)).toBe(true);
    return { preview: p, worker: worker.patch };
  };
  /** A setup command: the page drops its engine (its epoch observer says setup changed), the worker rebuilds. */
  const setupChange = async (cmd: Command): Promise<void> => {
    const n = snapshots().length;
    expect(applyCommand(doc, cmd, ctx).ok).toBe(true);
    preview.invalidate();
    await turns(() => snapshots().length > n);
    h.grid = snapshots().at(-1)!.snapshot;
  };
  return Object.assign(h, { doc, edit, setupChange, preview });
}

/** A patch as `column/user -> [final, flags]`, column by id, for comparing and for messages. */
function cells(s: GridSnapshot, p: GridPatch): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  p.c.forEach((c, k) => m.set(`${s.columns[c]!.id}/${s.rows.find((r) => r.u === p.u[k])!.id}`, [p.final[k]!, p.flags[k]!]));
  return m;
}

describe('row preview (REG-5)', () => {
  it('a typed grade: the preview is the worker patch, cell and totals alike', async () => {
    const h = await setup();
    const r = (await h.edit({ type: 'setGrade', item: 'i-mid', user: 's3', raw: 12 }))!;
    expect(r.preview).not.toBeNull();
    const got = cells(h.grid, r.preview!);
    expect(got).toEqual(cells(h.grid, r.worker));
    // it covers the cell, its category, the course total and the calculation over it
    for (const id of ['i-mid', 'c-tests', 'course', 'i-best']) expect(got.has(`${id}/s3`), id).toBe(true);
    expect(got.get('i-mid/s3')![0]).toBe(12);
  });

  it('overrides, exclusions, locks, cleared grades and extra credit: every preview equals the worker patch', async () => {
    const h = await setup();
    const users = h.grid.rows.map((r) => r.id);
    const items = h.grid.columns.map((c) => c.id);
    const cmds: Command[] = [];
    // a fixed pseudo-random walk over cells and command kinds (deterministic: the same every run)
    let x = 7;
    const next = (n: number) => ((x = (x * 1103515245 + 12345) % 2147483648), x % n);
    for (let k = 0; k < 300; k++) {
      const item = items[next(items.length)]!;
      const user = users[next(users.length)]!;
      switch (next(6)) {
        case 0:
        case 1:
          cmds.push({ type: 'setGrade', item, user, raw: next(60) });
          break;
        case 2:
          cmds.push({ type: 'overrideGrade', item, user, value: next(3) ? next(90) : null });
          break;
        case 3:
          cmds.push({ type: 'excludeGrade', item, user, excluded: next(2) === 0 });
          break;
        case 4:
          cmds.push({ type: 'setGrade', item, user, raw: null });
          break;
        default:
          cmds.push(next(2) ? { type: 'lockGrade', item, user } : { type: 'unlockGrade', item, user });
      }
    }
    let compared = 0;
    for (const cmd of cmds) {
      const r = await h.edit(cmd);
      if (!r) continue; // refused (a locked cell, a calculated item) or no change
      expect(r.preview, JSON.stringify(cmd)).not.toBeNull();
      expect(cells(h.grid, r.preview!), JSON.stringify(cmd)).toEqual(cells(h.grid, r.worker));
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('a setup change is seen by the next preview (new weights, a new calculation), as by the worker', async () => {
    const h = await setup();
    const total = async () => cells(h.grid, (await h.edit({ type: 'setGrade', item: 'i-mid', user: 's2', raw: 30 }))!.preview!).get('course/s2')![0];
    const t0 = await total();
    await h.setupChange({ type: 'setItem', item: { id: 'i-mid', weight: 7 } });
    await h.setupChange({ type: 'setItem', item: { id: 'i-best', calculation: '=[[midterm]] + 1' } });
    const r = (await h.edit({ type: 'setGrade', item: 'i-mid', user: 's2', raw: 31 }))!;
    expect(cells(h.grid, r.preview!)).toEqual(cells(h.grid, r.worker));
    expect(cells(h.grid, r.preview!).get('i-best/s2')![0]).toBe(32);
    expect(cells(h.grid, r.preview!).get('course/s2')![0]).not.toBe(t0);
  });

  it('a paste too big to preview, then a keystroke: the row kept from before has taken the paste in', async () => {
    const h = await setup();
    await h.edit({ type: 'setGrade', item: 'i-lab1', user: 's2', raw: 11 }); // s2's row is now kept
    const users = ['s2', ...h.grid.rows.map((r) => r.id).filter((u) => u !== 's2').slice(0, PREVIEW_MAX_USERS + 1)];
    const paste = (await h.edit({ type: 'bulk', commands: users.map((user) => ({ type: 'setGrade' as const, item: 'i-mid', user, raw: 40 })) }))!;
    expect(paste.preview).toBeNull();
    const r = (await h.edit({ type: 'setGrade', item: 'i-lab2', user: 's2', raw: 3 }))!;
    expect(cells(h.grid, r.preview!)).toEqual(cells(h.grid, r.worker));
    // the course total counts the pasted midterm (40/50), not the one before
    const total = cells(h.grid, r.preview!).get('course/s2')![0];
    expect(total).toBe(cells(h.grid, r.worker).get('course/s2')![0]);
  });

  it('prepare() before any course is harmless; prepared ahead, the first keystroke previews as usual', async () => {
    expect(() => new RowPreview(new Y.Doc()).prepare()).not.toThrow();
    const h = await setup();
    h.preview.prepare();
    const r = (await h.edit({ type: 'setGrade', item: 'i-q1', user: 's5', raw: 7 }))!;
    expect(cells(h.grid, r.preview!)).toEqual(cells(h.grid, r.worker));
  });

  it('leaves big changes to the worker, and cells the grid does not show', async () => {
    const h = await setup();
    const users = h.grid.rows.slice(0, PREVIEW_MAX_USERS + 1).map((r) => r.id);
    expect(h.preview.patch(h.grid, users.map((u) => `i-mid${SEP}${u}`), NOW)).toBeNull();
    expect(h.preview.patch(h.grid, users.slice(0, PREVIEW_MAX_USERS).map((u) => `i-mid${SEP}${u}`), NOW)).not.toBeNull();
    expect(h.preview.patch(h.grid, [`i-mid${SEP}nobody`], NOW)).toBeNull();
    expect(h.preview.patch(h.grid, [`i-gone${SEP}s2`], NOW)).toBeNull();
  });
});

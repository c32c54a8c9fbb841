// The pure multi-value register: merge results depend only on the set of slots, and settling is one write.
// Property-tested with fast-check over random slot histories; no Yjs here.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeCell, writeSlot, type CellRecord, type GradeSlot } from './grade-register.ts';

const base = { record: { grade: { raw: 50 } } as CellRecord };

/** Plays writes by devices that each see a random subset of the slots written so far. */
function play(script: { dev: number; sees: number; v: number }[]): GradeSlot[] {
  const slots = new Map<string, GradeSlot>();
  const history: GradeSlot[] = [];
  script.forEach((w, i) => {
    const dev = `d${w.dev}`;
    const visible = history.filter((_, j) => (w.sees >> (j % 16)) & 1 || history[j]!.d === dev);
    const latest = new Map<string, GradeSlot>();
    for (const s of visible) if ((latest.get(s.d)?.c ?? 0) < s.c) latest.set(s.d, s);
    const own = slots.get(dev);
    if (own) latest.set(dev, own);
    const slot = writeSlot(
      base,
      [...latest.values()],
      dev,
      { grade: { raw: w.v } },
      { by: dev, at: i, src: 't' },
    );
    slots.set(dev, slot);
    history.push(slot);
  });
  return [...slots.values()];
}

describe('multi-value register', () => {
  it('[CRDT-4] the merged cell does not depend on the order the slots are read in', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dev: fc.integer({ min: 0, max: 3 }),
            sees: fc.integer({ min: 0, max: 0xffff }),
            v: fc.integer({ min: 0, max: 9 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer(),
        (script, seed) => {
          const slots = play(script);
          const shuffled = [...slots].sort(
            (a, b) => ((a.d.charCodeAt(1) * 31 + seed) % 7) - ((b.d.charCodeAt(1) * 31 + seed) % 7),
          );
          expect(JSON.stringify(mergeCell(base, shuffled))).toBe(JSON.stringify(mergeCell(base, slots)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('[CRDT-4] a write that has seen every candidate leaves exactly one value', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dev: fc.integer({ min: 0, max: 3 }),
            sees: fc.integer({ min: 0, max: 0xffff }),
            v: fc.integer({ min: 0, max: 9 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (script) => {
          const slots = play(script);
          const settle = writeSlot(
            base,
            slots,
            'judge',
            { grade: { raw: 77 } },
            { by: 'judge', at: 99, src: 'resolve' },
          );
          const merged = mergeCell(base, [...slots, settle]);
          expect(merged.conflicts).toEqual({});
          expect(merged.record.grade).toEqual({ raw: 77 });
        },
      ),
      { numRuns: 200 },
    );
  });
  it('[CRDT-4] two graders who concurrently write different values make a conflict holding both', () => {
    const a = writeSlot(base, [], 'a', { grade: { raw: 60 } }, { by: 'ann', at: 1, src: 'grid' });
    const b = writeSlot(base, [], 'b', { grade: { raw: 70 } }, { by: 'bob', at: 2, src: 'grid' });
    const merged = mergeCell(base, [a, b]);
    expect(merged.conflicts.grade?.map((c) => c.value)).toEqual([{ raw: 60 }, { raw: 70 }]);
  });

  it('[CRDT-4] two graders who concurrently write the same value agree: both writes stay live, no conflict to settle', () => {
    const a = writeSlot(base, [], 'a', { grade: { raw: 20 } }, { by: 'ann', at: 1, src: 'grid' });
    const b = writeSlot(base, [], 'b', { grade: { raw: 20 } }, { by: 'bob', at: 2, src: 'grid' });
    const merged = mergeCell(base, [a, b]);
    expect(merged.conflicts).toEqual({});
    expect(merged.record.grade).toEqual({ raw: 20 });
    expect(merged.live.grade?.map((c) => c.by)).toEqual(['ann', 'bob']);
    // a later change by either grader is still seen as a change of both writes, so the cell ends with one value
    const c = writeSlot(base, [a, b], 'a', { grade: { raw: 25 } }, { by: 'ann', at: 3, src: 'grid' });
    expect(mergeCell(base, [c, b]).record.grade).toEqual({ raw: 25 });
    expect(mergeCell(base, [c, b]).live.grade).toHaveLength(1);
  });
});

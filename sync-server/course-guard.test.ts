// The course update guard against real CRDT commands: each capability-guarded change is refused without its
// capability, locked grades stay locked, authorship cannot be forged and the log cannot be rewritten (AUTHZ-4).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyCommand, type Command } from '../src/lib/crdt/commands.ts';
import { courseJsonToDoc, currentEpoch, SEP } from '../src/lib/crdt/course-doc.ts';
import { makeCourse } from '../src/lib/crdt/fixtures.ts';
import { rebaseCourseDoc } from '../src/lib/crdt/rebase.ts';
import { fixedClock } from '../src/lib/domain/shared/clock.ts';
import { roleCapabilities, type Capability } from '../src/lib/domain/shared/capabilities.ts';
import { courseUpdateGuard } from './course-guard.ts';
import { parseRoom } from './access.ts';

const NOW = 1_800_000_000;
const guard = courseUpdateGuard(() => NOW);
const room = parseRoom('course/c1')!;

function serverDoc(): Y.Doc {
  const doc = new Y.Doc();
  courseJsonToDoc(makeCourse(2, 2), doc, { userId: 'seed', deviceId: 'seed' }, { at: NOW - 100 });
  return doc;
}

function clone(doc: Y.Doc): Y.Doc {
  const c = new Y.Doc();
  Y.applyUpdate(c, Y.encodeStateAsUpdate(doc));
  return c;
}

/** What a client sends when it runs `cmd` as `userId` on its copy of `server`. */
function updateOf(server: Y.Doc, cmd: Command, userId = 't1', edit?: (d: Y.Doc) => void): Uint8Array {
  const c = clone(server);
  const updates: Uint8Array[] = [];
  c.on('update', (u: Uint8Array) => updates.push(u));
  if (edit) edit(c);
  else {
    const r = applyCommand(c, cmd, {
      actor: { userId, deviceId: `${userId}-tablet` },
      clock: fixedClock(NOW),
    });
    if (!r.ok) throw new Error(`command refused locally: ${JSON.stringify(r)}`);
  }
  return Y.mergeUpdates(updates);
}

function check(doc: Y.Doc, update: Uint8Array, caps: readonly Capability[], userId = 't1') {
  return guard({ room, doc, update, userId, siteRole: null, role: 'editingteacher', capabilities: caps });
}

const all = roleCapabilities('editingteacher');
const without = (c: Capability) => all.filter((x) => x !== c);

describe('course update guard', () => {
  const cases: Array<[string, Command, Capability]> = [
    ['a grade', { type: 'setGrade', item: 'i0', user: 'u0', raw: 55 }, 'grade:override'],
    ['an override', { type: 'overrideGrade', item: 'i0', user: 'u0', value: 80 }, 'grade:override'],
    ['a lock', { type: 'lockGrade', item: 'i0', user: 'u1' }, 'grade:lock'],
    ['hiding a grade', { type: 'hideGrade', item: 'i1', user: 'u1', hidden: true }, 'grade:hide'],
    ['an item', { type: 'setItem', item: { id: 'i1', grademax: 50 } }, 'grade:manage'],
    ['the settings', { type: 'setSettings', settings: { minmaxtouse: 'grade' } }, 'grade:manage'],
  ];
  for (const [what, cmd, cap] of cases)
    it(`[AUTHZ-4] changing ${what} needs ${cap}`, () => {
      const doc = serverDoc();
      const u = updateOf(doc, cmd);
      expect(check(doc, u, without(cap))).toEqual({
        ok: false,
        reason: expect.stringContaining(cap),
        capability: cap,
      });
      expect(check(doc, u, all)).toEqual({ ok: true });
    });

  it('[AUTHZ-4] unlocking needs grade:unlock, and a locked grade cannot be changed until unlocked', () => {
    const doc = serverDoc();
    const before = clone(doc);
    Y.applyUpdate(doc, updateOf(doc, { type: 'lockGrade', item: 'i0', user: 'u0' }));
    const unlock = updateOf(doc, { type: 'unlockGrade', item: 'i0', user: 'u0' });
    expect(check(doc, unlock, without('grade:unlock'))).toMatchObject({
      ok: false,
      capability: 'grade:unlock',
    });
    expect(check(doc, unlock, all)).toEqual({ ok: true });
    // A tablet that had not seen the lock writes the grade anyway: the server refuses it.
    const stale = updateOf(before, { type: 'setGrade', item: 'i0', user: 'u0', raw: 99 });
    expect(check(doc, stale, all)).toMatchObject({ ok: false, reason: expect.stringContaining('locked') });
    // Another cell is not affected.
    expect(check(doc, updateOf(before, { type: 'setGrade', item: 'i0', user: 'u1', raw: 99 }), all)).toEqual({
      ok: true,
    });
  });

  it('[AUTHZ-4] changes signed by someone else, grades without a log entry and log rewrites are refused', () => {
    const doc = serverDoc();
    const forged = updateOf(doc, { type: 'setGrade', item: 'i0', user: 'u0', raw: 1 }, 't2');
    expect(check(doc, forged, all, 't1')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('signed by "t2"'),
    });
    const silent = updateOf(doc, { type: 'setGrade', item: 'i0', user: 'u0' }, 't1', (d) => {
      const e = currentEpoch(d)!;
      e.grades.set(
        `i0${SEP}u0${SEP}evil`,
        JSON.stringify({ d: 'evil', c: 1, vv: {}, by: 't1', at: NOW, src: 'grid', f: { grade: [[100]] } }),
      );
    });
    expect(check(doc, silent, all)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('without a history entry'),
    });
    const rewrite = updateOf(doc, { type: 'setGrade', item: 'i0', user: 'u0' }, 't1', (d) =>
      currentEpoch(d)!.history.delete(0, 1),
    );
    expect(check(doc, rewrite, all)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('append-only'),
    });
  });

  it('[AUTHZ-4] an overwrite of a cell the same device wrote before is still recognised as a grade write', () => {
    const doc = serverDoc();
    const first = updateOf(doc, { type: 'setGrade', item: 'i1', user: 'u0', raw: 10 });
    Y.applyUpdate(doc, first);
    const second = updateOf(doc, { type: 'setGrade', item: 'i1', user: 'u0', raw: 20 });
    expect(check(doc, second, ['grade:override'])).toEqual({ ok: true });
    expect(check(doc, second, ['grade:lock'])).toMatchObject({ ok: false, capability: 'grade:override' });
  });

  it('[AUTHZ-4] a re-base (new epoch, old log dropped) is allowed with grade:manage only', () => {
    const doc = serverDoc();
    Y.applyUpdate(doc, updateOf(doc, { type: 'setGrade', item: 'i1', user: 'u0', raw: 10 }));
    const rebase = updateOf(doc, { type: 'setGrade', item: 'i0', user: 'u0' }, 't1', (d) =>
      rebaseCourseDoc(d, { actor: { userId: 't1', deviceId: 't1-tablet' }, clock: fixedClock(NOW) }),
    );
    expect(check(doc, rebase, all)).toEqual({ ok: true });
    expect(check(doc, rebase, without('grade:manage'))).toMatchObject({
      ok: false,
      capability: 'grade:manage',
    });
  });
});

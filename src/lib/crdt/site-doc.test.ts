// The site directory document: round trip of the site JSON fixture, validation, and merge of concurrent edits.
// Real Y.Docs exchanging real updates; the fixture is the shared test/fixtures/site/site.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { parseSiteJson } from '../domain/interchange/site-json.ts';
import { ValidationError } from '../domain/shared/errors.ts';
import type { Actor } from './course-doc.ts';
import { cohortMembers, docToSiteJson, setCohortMembers, setSiteRow, siteJsonToDoc } from './site-doc.ts';

const admin: Actor = { userId: 'admin', deviceId: 'd1' };
const other: Actor = { userId: 'mgr', deviceId: 'd2' };
const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/site/site.json', import.meta.url), 'utf8'),
) as unknown;
const sync = (a: Y.Doc, b: Y.Doc) => {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
};
const byJson = <T>(xs: T[]) => [...xs].map((x) => JSON.stringify(x)).sort();

describe('site document', () => {
  it('[CRDT-9] the site fixture and extra collections load in one transaction and come back whole on another replica', () => {
    const a = new Y.Doc();
    const origins: unknown[] = [];
    a.on('afterTransaction', (t: Y.Transaction) => origins.push(t.origin));
    const rules = [{ id: 'r1', name: 'Physics', operator: 'AND', conditions: [] }];
    siteJsonToDoc(fixture, a, admin, { rules });
    expect(origins).toEqual([admin]);
    const b = new Y.Doc();
    sync(a, b);
    const { site, extra } = docToSiteJson(b, ['rules']);
    const expected = parseSiteJson(fixture);
    for (const k of Object.keys(expected) as (keyof typeof expected)[]) {
      const norm = (xs: unknown[]) =>
        byJson(
          xs.map((x) =>
            k === 'cohorts'
              ? { ...(x as object), members: [...(x as { members: string[] }).members].sort() }
              : x,
          ),
        );
      expect(norm(site[k] as unknown[])).toEqual(norm(expected[k] as unknown[]));
    }
    expect(extra.rules).toEqual(rules);
  });

  it('[CRDT-9] invalid site JSON is refused with the JSON path and writes nothing', () => {
    const doc = new Y.Doc();
    const bad = JSON.parse(JSON.stringify(fixture)) as { users: { id: unknown }[] };
    bad.users[0]!.id = 42;
    expect(() => siteJsonToDoc(bad, doc, admin)).toThrow(ValidationError);
    try {
      siteJsonToDoc(bad, doc, admin);
    } catch (e) {
      expect((e as ValidationError).problems[0]!.at).toMatch(/^\$\.users\[0\]/);
    }
    expect(doc.share.size).toBe(0);
  });

  it('[CRDT-9] concurrent membership changes of one cohort by two managers both survive', () => {
    const a = new Y.Doc();
    siteJsonToDoc(fixture, a, admin);
    const b = new Y.Doc();
    sync(a, b);
    const cohort = docToSiteJson(a).site.cohorts[0]!;
    const users = docToSiteJson(a)
      .site.users.map((u) => u.id)
      .filter((id) => !cohort.members.includes(id));
    setCohortMembers(a, cohort.id, { added: [users[0]!], removed: [] }, admin);
    setCohortMembers(b, cohort.id, { added: [users[1]!], removed: cohort.members.slice(0, 1) }, other);
    sync(a, b);
    const expected = [...cohort.members.slice(1), users[0]!, users[1]!].sort();
    expect(cohortMembers(a, cohort.id)).toEqual(expected);
    expect(cohortMembers(b, cohort.id)).toEqual(expected);
    expect(() => setSiteRow(a, 'cohorts', { ...cohort }, admin)).toThrow(/setCohortMembers/);
  });
});

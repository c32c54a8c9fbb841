// The site directory as one Yjs document (room `site`): each collection a Y.Map of plain JSON rows keyed by id.
// May import yjs and the domain only; never writes a row it has not validated, never merges two rows' fields.
import * as Y from 'yjs';
import {
  SITE_COLLECTIONS,
  emptySite,
  parseSiteJson,
  type SiteCohort,
  type SiteDocument,
} from '../domain/interchange/site-json.ts';
import { ValidationError } from '../domain/shared/errors.ts';
import type { Actor } from './course-doc.ts';

export const SITE_SCHEMA_VERSION = 1;

/** A row stored in a site collection. */
export type SiteRow = Record<string, unknown>;

/**
 * How each collection's rows are keyed. Rows without an `id` use a JSON array of the fields that identify them,
 * so two devices adding the same enrolment write the same key. Cohort members live in their own collection
 * (`cohortMembers`, one row per cohort x user) so concurrent additions and removals of different people merge.
 * Any other collection (rules, models, ...) is keyed by `id`.
 */
export const SITE_KEYS: Readonly<Record<string, (row: SiteRow) => string>> = {
  users: (r) => String(r.id),
  profileFields: (r) => String(r.shortname),
  categories: (r) => String(r.id),
  courses: (r) => String(r.id),
  enrolments: (r) => JSON.stringify([r.userId, r.courseId, r.method]),
  completions: (r) => JSON.stringify([r.userId, r.courseId]),
  roles: (r) => JSON.stringify([r.userId, r.role, r.contextLevel, r.contextId]),
  cohorts: (r) => String(r.id),
  cohortMembers: (r) => JSON.stringify([r.cohortId, r.userId]),
  cohortCustomFields: (r) => String(r.shortname),
  quizzes: (r) => String(r.id),
  quizGrades: (r) => JSON.stringify([r.quizId, r.userId]),
};

export function siteKey(collection: string, row: SiteRow): string {
  const k = SITE_KEYS[collection];
  if (k) return k(row);
  if (typeof row.id !== 'string' || row.id === '')
    throw new ValidationError([{ at: `${collection}.id`, message: 'expected a non-empty id' }]);
  return row.id;
}

export function siteCollection(doc: Y.Doc, name: string): Y.Map<SiteRow> {
  return doc.getMap(`c:${name}`);
}

/** Extra collections beyond the site JSON spec (dynamic-cohort rules, analytics models ...): arrays of rows with `id`. */
export type ExtraCollections = Record<string, SiteRow[]>;

function explode(site: SiteDocument): Record<string, SiteRow[]> {
  const out: Record<string, SiteRow[]> = {};
  for (const name of SITE_COLLECTIONS) out[name] = site[name] as unknown as SiteRow[];
  out.cohorts = site.cohorts.map(({ members: _m, ...rest }) => rest as SiteRow);
  out.cohortMembers = site.cohorts.flatMap((c) => c.members.map((userId) => ({ cohortId: c.id, userId })));
  return out;
}

/**
 * Loads a site (validated with the site JSON rules, errors naming the JSON path) plus extra collections into the
 * document as ONE transaction with origin `actor`. Rows already present under the same key are replaced; rows
 * of a loaded collection that the input lacks are deleted (a site import is the whole truth for what it names).
 */
export function siteJsonToDoc(input: unknown, doc: Y.Doc, actor: Actor, extra: ExtraCollections = {}): void {
  const site = parseSiteJson(input);
  const problems: { at: string; message: string }[] = [];
  for (const [name, rows] of Object.entries(extra)) {
    if (!Array.isArray(rows)) problems.push({ at: `$.${name}`, message: 'expected an array of rows' });
    else
      rows.forEach((r, i) => {
        if (!r || typeof r !== 'object' || typeof r.id !== 'string' || r.id === '')
          problems.push({ at: `$.${name}[${i}].id`, message: 'expected a non-empty id' });
      });
  }
  if (problems.length) throw new ValidationError(problems);
  const all = { ...explode(site), ...extra };
  doc.transact(() => {
    doc.getMap('meta').set('schema', SITE_SCHEMA_VERSION);
    for (const [name, rows] of Object.entries(all)) {
      const map = siteCollection(doc, name);
      const keep = new Set<string>();
      for (const row of rows) {
        const key = siteKey(name, row);
        keep.add(key);
        const cur = map.get(key);
        if (!cur || JSON.stringify(cur) !== JSON.stringify(row)) map.set(key, row);
      }
      for (const key of [...map.keys()]) if (!keep.has(key)) map.delete(key);
    }
  }, actor);
}

function sortedRows(map: Y.Map<SiteRow>): SiteRow[] {
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r);
}

/** The site document (rows sorted by key, members sorted) and any extra collections asked for. */
export function docToSiteJson(
  doc: Y.Doc,
  extraNames: readonly string[] = [],
): { site: SiteDocument; extra: ExtraCollections } {
  const site = emptySite() as unknown as Record<string, SiteRow[]>;
  for (const name of SITE_COLLECTIONS) site[name] = sortedRows(siteCollection(doc, name));
  const members = new Map<string, string[]>();
  for (const m of siteCollection(doc, 'cohortMembers').values()) {
    const list = members.get(String(m.cohortId)) ?? [];
    list.push(String(m.userId));
    members.set(String(m.cohortId), list);
  }
  site.cohorts = site.cohorts!.map((c) => ({ ...c, members: (members.get(String(c.id)) ?? []).sort() }));
  const extra: ExtraCollections = {};
  for (const name of extraNames) extra[name] = sortedRows(siteCollection(doc, name));
  return { site: site as unknown as SiteDocument, extra };
}

/** Adds or replaces one row (whole-row last-writer-wins) as one transaction with origin `actor`. */
export function setSiteRow(doc: Y.Doc, collection: string, row: SiteRow, actor: Actor): void {
  if (!row || typeof row !== 'object')
    throw new ValidationError([{ at: collection, message: 'expected a row object' }]);
  if (collection === 'cohorts' && 'members' in row)
    throw new ValidationError([{ at: 'cohorts.members', message: 'change members with setCohortMembers' }]);
  const key = siteKey(collection, row);
  doc.transact(() => siteCollection(doc, collection).set(key, row), actor);
}

export function deleteSiteRow(doc: Y.Doc, collection: string, key: string, actor: Actor): boolean {
  const map = siteCollection(doc, collection);
  if (!map.has(key)) return false;
  doc.transact(() => map.delete(key), actor);
  return true;
}

/** Applies a membership change (e.g. from dynamic-cohort processing) as one transaction; returns what changed. */
export function setCohortMembers(
  doc: Y.Doc,
  cohortId: string,
  change: { added: readonly string[]; removed: readonly string[] },
  actor: Actor,
): { added: string[]; removed: string[] } {
  const cohorts = siteCollection(doc, 'cohorts');
  if (!cohorts.has(cohortId))
    throw new ValidationError([{ at: 'cohortId', message: `no cohort "${cohortId}"` }]);
  const map = siteCollection(doc, 'cohortMembers');
  const out = { added: [] as string[], removed: [] as string[] };
  doc.transact(() => {
    for (const userId of change.added) {
      const key = JSON.stringify([cohortId, userId]);
      if (!map.has(key)) {
        map.set(key, { cohortId, userId });
        out.added.push(userId);
      }
    }
    for (const userId of change.removed) {
      const key = JSON.stringify([cohortId, userId]);
      if (!map.has(key)) continue;
      map.delete(key);
      out.removed.push(userId);
    }
  }, actor);
  return out;
}

/** Members of one cohort, sorted. */
export function cohortMembers(doc: Y.Doc, cohortId: string): string[] {
  const out: string[] = [];
  for (const m of siteCollection(doc, 'cohortMembers').values())
    if (m.cohortId === cohortId) out.push(String(m.userId));
  return out.sort();
}

export type { SiteCohort };

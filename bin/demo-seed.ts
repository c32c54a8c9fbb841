// Turns the deterministic demo site into the sync server's first-start seed: accounts, course roles
// and one Yjs document per course plus the site directory. Used by `npm start` and the e2e tests.
import * as Y from 'yjs';
import { courseJsonToDoc } from '../src/lib/crdt/course-doc.ts';
import { buildDemoSite, type DemoSite } from '../src/lib/domain/interchange/demo.ts';
import { siteJsonToDoc } from '../src/lib/crdt/site-doc.ts';
import { buildDemoSiteJson, demoRulesJson } from '../src/lib/domain/interchange/demo-site.ts';
import { parseRules, ruleToJson } from '../src/lib/domain/cohorts/index.ts';
import type { SeedData } from '../sync-server/server.ts';

export function demoSeed(site: DemoSite = buildDemoSite()): SeedData {
  const actor = { userId: 'system', deviceId: 'seed' };
  const docs = site.courses.map((c) => {
    const doc = new Y.Doc();
    courseJsonToDoc(c.gradebook, doc, actor, { courseId: c.id, src: 'seed', at: site.epoch });
    return { room: `course/${c.id}`, update: Y.encodeStateAsUpdate(doc) };
  });
  // The site directory (room `site`) with the demo dynamic-cohort rules in its `rules` collection.
  const siteDoc = new Y.Doc();
  siteJsonToDoc(buildDemoSiteJson(site), siteDoc, actor, { rules: parseRules(demoRulesJson()).map(ruleToJson) });
  docs.push({ room: 'site', update: Y.encodeStateAsUpdate(siteDoc) });
  return {
    accounts: site.people.map((p) => ({
      userId: p.id,
      username: p.username,
      password: p.password,
      siteRole: p.siteRole,
      displayName: `${p.firstname} ${p.lastname}`,
    })),
    courseRoles: site.roles.map((r) => ({ userId: r.userId, courseId: r.courseId, role: r.role })),
    courses: site.courses.map((c) => ({ id: c.id, name: c.fullname })),
    docs,
  };
}

import { describe, expect, it } from 'vitest';
import { buildDemoSite } from './demo';

describe('demo site', () => {
  it('[DEMO-1] is deterministic: two builds are identical', () => {
    expect(JSON.stringify(buildDemoSite())).toBe(JSON.stringify(buildDemoSite()));
  });
  it('[DEMO-2] has the people and courses the README promises', () => {
    const site = buildDemoSite();
    const role = (r: string) => new Set(site.roles.filter((x) => x.role === r).map((x) => x.userId)).size;
    expect(site.people.filter((p) => p.siteRole === 'admin')).toHaveLength(1);
    expect(role('editingteacher')).toBe(2);
    expect(role('teacher')).toBe(1);
    expect(role('student')).toBe(40);
    expect(site.courses).toHaveLength(3);
  });
  it('[DEMO-3] the physics gradebook has nested categories, a scale, a calculation, hidden and locked items, and grades for everyone', () => {
    const gb = buildDemoSite().courses[0]!.gradebook;
    const depth = (id: string | null): number => (id === null ? 0 : 1 + depth(gb.categories.find((c) => c.id === id)!.parent));
    expect(Math.max(...gb.categories.map((c) => depth(c.id)))).toBeGreaterThanOrEqual(3);
    expect(new Set(gb.categories.map((c) => c.aggregation)).size).toBeGreaterThanOrEqual(3);
    expect(gb.items.some((i) => i.gradetype === 'scale')).toBe(true);
    expect(gb.items.some((i) => i.calculation)).toBe(true);
    expect(gb.items.some((i) => i.hidden)).toBe(true);
    expect(gb.items.some((i) => i.locked)).toBe(true);
    const graded = new Set(gb.grades.map((g) => g.user));
    for (const u of gb.users ?? []) expect(graded.has(u.id)).toBe(true);
  });
});

// Role defaults of the capabilities every layer checks (Moodle lib/db/access.php archetypes).
import { describe, expect, it } from 'vitest';
import {
  CAPABILITIES,
  can,
  canEditGradebook,
  effectiveCourseRole,
  roleCapabilities,
} from './capabilities.ts';

describe('capabilities', () => {
  it('[CAP-1] students can only view their own grades', () => {
    expect(roleCapabilities('student')).toEqual(['grade:view']);
    expect(can('student', 'grade:viewall')).toBe(false);
    expect(canEditGradebook('student')).toBe(false);
  });
  it('[CAP-1] non-editing teachers see everything but change nothing', () => {
    for (const c of ['grade:viewall', 'grade:viewhidden', 'grade:export', 'analytics:listinsights'] as const)
      expect(can('teacher', c)).toBe(true);
    for (const c of [
      'grade:hide',
      'grade:lock',
      'grade:unlock',
      'grade:manage',
      'grade:import',
      'grade:override',
    ] as const)
      expect(can('teacher', c)).toBe(false);
    expect(canEditGradebook('teacher')).toBe(false);
  });
  it('[CAP-1] editing teachers manage grades but not cohorts; managers have every staff capability', () => {
    expect(can('editingteacher', 'grade:unlock')).toBe(true);
    expect(can('editingteacher', 'cohort:manage')).toBe(false);
    expect(roleCapabilities('manager')).toEqual(CAPABILITIES.filter((c) => c !== 'grade:view'));
  });
  it('[CAP-2] site admins and managers act as course managers; others keep their course role', () => {
    expect(effectiveCourseRole('admin', null)).toBe('manager');
    expect(effectiveCourseRole('manager', 'student')).toBe('manager');
    expect(effectiveCourseRole(null, 'teacher')).toBe('teacher');
    expect(effectiveCourseRole(null, null)).toBeNull();
    expect(can(null, 'grade:view')).toBe(false);
  });
});

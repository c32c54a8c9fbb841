// Site JSON: validation with JSON paths, defaults, references, round trip (spec site-json.md).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ValidationError } from '../shared/errors.ts';
import { parseSiteJson, parseSiteJsonText, siteToJson } from './site-json.ts';

function problems(input: unknown): { at: string; message: string }[] {
  try {
    parseSiteJson(input);
  } catch (e) {
    if (e instanceof ValidationError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('site JSON', () => {
  it('[COH-S1] fills Moodle defaults: standard text fields empty, times and flags 0, auth manual, collections empty', () => {
    const site = parseSiteJson({ users: [{ id: 'u1', username: 'ann' }] });
    expect(site.users[0]).toEqual({
      id: 'u1',
      username: 'ann',
      firstname: '',
      lastname: '',
      email: '',
      auth: 'manual',
      city: '',
      country: '',
      institution: '',
      department: '',
      idnumber: '',
      timecreated: 0,
      lastlogin: 0,
      lastaccess: 0,
      suspended: 0,
      deleted: 0,
      profile: {},
      interests: [],
    });
    expect(site.cohorts).toEqual([]);
    expect(site.quizGrades).toEqual([]);
  });

  it('[COH-S2] a missing profile key stays missing, distinct from an empty string', () => {
    const site = parseSiteJson({
      users: [
        { id: 'u1', username: 'a', profile: { house: '' } },
        { id: 'u2', username: 'b' },
      ],
    });
    expect('house' in site.users[0]!.profile).toBe(true);
    expect('house' in site.users[1]!.profile).toBe(false);
  });

  it('[COH-S1] every problem is reported with its JSON path, and nothing is returned', () => {
    const got = problems({
      users: [
        { id: 'u1', username: 'a', suspended: 2, profile: { x: { nested: 1 } }, colour: 'red' },
        { id: 7, username: 'b' },
      ],
      courses: 'none',
      roles: [{ userId: 'u1', role: 'student', contextLevel: 'planet', contextId: 'x' }],
      extra: [],
    });
    expect(got.map((p) => p.at)).toEqual([
      '$.extra',
      '$.users[0].colour',
      '$.users[0].suspended',
      '$.users[0].profile.x',
      '$.users[1].id',
      '$.courses',
      '$.roles[0].contextLevel',
    ]);
    expect(got.find((p) => p.at === '$.users[0].suspended')!.message).toBe('must be 0 or 1, got 2');
  });

  it('[COH-S3] references must point at records in the document; ids and usernames are unique', () => {
    const got = problems({
      users: [
        { id: 'u1', username: 'a' },
        { id: 'u1', username: 'a' },
      ],
      courses: [{ id: 'c1', categoryId: 'nocat' }],
      enrolments: [{ userId: 'ghost', courseId: 'c1' }],
      completions: [{ userId: 'u1', courseId: 'c9', timecompleted: 5 }],
      cohorts: [{ id: 'k', members: ['u1', 'u1', 'ghost'] }],
      quizGrades: [{ quizId: 'q', userId: 'u1', grade: 3 }],
    });
    const at = got.map((p) => p.at);
    expect(at).toEqual(
      expect.arrayContaining([
        '$.users[1].id',
        '$.users[1].username',
        '$.courses[0].categoryId',
        '$.enrolments[0].userId',
        '$.completions[0].courseId',
        '$.cohorts[0].members[1]',
        '$.cohorts[0].members[2]',
        '$.quizGrades[0].quizId',
      ]),
    );
    expect(got.find((p) => p.at === '$.enrolments[0].userId')!.message).toBe(
      'refers to user "ghost", which does not exist',
    );
  });

  it('[COH-S3] a category that is its own ancestor is rejected', () => {
    const got = problems({
      categories: [
        { id: 'a', parentId: 'b' },
        { id: 'b', parentId: 'a' },
      ],
    });
    expect(got.map((p) => p.at)).toEqual(['$.categories[0].parentId', '$.categories[1].parentId']);
  });

  it('[COH-S1] text that is not JSON is reported at $', () => {
    expect(() => parseSiteJsonText('{"users": [')).toThrow(/^\$: not valid JSON/);
  });

  it('[COH-S4] export then import gives the same document (the fixture site round-trips)', () => {
    const text = readFileSync(new URL('../../../../test/fixtures/site/site.json', import.meta.url), 'utf8');
    const site = parseSiteJsonText(text);
    const again = parseSiteJson(JSON.parse(JSON.stringify(siteToJson(site))));
    expect(again).toEqual(site);
    expect(site.users).toHaveLength(6);
  });

  it('[COH-S1] property: any JSON value either parses or is rejected with problems that name a JSON path', () => {
    const record = fc.dictionary(
      fc.constantFrom('id', 'username', 'userId', 'courseId', 'members', 'profile', 'suspended', 'x'),
      fc.anything(),
    );
    const doc = fc.dictionary(
      fc.constantFrom('users', 'courses', 'enrolments', 'cohorts', 'roles', 'completions', 'other'),
      fc.oneof(fc.array(record, { maxLength: 3 }), fc.anything()),
    );
    fc.assert(
      fc.property(fc.oneof(doc, fc.anything()), (input) => {
        try {
          parseSiteJson(input);
        } catch (e) {
          expect(e).toBeInstanceOf(ValidationError);
          for (const p of (e as ValidationError).problems) expect(p.at.startsWith('$')).toBe(true);
        }
      }),
      { numRuns: 400, seed: 4 },
    );
  });
});

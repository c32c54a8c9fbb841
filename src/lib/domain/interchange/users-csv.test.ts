// Users CSV import: all-or-nothing, per-row errors, create vs update, custom fields, cohorts.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../shared/errors.ts';
import { parseSiteJson } from './site-json.ts';
import { applyUsersCsvPlan, parseCsvRows, planUsersCsv } from './users-csv.ts';

const NOW = 1_767_225_600;
const site = parseSiteJson({
  users: [
    {
      id: 'u1',
      username: 'ann',
      firstname: 'Ann',
      lastname: 'Lee',
      email: 'ann@example.edu',
      profile: { house: 'Red' },
    },
  ],
  profileFields: [
    { shortname: 'house', datatype: 'menu', param1: 'Red\nBlue' },
    { shortname: 'start', datatype: 'datetime', param1: '' },
  ],
  cohorts: [{ id: 'k1', idnumber: 'Y1', members: [] }],
});

function problemsOf(text: string): { at: string; message: string }[] {
  try {
    planUsersCsv(site, text, { now: NOW });
  } catch (e) {
    if (e instanceof ValidationError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('users CSV', () => {
  it('[COH-S5] splits quoted cells, doubled quotes, CRLF and a BOM', () => {
    expect(parseCsvRows('\ufeffa,b\r\n"x, y","say ""hi"""\n').rows).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
    ]);
    expect(parseCsvRows('a\n"open').problems).toEqual([
      { at: 'line 2', message: 'a quoted cell is never closed' },
    ]);
  });

  it('[COH-S5] plans creates and updates, custom fields and cohort memberships; new users get the injected time', () => {
    const plan = planUsersCsv(
      site,
      'username,firstname,lastname,email,city,profile_field_house,profile_field_start,interests,cohort1\n' +
        'ann,Ann,Lee,ann@example.edu,Paris,Blue,,chess,Y1\n' +
        'bob,Bob,Ray,bob@example.edu,Leeds,,1700000000,"chess, music",k1\n',
      { now: NOW },
    );
    expect(plan.updates).toHaveLength(1);
    expect(plan.updates[0]!.after).toMatchObject({
      id: 'u1',
      city: 'Paris',
      profile: { house: 'Blue' },
      interests: ['chess'],
    });
    expect(plan.creates).toEqual([
      expect.objectContaining({
        id: 'user-bob',
        username: 'bob',
        timecreated: NOW,
        profile: { start: 1700000000 },
        interests: ['chess', 'music'],
      }),
    ]);
    expect(plan.cohortAdds).toEqual([
      { cohortId: 'k1', userId: 'u1' },
      { cohortId: 'k1', userId: 'user-bob' },
    ]);
    const after = applyUsersCsvPlan(site, plan);
    expect(after.users.map((u) => u.id)).toEqual(['u1', 'user-bob']);
    expect(after.cohorts[0]!.members).toEqual(['u1', 'user-bob']);
    expect(site.users).toHaveLength(1); // the input site is untouched
  });

  it('[COH-S5] any bad row rejects the whole file, naming row and column for every problem', () => {
    const got = problemsOf(
      'username,firstname,lastname,email,suspended,profile_field_house,cohort1\n' +
        'carl,Carl,Ng,carl@example.edu,0,Red,\n' +
        'dee,,Oh,not-an-email,2,Purple,nope\n' +
        'carl,Carl,Ng,carl@example.edu,0,,\n' +
        'short,row\n',
    );
    expect(got).toEqual([
      { at: 'row 3, column "firstname"', message: 'is required for a new user' },
      { at: 'row 3, column "email"', message: '"not-an-email" is not an email address' },
      { at: 'row 3, column "suspended"', message: 'must be 0 or 1, got "2"' },
      { at: 'row 3, column "profile_field_house"', message: '"Purple" is not one of the options Red, Blue' },
      { at: 'row 3, column "cohort1"', message: 'cohort "nope" does not exist' },
      { at: 'row 4, column "username"', message: '"carl" is also on row 2' },
      { at: 'row 4, column "id"', message: 'user "user-carl" is also on row 2' },
      { at: 'row 5', message: 'has 2 cells; the header has 7' },
    ]);
  });

  it('[COH-S5] unknown columns and a missing username column are header errors', () => {
    expect(problemsOf('name,profile_field_shoe\nx,y\n')).toEqual([
      { at: 'row 1, column 1', message: 'unknown column "name"' },
      { at: 'row 1, column 2', message: 'unknown custom profile field "shoe"' },
      { at: 'row 1', message: 'a "username" column is required' },
    ]);
  });
});

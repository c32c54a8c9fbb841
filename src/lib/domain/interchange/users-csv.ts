// Users CSV import as a plan: every row is checked first, and the plan is applied whole or not at
// all (COH-S5). Pure: parses text itself (RFC 4180), reads no files; `now` is injected.

import { ValidationError, type Problem } from '../shared/errors.ts';
import { parseSiteJson, type FieldValue, type SiteDocument, type SiteUser } from './site-json.ts';

/** Splits CSV text into rows of cells: quoted cells, doubled quotes, CRLF or LF, a leading BOM. */
export function parseCsvRows(text: string): { rows: string[][]; problems: Problem[] } {
  const rows: string[][] = [];
  const problems: Problem[] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let cellStartLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
      cellStartLine = line;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      line++;
    } else cell += ch;
  }
  if (quoted) problems.push({ at: `line ${cellStartLine}`, message: 'a quoted cell is never closed' });
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return { rows: rows.filter((r) => !(r.length === 1 && r[0] === '')), problems };
}

const STANDARD = [
  'id',
  'username',
  'firstname',
  'lastname',
  'email',
  'auth',
  'city',
  'country',
  'institution',
  'department',
  'idnumber',
] as const;
const FLAGS = ['suspended'] as const;

export interface UsersCsvPlan {
  creates: SiteUser[];
  updates: { before: SiteUser; after: SiteUser }[];
  /** Cohort memberships to add (cohort id, user id), from cohort1..cohortN columns. */
  cohortAdds: { cohortId: string; userId: string }[];
  unchanged: number;
}

export interface UsersCsvOptions {
  /** Creation time for new users, unix seconds. */
  now: number;
  /** Id for a new user without an `id` column value; default `user-<username>`. */
  newId?: (username: string) => string;
}

/**
 * Checks a users CSV against the site. Columns: username (required), id, firstname, lastname, email,
 * auth, city, country, institution, department, idnumber, suspended (0/1), interests (comma
 * separated tags), profile_field_<shortname>, cohort1..cohortN (cohort id or idnumber). Rows match
 * existing users by id, else by username. Any problem rejects the whole file with every problem
 * listed as `row N, column "x"` (row 1 is the header).
 */
export function planUsersCsv(site: SiteDocument, text: string, opts: UsersCsvOptions): UsersCsvPlan {
  const { rows, problems } = parseCsvRows(text);
  if (rows.length === 0)
    throw new ValidationError([{ at: 'row 1', message: 'the file is empty; a header row is required' }]);
  const header = rows[0]!.map((h) => h.trim());
  const fields = new Set(site.profileFields.map((f) => f.shortname));
  header.forEach((h, c) => {
    const known =
      (STANDARD as readonly string[]).includes(h) ||
      (FLAGS as readonly string[]).includes(h) ||
      h === 'interests' ||
      /^cohort\d+$/.test(h) ||
      (h.startsWith('profile_field_') && fields.has(h.slice('profile_field_'.length)));
    if (!known)
      problems.push({
        at: `row 1, column ${c + 1}`,
        message: h.startsWith('profile_field_')
          ? `unknown custom profile field "${h.slice(14)}"`
          : `unknown column "${h}"`,
      });
    if (header.indexOf(h) !== c)
      problems.push({ at: `row 1, column ${c + 1}`, message: `column "${h}" appears twice` });
  });
  if (!header.includes('username'))
    problems.push({ at: 'row 1', message: 'a "username" column is required' });
  if (problems.length) throw new ValidationError(problems);

  const byId = new Map(site.users.map((u) => [u.id, u] as const));
  const byUsername = new Map(site.users.map((u) => [u.username, u] as const));
  const cohortByKey = new Map<string, string>();
  for (const co of site.cohorts) {
    if (co.idnumber) cohortByKey.set(co.idnumber, co.id);
    cohortByKey.set(co.id, co.id);
  }
  const newId = opts.newId ?? ((name: string) => `user-${name}`);
  const plan: UsersCsvPlan = { creates: [], updates: [], cohortAdds: [], unchanged: 0 };
  const seenUsernames = new Map<string, number>();
  const seenIds = new Map<string, number>();

  for (let r = 1; r < rows.length; r++) {
    const cells = rows[r]!;
    const rowNo = r + 1;
    const at = (col: string): string => `row ${rowNo}, column "${col}"`;
    if (cells.length !== header.length) {
      problems.push({
        at: `row ${rowNo}`,
        message: `has ${cells.length} cells; the header has ${header.length}`,
      });
      continue;
    }
    const get = (col: string): string | undefined => {
      const i = header.indexOf(col);
      return i < 0 ? undefined : cells[i]!.trim();
    };
    const username = get('username') ?? '';
    if (username === '') {
      problems.push({ at: at('username'), message: 'is required' });
      continue;
    }
    if (username !== username.toLowerCase())
      problems.push({
        at: at('username'),
        message: `"${username}" must be lower case (Moodle usernames are)`,
      });
    const prevRow = seenUsernames.get(username);
    if (prevRow !== undefined)
      problems.push({ at: at('username'), message: `"${username}" is also on row ${prevRow}` });
    seenUsernames.set(username, rowNo);
    const idCell = get('id');
    const existing = idCell ? byId.get(idCell) : byUsername.get(username);
    if (idCell && !existing && byUsername.has(username))
      problems.push({
        at: at('id'),
        message: `username "${username}" belongs to user "${byUsername.get(username)!.id}", not "${idCell}"`,
      });
    if (existing && existing.username !== username && byUsername.has(username))
      problems.push({
        at: at('username'),
        message: `"${username}" is already taken by user "${byUsername.get(username)!.id}"`,
      });
    const id = existing?.id ?? (idCell || newId(username));
    const prevId = seenIds.get(id);
    if (prevId !== undefined)
      problems.push({ at: at('id'), message: `user "${id}" is also on row ${prevId}` });
    seenIds.set(id, rowNo);

    const base: SiteUser = existing ?? {
      id,
      username,
      firstname: '',
      lastname: '',
      email: '',
      auth: 'manual',
      city: '',
      country: '',
      institution: '',
      department: '',
      idnumber: '',
      timecreated: opts.now,
      lastlogin: 0,
      lastaccess: 0,
      suspended: 0,
      deleted: 0,
      profile: {},
      interests: [],
    };
    const next: SiteUser = { ...base, profile: { ...base.profile }, interests: [...base.interests] };
    for (const col of STANDARD) {
      const v = get(col);
      if (v !== undefined && col !== 'id') (next as unknown as Record<string, string>)[col] = v;
    }
    if (!existing)
      for (const col of ['firstname', 'lastname', 'email'] as const)
        if (next[col] === '') problems.push({ at: at(col), message: 'is required for a new user' });
    const email = get('email');
    if (email && !/^[^@\s]+@[^@\s]+$/.test(email))
      problems.push({ at: at('email'), message: `"${email}" is not an email address` });
    const country = get('country');
    if (country && !/^[A-Z]{2}$/.test(country))
      problems.push({ at: at('country'), message: `"${country}" is not a two-letter country code` });
    const susp = get('suspended');
    if (susp !== undefined && susp !== '') {
      if (susp === '0' || susp === '1') next.suspended = susp === '1' ? 1 : 0;
      else problems.push({ at: at('suspended'), message: `must be 0 or 1, got "${susp}"` });
    }
    const interests = get('interests');
    if (interests !== undefined)
      next.interests = interests
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
    for (const f of site.profileFields) {
      const v = get(`profile_field_${f.shortname}`);
      // An empty cell leaves the stored value alone: Moodle's upload never clears a field by omission.
      if (v === undefined || v === '') continue;
      const parsed = profileValue(f.datatype, f.param1, v);
      if (typeof parsed === 'string' && parsed.startsWith('!'))
        problems.push({ at: at(`profile_field_${f.shortname}`), message: parsed.slice(1) });
      else next.profile[f.shortname] = parsed;
    }
    header.forEach((h, c) => {
      if (!/^cohort\d+$/.test(h)) return;
      const key = cells[c]!.trim();
      if (key === '') return;
      const cohortId = cohortByKey.get(key);
      if (!cohortId) problems.push({ at: at(h), message: `cohort "${key}" does not exist` });
      else if (!site.cohorts.find((co) => co.id === cohortId)!.members.includes(id))
        plan.cohortAdds.push({ cohortId, userId: id });
    });
    if (!existing) plan.creates.push(next);
    else if (JSON.stringify(existing) !== JSON.stringify(next))
      plan.updates.push({ before: existing, after: next });
    else plan.unchanged++;
  }
  if (problems.length) throw new ValidationError(problems);
  return plan;
}

function profileValue(datatype: string, param1: string, v: string): FieldValue {
  switch (datatype) {
    case 'checkbox':
      return v === '1' || v === '0' ? v : `!must be 0 or 1, got "${v}"`;
    case 'datetime': {
      const n = Number(v);
      return Number.isInteger(n) && n >= 0 ? n : `!must be unix seconds, got "${v}"`;
    }
    case 'menu': {
      const options = param1
        .split('\n')
        .map((o) => o.trim())
        .filter((o) => o !== '');
      return options.length === 0 || options.includes(v)
        ? v
        : `!"${v}" is not one of the options ${options.join(', ')}`;
    }
    case 'autocomplete':
      return v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default:
      return v;
  }
}

/** The site with the plan applied (a new document; validated again so it can never be half-right). */
export function applyUsersCsvPlan(site: SiteDocument, plan: UsersCsvPlan): SiteDocument {
  const updated = new Map(plan.updates.map((u) => [u.after.id, u.after] as const));
  const adds = new Map<string, string[]>();
  for (const a of plan.cohortAdds) adds.set(a.cohortId, [...(adds.get(a.cohortId) ?? []), a.userId]);
  return parseSiteJson({
    ...site,
    users: [...site.users.map((u) => updated.get(u.id) ?? u), ...plan.creates],
    cohorts: site.cohorts.map((co) =>
      adds.has(co.id) ? { ...co, members: [...co.members, ...adds.get(co.id)!] } : co,
    ),
  });
}

// Keeps sign-in accounts and course roles in step with the site directory (room `site`): users added there get an
// account (no usable password until an admin sets one), renamed users keep their password, suspended or deleted
// users cannot sign in, and course role assignments there become the users' course roles. Never reads or sets passwords.
import * as Y from 'yjs';
import { siteCollection } from '../src/lib/crdt/site-doc.ts';
import { isCourseRole, type CourseRole } from '../src/lib/domain/shared/capabilities.ts';
import { isValidId } from './access.ts';
import type { Account, Store } from './store.ts';
import type { AuthStore } from './shared-auth.ts';

/** A password hash that no password matches (auth.ts only accepts `scrypt$...`). */
export const NO_PASSWORD = 'none';

export interface DirectoryChange {
  /** Users whose account was created, renamed, suspended or reinstated. */
  accounts: string[];
  /** Users whose course roles changed. */
  roles: string[];
  /** Users who may no longer sign in (their sessions must end). */
  disabled: string[];
  /** Users left unchanged because their username belongs to another account. */
  conflicts: string[];
}

/** Applies the site document's users and course role assignments to the store. Users not in the site doc are left alone. */
export async function syncDirectory(doc: Y.Doc, store: Store, auth: AuthStore): Promise<DirectoryChange> {
  const change: DirectoryChange = { accounts: [], roles: [], disabled: [], conflicts: [] };
  const users = [...siteCollection(doc, 'users').values()].filter(
    (u) => typeof u.id === 'string' && isValidId(u.id as string),
  );
  const known = new Set(users.map((u) => String(u.id)));
  const wantRoles = new Map<string, Map<string, CourseRole>>();
  for (const r of siteCollection(doc, 'roles').values()) {
    const userId = String(r.userId);
    const role = String(r.role);
    if (
      !known.has(userId) ||
      r.contextLevel !== 'course' ||
      typeof r.contextId !== 'string' ||
      !isCourseRole(role)
    )
      continue;
    if (!isValidId(r.contextId)) continue;
    const m = wantRoles.get(userId) ?? new Map<string, CourseRole>();
    // One role per user and course: the strongest wins (Moodle would combine them; our roles are nested).
    const order: CourseRole[] = ['student', 'teacher', 'editingteacher', 'manager'];
    const prev = m.get(r.contextId);
    if (!prev || order.indexOf(role) > order.indexOf(prev)) m.set(r.contextId, role);
    wantRoles.set(userId, m);
  }

  const updates: Account[] = [];
  for (const u of users) {
    const userId = String(u.id);
    const username = typeof u.username === 'string' && u.username.trim() !== '' ? u.username.trim() : userId;
    const displayName = `${String(u.firstname ?? '')} ${String(u.lastname ?? '')}`.trim() || username;
    const suspended = u.suspended === 1 || u.deleted === 1;
    const cur = await auth.getAccount(userId);
    const next: Account = cur
      ? { ...cur, username, displayName, suspended }
      : { userId, username, displayName, siteRole: null, passwordHash: NO_PASSWORD, suspended };
    const holder = await auth.findAccountByUsername(username);
    // Never take a username another account signs in with (that would lock its owner out).
    if (holder && holder.userId !== userId) change.conflicts.push(userId);
    else if (
      !cur ||
      cur.username !== username ||
      cur.displayName !== displayName ||
      Boolean(cur.suspended) !== suspended
    ) {
      if (cur && cur.username.toLowerCase() !== username.toLowerCase())
        await store.forgetUsername(cur.username, userId);
      updates.push(next);
      change.accounts.push(userId);
      if (suspended && !cur?.suspended) change.disabled.push(userId);
    }
    const have = new Map((await store.listUserCourses(userId)).map((c) => [c.courseId, c.role]));
    const want = wantRoles.get(userId) ?? new Map<string, CourseRole>();
    const same = have.size === want.size && [...want].every(([c, r]) => have.get(c) === r);
    if (!same) {
      await store.replaceCourseRoles(
        userId,
        [...want].map(([courseId, role]) => ({ courseId, role })),
      );
      change.roles.push(userId);
    }
  }
  if (updates.length) await auth.putAccounts(updates);
  return change;
}

// Room names and who may read or write each room: the per-document authorisation rule of the sync server.
// Pure decisions over an account and its course role; never grants a student any course document.
import type * as Y from 'yjs';
import {
  canEditGradebook,
  effectiveCourseRole,
  type Capability,
  type CourseRole,
  type SiteRole,
} from '../src/lib/domain/shared/capabilities.ts';

/** Ids inside room names: letters, digits and `_ . : @ -`, at most 100 characters. */
const ID = /^[A-Za-z0-9_.:@-]{1,100}$/;

export type RoomRef =
  | { kind: 'site'; name: 'site' }
  | { kind: 'course'; name: string; courseId: string }
  | { kind: 'student'; name: string; courseId: string; userId: string };

/** Parses a websocket path (without the leading `/` and query) into a room, or null when it is not one. */
export function parseRoom(path: string): RoomRef | null {
  if (path === 'site') return { kind: 'site', name: 'site' };
  const parts = path.split('/');
  if (parts[0] === 'course' && parts.length === 2 && ID.test(parts[1]!))
    return { kind: 'course', name: path, courseId: parts[1]! };
  if (parts[0] === 'student' && parts.length === 3 && ID.test(parts[1]!) && ID.test(parts[2]!))
    return { kind: 'student', name: path, courseId: parts[1]!, userId: parts[2]! };
  return null;
}

export function isValidId(id: string): boolean {
  return ID.test(id);
}

export type Access = { mode: 'rw' | 'r'; role: CourseRole | null } | { mode: 'none'; reason: string };

/**
 * - `site`: admins and site managers read and write; everyone else gets nothing (they learn their courses from
 *   the sign-in answer, and course rosters live in the course documents).
 * - `course/<id>`: editing teachers and managers read and write; non-editing teachers read only; students never.
 * - `student/<course>/<user>`: read only, by that student, or by a teacher of the course (to preview); only the
 *   server writes projections.
 */
export function decideAccess(
  room: RoomRef,
  user: { userId: string; siteRole: SiteRole },
  courseRole: CourseRole | null,
): Access {
  const siteStaff = user.siteRole === 'admin' || user.siteRole === 'manager';
  if (room.kind === 'site') {
    if (siteStaff) return { mode: 'rw', role: 'manager' };
    // Teachers are refused too: the directory holds every course's enrolments, completions and quiz grades.
    return { mode: 'none', reason: 'the site directory is for site administrators and managers' };
  }
  const role = effectiveCourseRole(user.siteRole, courseRole);
  if (room.kind === 'course') {
    if (!role) return { mode: 'none', reason: `not enrolled in course ${room.courseId}` };
    if (role === 'student')
      return {
        mode: 'none',
        reason: `students read their own grades from student/${room.courseId}/${user.userId}`,
      };
    return { mode: canEditGradebook(role) ? 'rw' : 'r', role };
  }
  if (room.userId === user.userId && role === 'student') return { mode: 'r', role };
  if (role && role !== 'student') return { mode: 'r', role };
  return { mode: 'none', reason: 'a student may read only their own grades' };
}

/** What a capability check of an incoming update sees. */
export interface UpdateGuardContext {
  room: RoomRef;
  /** The room's current document (before the update). */
  doc: Y.Doc;
  update: Uint8Array;
  userId: string;
  siteRole: SiteRole;
  role: CourseRole | null;
  capabilities: readonly Capability[];
}

export type UpdateGuardResult = { ok: true } | { ok: false; reason: string; capability?: Capability };
/** Decides whether an update from a writer is allowed (e.g. a lock change needs grade:lock). */
export type UpdateGuard = (ctx: UpdateGuardContext) => UpdateGuardResult;

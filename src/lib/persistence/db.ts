// The device database (Dexie over IndexedDB): Yjs update logs per room, the signed-in session,
// preferences and read models. Versioned schema; never imported by domain code.
import Dexie, { type Table } from 'dexie';
import { ANALYTICS_TABLES } from '../domain/analytics/types';

export interface YUpdateRow {
  id?: number;
  room: string;
  update: Uint8Array;
}

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  siteRole: string | null;
  courses: { courseId: string; role: string; capabilities: string[]; name?: string }[];
}

export interface SessionRow {
  key: 'current';
  user: SessionUser;
  accessToken: string;
  refreshToken: string;
  syncUrl: string;
  savedAt: number;
}

export interface PrefRow {
  key: string;
  value: unknown;
}

/** Denormalised course summary for the course list (readable before any document is loaded). */
export interface CourseSummaryRow {
  courseId: string;
  name: string;
  students: number;
  items: number;
  updatedAt: number;
}

/** The grader grid's read model for one course (see state/grid-model.ts GridSnapshot). */
export interface GridCacheRow {
  courseId: string;
  /** The signed-in user it was computed for (a student never gets one: they have no course document). */
  userId: string;
  savedAt: number;
  snapshot: unknown;
}

export class MarkbookDB extends Dexie {
  yupdates!: Table<YUpdateRow, number>;
  session!: Table<SessionRow, string>;
  prefs!: Table<PrefRow, string>;
  courses!: Table<CourseSummaryRow, string>;
  gridCache!: Table<GridCacheRow, string>;

  constructor(name = 'markbook') {
    super(name);
    // Version history: add a new version() call for every schema change; never edit an old one.
    this.version(1).stores({
      yupdates: '++id, room',
      session: 'key',
      prefs: 'key',
      courses: 'courseId',
    });
    // Version 2: the learning-analytics device tables (ANA-1), read and written by persistence/analytics-store.ts.
    this.version(2).stores({ ...ANALYTICS_TABLES });
    // Version 3: the grader grid's read model (the last regraded view of a course, painted before its document loads).
    this.version(3).stores({ gridCache: 'courseId' });
  }
}

let shared: MarkbookDB | null = null;

/** The app's one database connection. */
export function database(): MarkbookDB {
  shared ??= new MarkbookDB();
  return shared;
}

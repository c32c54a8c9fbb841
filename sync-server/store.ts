// The sync server's durable store: one LevelDB (classic-level) holding document update logs and snapshots,
// accounts, course roles, sessions and the audit log. Every write that backs an acknowledgement is fsynced;
// this module never decides who may do what (auth.ts and server.ts do).
import { ClassicLevel } from 'classic-level';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CourseRole, SiteRole } from '../src/lib/domain/shared/capabilities.ts';

/*
 * Key layout (utf8 keys, Uint8Array values; '!' separates parts and is not allowed in room names or ids):
 *   m!<name>                          meta (initialised, tokenSecret)
 *   d!<room>!s                        room snapshot: one Yjs v1 update holding everything compacted so far
 *   d!<room>!u!<seq, 12 hex digits>   room update log, in arrival order
 *   u!<userId>                        account JSON
 *   n!<lowercased username>           userId
 *   r!<userId>!<courseId>             course role of a user
 *   c!<courseId>!<userId>             the same assignment indexed by course
 *   k!<courseId>                      course name
 *   s!<sessionId>                     session JSON (refresh token hash, expiry)
 *   a!<unix ms, 13 digits>!<seq>      audit entry JSON
 */

export interface Account {
  userId: string;
  username: string;
  displayName: string;
  siteRole: SiteRole;
  /** `scrypt$N$r$p$salt$hash` (base64 parts), see auth.ts; anything else means "no password set". */
  passwordHash: string;
  /** Suspended or deleted in the site directory: cannot sign in. */
  suspended?: boolean;
}

export interface Session {
  sessionId: string;
  userId: string;
  /** sha256 (hex) of the current refresh token; rotated on every refresh. */
  refreshHash: string;
  /** unix ms */
  createdAt: number;
  /** unix ms: the refresh token's expiry */
  expiresAt: number;
}

export interface AuditEntry {
  /** unix ms */
  at: number;
  event: string;
  userId?: string | null;
  username?: string;
  room?: string;
  reason?: string;
  remote?: string;
  [extra: string]: unknown;
}

export interface StoredRoom {
  snapshot: Uint8Array | null;
  updates: Uint8Array[];
  /** The seq the next appended update gets. */
  nextSeq: number;
  /** Seqs of the updates in `updates` (same order). */
  seqs: number[];
}

const SAFE_PART = /^[A-Za-z0-9_.:@/-]{1,200}$/;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function isSafeKeyPart(s: string): boolean {
  return SAFE_PART.test(s) && !s.includes('!');
}

function seqKey(room: string, seq: number): string {
  return `d!${room}!u!${seq.toString(16).padStart(12, '0')}`;
}

function json(v: unknown): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

function parse<T>(v: Uint8Array | undefined): T | undefined {
  return v === undefined ? undefined : (JSON.parse(dec.decode(v)) as T);
}

type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export class Store {
  readonly dir: string;
  readonly db: ClassicLevel<string, Uint8Array>;
  private auditSeq = 0;

  private constructor(dir: string, db: ClassicLevel<string, Uint8Array>) {
    this.dir = dir;
    this.db = db;
  }

  /** Opens (creating when absent) the store in `dir`. Fails clearly when another process holds it. */
  static async open(dir: string): Promise<Store> {
    mkdirSync(dir, { recursive: true });
    const db = new ClassicLevel<string, Uint8Array>(join(dir, 'level'), {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
      throw new Error(
        `cannot open the data store in ${dir}: ${cause}${/lock/i.test(cause) ? ' (is a server running on it?)' : ''}`,
      );
    }
    return new Store(dir, db);
  }

  async close(): Promise<void> {
    if (this.db.status === 'open') await this.db.close();
  }

  // ---- meta ----
  async getMeta(name: string): Promise<string | undefined> {
    const v = await this.db.get(`m!${name}`);
    return v === undefined ? undefined : dec.decode(v);
  }

  async setMeta(name: string, value: string): Promise<void> {
    await this.db.put(`m!${name}`, enc.encode(value), { sync: true });
  }

  /** Meta entries whose name starts with `prefix` (e.g. a course's re-base archives), in key order. */
  async listMeta(prefix: string): Promise<{ name: string; value: string }[]> {
    const out: { name: string; value: string }[] = [];
    const from = `m!${prefix}`;
    for await (const [k, v] of this.db.iterator({ gte: from, lt: from + '\xff' }))
      out.push({ name: String(k).slice(2), value: dec.decode(v as Uint8Array) });
    return out;
  }

  // ---- documents ----
  async loadRoom(room: string): Promise<StoredRoom> {
    const snapshot = (await this.db.get(`d!${room}!s`)) ?? null;
    const updates: Uint8Array[] = [];
    const seqs: number[] = [];
    const prefix = `d!${room}!u!`;
    for await (const [k, v] of this.db.iterator({ gt: prefix, lt: prefix + '\xff' })) {
      seqs.push(parseInt(k.slice(prefix.length), 16));
      updates.push(v);
    }
    const last = seqs[seqs.length - 1];
    return { snapshot, updates, seqs, nextSeq: last === undefined ? 0 : last + 1 };
  }

  /** Appends updates to a room's log with one fsynced batch. Resolves only once they are on disk. */
  async appendUpdates(
    room: string,
    entries: ReadonlyArray<{ seq: number; update: Uint8Array }>,
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.db.batch(
      entries.map((e) => ({ type: 'put' as const, key: seqKey(room, e.seq), value: e.update })),
      { sync: true },
    );
  }

  /** Replaces the snapshot and drops log entries with seq < `beforeSeq`, atomically. */
  async compactRoom(room: string, snapshot: Uint8Array, beforeSeq: number): Promise<void> {
    const ops: BatchOp[] = [{ type: 'put', key: `d!${room}!s`, value: snapshot }];
    const prefix = `d!${room}!u!`;
    for await (const k of this.db.keys({ gt: prefix, lt: seqKey(room, beforeSeq) }))
      ops.push({ type: 'del', key: k });
    await this.db.batch(ops, { sync: true });
  }

  /** Room names that have anything stored. */
  async listRooms(): Promise<string[]> {
    const rooms = new Set<string>();
    for await (const k of this.db.keys({ gt: 'd!', lt: 'd!\xff' })) {
      const end = k.lastIndexOf('!s') === k.length - 2 ? k.length - 2 : k.indexOf('!u!');
      rooms.add(k.slice(2, end));
    }
    return [...rooms].sort();
  }

  // ---- accounts and roles ----
  async getAccount(userId: string): Promise<Account | undefined> {
    return parse<Account>(await this.db.get(`u!${userId}`));
  }

  async findAccountByUsername(username: string): Promise<Account | undefined> {
    const id = await this.db.get(`n!${username.toLowerCase()}`);
    return id === undefined ? undefined : this.getAccount(dec.decode(id));
  }

  async putAccounts(accounts: readonly Account[]): Promise<void> {
    const ops: BatchOp[] = [];
    for (const a of accounts) {
      ops.push({ type: 'put', key: `u!${a.userId}`, value: json(a) });
      ops.push({ type: 'put', key: `n!${a.username.toLowerCase()}`, value: enc.encode(a.userId) });
    }
    await this.db.batch(ops, { sync: true });
  }

  async putCourseRoles(
    roles: ReadonlyArray<{ userId: string; courseId: string; role: CourseRole }>,
  ): Promise<void> {
    const ops: BatchOp[] = [];
    for (const r of roles) {
      ops.push({ type: 'put', key: `r!${r.userId}!${r.courseId}`, value: enc.encode(r.role) });
      ops.push({ type: 'put', key: `c!${r.courseId}!${r.userId}`, value: enc.encode(r.role) });
    }
    await this.db.batch(ops, { sync: true });
  }

  /** Replaces every course role of one user. */
  async replaceCourseRoles(
    userId: string,
    roles: ReadonlyArray<{ courseId: string; role: CourseRole }>,
  ): Promise<void> {
    const ops: BatchOp[] = [];
    for (const c of await this.listUserCourses(userId))
      ops.push(
        { type: 'del', key: `r!${userId}!${c.courseId}` },
        { type: 'del', key: `c!${c.courseId}!${userId}` },
      );
    for (const r of roles)
      ops.push(
        { type: 'put', key: `r!${userId}!${r.courseId}`, value: enc.encode(r.role) },
        { type: 'put', key: `c!${r.courseId}!${userId}`, value: enc.encode(r.role) },
      );
    await this.db.batch(ops, { sync: true });
  }

  /** Drops a username -> user mapping (after a rename), if it still points at that user. */
  async forgetUsername(username: string, userId: string): Promise<void> {
    const key = `n!${username.toLowerCase()}`;
    const v = await this.db.get(key);
    if (v !== undefined && dec.decode(v) === userId) await this.db.del(key, { sync: true });
  }

  async getCourseRole(userId: string, courseId: string): Promise<CourseRole | undefined> {
    const v = await this.db.get(`r!${userId}!${courseId}`);
    return v === undefined ? undefined : (dec.decode(v) as CourseRole);
  }

  async listUserCourses(userId: string): Promise<Array<{ courseId: string; role: CourseRole }>> {
    const out: Array<{ courseId: string; role: CourseRole }> = [];
    const prefix = `r!${userId}!`;
    for await (const [k, v] of this.db.iterator({ gt: prefix, lt: prefix + '\xff' }))
      out.push({ courseId: k.slice(prefix.length), role: dec.decode(v) as CourseRole });
    return out;
  }

  async listCourseMembers(courseId: string): Promise<Array<{ userId: string; role: CourseRole }>> {
    const out: Array<{ userId: string; role: CourseRole }> = [];
    const prefix = `c!${courseId}!`;
    for await (const [k, v] of this.db.iterator({ gt: prefix, lt: prefix + '\xff' }))
      out.push({ userId: k.slice(prefix.length), role: dec.decode(v) as CourseRole });
    return out;
  }

  async putCourses(courses: ReadonlyArray<{ id: string; name: string }>): Promise<void> {
    await this.db.batch(
      courses.map((c) => ({ type: 'put' as const, key: `k!${c.id}`, value: enc.encode(c.name) })),
      { sync: true },
    );
  }

  /** Known courses (id -> name), in id order. */
  async listCourses(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for await (const [k, v] of this.db.iterator({ gt: 'k!', lt: 'k!\xff' }))
      out.set(k.slice(2), dec.decode(v));
    return out;
  }

  // ---- sessions ----
  async getSession(sessionId: string): Promise<Session | undefined> {
    return parse<Session>(await this.db.get(`s!${sessionId}`));
  }

  async putSession(s: Session): Promise<void> {
    await this.db.put(`s!${s.sessionId}`, json(s), { sync: true });
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.db.del(`s!${sessionId}`, { sync: true });
  }

  /** Deletes every session of a user except `keep`; returns the ids deleted. */
  async deleteUserSessions(userId: string, keep?: string): Promise<string[]> {
    const gone: string[] = [];
    for await (const [k, v] of this.db.iterator({ gt: 's!', lt: 's!\xff' })) {
      const s = parse<Session>(v)!;
      if (s.userId === userId && s.sessionId !== keep) gone.push(k);
    }
    if (gone.length)
      await this.db.batch(
        gone.map((key) => ({ type: 'del' as const, key })),
        { sync: true },
      );
    return gone.map((k) => k.slice(2));
  }

  // ---- audit ----
  async audit(entry: AuditEntry): Promise<void> {
    const key = `a!${String(entry.at).padStart(13, '0')}!${String(this.auditSeq++ % 1e6).padStart(6, '0')}`;
    await this.db.put(key, json(entry), { sync: true });
  }

  async readAudit(opts: { sinceMs?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    const gt = `a!${String(opts.sinceMs ?? 0).padStart(13, '0')}`;
    for await (const v of this.db.values({ gt, lt: 'a!\xff', limit: opts.limit ?? 1000 }))
      out.push(parse<AuditEntry>(v)!);
    return out;
  }

  /** Deletes audit entries written before `beforeMs` (retention); returns how many went. */
  async trimAudit(beforeMs: number): Promise<number> {
    const lt = `a!${String(Math.max(0, Math.floor(beforeMs))).padStart(13, '0')}`;
    let n = 0;
    for await (const _ of this.db.keys({ gte: 'a!', lt })) n++;
    if (n) await this.db.clear({ gte: 'a!', lt });
    return n;
  }

  // ---- whole-store ----
  /** Every entry in key order, read from one consistent LevelDB snapshot (for backups). */
  async *entries(): AsyncGenerator<[string, Uint8Array]> {
    for await (const e of this.db.iterator()) yield e;
  }

  /** Writes raw entries (restore). */
  async putRaw(entries: ReadonlyArray<[string, Uint8Array]>): Promise<void> {
    await this.db.batch(
      entries.map(([key, value]) => ({ type: 'put' as const, key, value })),
      { sync: true },
    );
  }

  /** Bytes on disk under the data dir. */
  sizeBytes(): number {
    return dirSize(this.dir);
  }
}

function dirSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      const st = statSync(p);
      total += st.isDirectory() ? dirSize(p) : st.size;
    } catch {
      // a file removed by a concurrent compaction: not counted
    }
  }
  return total;
}

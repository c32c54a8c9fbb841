// Markbook's sync server: y-websocket protocol rooms over an fsynced LevelDB store, with sign-in, per-room and
// per-message authorisation, limits, metrics, audit and graceful shutdown. Never sends a byte of a document to an
// unauthenticated or unauthorised connection; never relays or answers an update before it is on disk.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import * as Y from 'yjs';
import { isCausallyComplete, rebaseCourseDoc, shouldRebase } from '../src/lib/crdt/rebase.ts';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { Store, type Account } from './store.ts';
import { hashPassword, isPasswordHash, newSecret, peekClaims, sha256Hex } from './auth.ts';
import { Accounts, AuthError, type Principal } from './accounts.ts';
import {
  decideAccess,
  isValidId,
  parseRoom,
  type RoomRef,
  type UpdateGuard,
  type UpdateGuardResult,
} from './access.ts';
import {
  Room,
  MSG_AUTH,
  MSG_AWARENESS,
  MSG_QUERY_AWARENESS,
  MSG_SYNC,
  SYNC_STEP1,
  SYNC_STEP2,
  SYNC_UPDATE,
  type RoomPeer,
} from './room.ts';
import { ValidationError, type Problem } from '../src/lib/domain/shared/errors.ts';
import {
  isCourseRole,
  roleCapabilities,
  type Capability,
  type CourseRole,
} from '../src/lib/domain/shared/capabilities.ts';
import { Metrics } from './metrics.ts';
import { RedisBus } from './redis-bus.ts';
import { backupStream } from './backup.ts';
import { SharedAuthStore, type AuthStore } from './shared-auth.ts';
import { courseUpdateGuard } from './course-guard.ts';
import { Projector } from './projections.ts';
import { siteRoomAccess, startCohortJob } from './cohort-job.ts';
import { startCohortRealtime } from './cohort-realtime.ts';
import { syncDirectory } from './directory.ts';

export interface SeedData {
  accounts: {
    userId: string;
    username: string;
    /** Clear password, or an already computed `scrypt$...` hash (fast seeding of big sites). */
    password: string;
    siteRole?: 'admin' | 'manager' | null;
    displayName: string;
  }[];
  courseRoles: {
    userId: string;
    courseId: string;
    role: 'manager' | 'editingteacher' | 'teacher' | 'student';
  }[];
  docs: { room: string; update: Uint8Array }[];
  /** Course names, so sign-in can list them. */
  courses?: { id: string; name: string }[];
}

/** Close codes. 4400-4499 stop y-websocket 3.1 clients from retrying; 4500-4599 mean "retry later". */
export const CLOSE = {
  malformed: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  notFound: 4404,
  /** A change needed a capability the writer lacks: the client must drop its local changes and reload. */
  rejected: 4409,
  tooLarge: 4413,
  tooManyConnections: 4429,
  rateLimited: 4529,
  /** The user's roles changed: reconnect to get the new access (4500-4599 make y-websocket retry). */
  roleChanged: 4505,
  shuttingDown: 1001,
} as const;

export type { UpdateGuard, UpdateGuardContext, UpdateGuardResult } from './access.ts';

export interface SyncServerOptions {
  host?: string;
  port: number;
  dataDir: string;
  seed?: SeedData;
  redisUrl?: string;
  /** HMAC secret for access tokens. Default: one generated on first start and kept in the store. */
  tokenSecret?: string;
  log?: (entry: object) => void;
  /** Origins allowed to call the HTTP API and open sockets (CORS). */
  appOrigins?: string[];
  accessTtlSec?: number;
  refreshTtlSec?: number;
  /** Largest accepted websocket message; larger closes that connection (4413). */
  maxMessageBytes?: number;
  maxConnectionsPerUser?: number;
  /** Token bucket per connection: sustained messages per second and burst. */
  rateLimit?: { perSecond: number; burst: number };
  /** A room with no connections is unloaded after this long. */
  idleEvictMs?: number;
  /** Update-log entries per room before compaction into one snapshot. */
  compactEvery?: number;
  /** Change-log entries of a course document before the server re-bases it (default 50,000; see crdt/rebase.ts). */
  rebaseAfterEntries?: number;
  /** Clock in unix ms (tests inject one). */
  now?: () => number;
  /** Capability check for updates from writers. Default: courseUpdateGuard (course-guard.ts). */
  guard?: UpdateGuard;
  /**
   * Dynamic-cohort processing of the site room (cohort-job.ts): time between scheduled runs, default 15 minutes
   * (Moodle's task default); 0 runs it only on demand (POST /admin/cohorts/run). With several instances, schedule
   * it on one of them.
   */
  cohortJobIntervalMs?: number;
  /** Days the cohort change log keeps a row (COH-P11), default 365; 0 keeps it for ever. */
  cohortLogRetentionDays?: number;
  /** Days the audit log keeps an entry (OPS-4), default 365; 0 keeps it for ever. Trimmed at start and daily. */
  auditRetentionDays?: number;
  /** Realtime cohort re-checks on client changes of the site room (cohort-realtime.ts): users per batch above which the job takes over. */
  cohortRealtimeBulkThreshold?: number;
  /** Instance name in logs and metrics (scale-out). */
  instanceId?: string;
  /** Extra HTTP handling (e.g. the static app); return true when it answered. */
  httpFallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

export interface SyncServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULT_ORIGINS = ['http://127.0.0.1:4173', 'http://localhost:4173'];
/** 16 MiB: a 50k-cell course after heavy regrading is ~6 MB (feasibility.md §4), with room to spare. */
const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;
const MAX_JSON_BODY = 64 * 1024;

interface Conn extends RoomPeer {
  ws: WebSocket;
  remote: string;
  principal: Principal | null;
  roomRef: RoomRef | null;
  room: Room | null;
  canWrite: boolean;
  role: CourseRole | null;
  chain: Promise<void>;
  tokens: number;
  lastRefill: number;
  closed: boolean;
  rejectedWrites: number;
  canRead: boolean;
  /** Closes the socket when its access token expires (armExpiry); cleared when the socket closes. */
  expiry: ReturnType<typeof setTimeout> | null;
}

/** setTimeout's longest delay (2^31-1 ms, about 24.8 days): a longer token lifetime re-arms the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function startSyncServer(opts: SyncServerOptions): Promise<SyncServerHandle> {
  const now = opts.now ?? (() => Date.now());
  const log = opts.log ?? (() => {});
  const instanceId = opts.instanceId ?? `p${process.pid}`;
  const appOrigins = new Set(opts.appOrigins ?? DEFAULT_ORIGINS);
  const maxMessage = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
  const maxConnsPerUser = opts.maxConnectionsPerUser ?? 64;
  const rate = opts.rateLimit ?? { perSecond: 1000, burst: 5000 };
  const idleEvictMs = opts.idleEvictMs ?? 60_000;
  const compactEvery = opts.compactEvery ?? 500;
  const guard = opts.guard ?? courseUpdateGuard(() => Math.floor(now() / 1000));

  const store = await Store.open(opts.dataDir);
  let bus: RedisBus | null = null;
  let httpServer: ReturnType<typeof createServer> | null = null;
  try {
    if ((await store.getMeta('initialised')) === undefined) {
      if (opts.seed) await applySeed(store, opts.seed);
      await store.setMeta('initialised', String(now()));
    }
    let secret = opts.tokenSecret ?? (await store.getMeta('tokenSecret'));
    if (!secret) {
      secret = newSecret();
      await store.setMeta('tokenSecret', secret);
    }

    const metrics = new Metrics(now);
    const rooms = new Map<string, Room>();
    const evicting = new Map<string, Promise<void>>();
    const conns = new Set<Conn>();
    let nextConnId = 1;
    let shuttingDown = false;
    // Set once the websocket side exists; sessions ended on other instances close sockets here too.
    let closeSessionSockets: (ids: readonly string[], reason: string) => void = () => {};

    if (opts.redisUrl) {
      bus = await RedisBus.connect(opts.redisUrl, {
        instanceId,
        onRemoteUpdate: (roomName, update) => {
          const room = rooms.get(roomName);
          if (room)
            room
              .submit(update, 'remote')
              .catch((e) =>
                log({ level: 'error', msg: 'remote update failed', room: roomName, error: String(e) }),
              );
        },
        onSessionsEnded: (ids, reason) => closeSessionSockets(ids, reason),
        log,
      });
    }
    const authStore: AuthStore = bus ? new SharedAuthStore(store, bus.client, now) : store;
    const accounts = new Accounts(authStore, {
      secret,
      accessTtlSec: opts.accessTtlSec ?? 15 * 60,
      refreshTtlSec: opts.refreshTtlSec ?? 30 * 24 * 3600,
      now,
    });
    const audit = (entry: Record<string, unknown>) => {
      const e = { at: now(), ...entry } as Parameters<Store['audit']>[0];
      store.audit(e).catch((err) => log({ level: 'error', msg: 'audit write failed', error: String(err) }));
      log({ level: 'info', msg: 'audit', instance: instanceId, ...e });
    };

    const getRoom = async (name: string): Promise<Room> => {
      for (;;) {
        const ev = evicting.get(name);
        if (!ev) break;
        await ev;
      }
      let room = rooms.get(name);
      if (!room) {
        room = new Room(
          name,
          store,
          {
            compactEvery,
            onLocalUpdate: bus ? (r, u) => bus!.publish(r, u) : undefined,
            onApplied: (r, u, origin) => {
              metrics.update(u.length);
              if (origin !== 'remote' && r.name.startsWith('course/')) {
                projector.courseChanged(r.name.slice(7), r.doc);
                maybeRebase(r);
              }
              // Every instance keeps its own roles, so remote site changes are applied here too.
              if (r.name === 'site') scheduleDirectorySync(r.doc);
            },
            onError: (r, e) => log({ level: 'error', msg: 'room error', room: r, error: String(e) }),
          },
          now(),
        );
        rooms.set(name, room);
        metrics.roomsLoaded++;
        // Realtime cohort processing observes each loaded site document (a reloaded room is a new document).
        if (name === 'site') cohortRealtime.watch(room.doc);
        const r = room;
        if (bus) {
          // Catch up with what other instances accepted while this one did not hold the room.
          r.ready
            .then(async () => {
              await bus!.subscribe(name);
              const missed = await bus!.history(name);
              for (const u of missed) await r.submit(u, 'remote');
            })
            .catch((e) =>
              log({ level: 'error', msg: 'redis catch-up failed', room: name, error: String(e) }),
            );
        }
      }
      await room.ready;
      return room;
    };

    // [SRV-REBASE] The server is the one authority that re-bases a course document: once its change log passes
    // the threshold and the document is causally complete, it folds the epoch (crdt/rebase.ts) on a copy,
    // stores the folded log as an archive (kept for history before the new epoch), and submits the re-base as
    // an ordinary durable update. Devices that wrote offline into the old epoch replay their writes (bindCourseDoc).
    const rebaseAfter = opts.rebaseAfterEntries ?? 50_000;
    const rebasing = new Set<string>();
    const maybeRebase = (r: Room): void => {
      if (rebasing.has(r.name) || !shouldRebase(r.doc, rebaseAfter) || !isCausallyComplete(r.doc)) return;
      rebasing.add(r.name);
      setTimeout(() => {
        void (async () => {
          try {
            const scratch = new Y.Doc();
            Y.applyUpdate(scratch, Y.encodeStateAsUpdate(r.doc));
            const before = Y.encodeStateVector(scratch);
            const archive = rebaseCourseDoc(scratch, {
              actor: { userId: 'server', deviceId: `server-${instanceId}` },
              clock: { now: () => Math.floor(now() / 1000) },
            });
            const update = Y.encodeStateAsUpdate(scratch, before);
            scratch.destroy();
            await store.setMeta(`archive/${r.name}/${archive.epoch}`, JSON.stringify(archive));
            await r.submit(update, 'server');
            log({ level: 'info', msg: 'course re-based', room: r.name, folded: archive.entries.length });
          } catch (e) {
            log({ level: 'error', msg: 're-base failed', room: r.name, error: String(e) });
          } finally {
            rebasing.delete(r.name);
          }
        })();
      }, 0);
    };

    const projector = new Projector({
      getRoom,
      students: async (courseId) =>
        (await store.listCourseMembers(courseId)).filter((m) => m.role === 'student').map((m) => m.userId),
      now: () => Math.floor(now() / 1000),
      log,
    });

    // Site directory -> accounts and course roles (directory.ts), debounced and one run at a time.
    const DIRECTORY_DEBOUNCE_MS = 200;
    let directoryTimer: ReturnType<typeof setTimeout> | null = null;
    let directoryRun: Promise<void> = Promise.resolve();
    const runDirectorySync = (doc: Y.Doc) =>
      (directoryRun = directoryRun
        .then(async () => {
          const change = await syncDirectory(doc, store, authStore);
          for (const userId of change.disabled)
            endSessions(await authStore.deleteUserSessions(userId), 'account suspended');
          // Sockets of users whose roles changed reconnect (4505 = retry) and get their new access.
          const changed = new Set(change.roles);
          for (const c of conns)
            if (c.principal && changed.has(c.principal.account.userId) && c.roomRef?.kind !== 'site')
              closeConn(c, CLOSE.roleChanged, 'your role changed; reconnecting');
          if (change.conflicts.length)
            log({
              level: 'warn',
              msg: 'site users whose username belongs to another account',
              users: change.conflicts,
            });
          if (change.accounts.length || change.roles.length)
            audit({
              event: 'directory_sync',
              accounts: change.accounts.length,
              roles: change.roles.length,
              disabled: change.disabled,
            });
        })
        .catch((e) => log({ level: 'error', msg: 'directory sync failed', error: String(e) })));
    const scheduleDirectorySync = (doc: Y.Doc) => {
      if (directoryTimer) return;
      directoryTimer = setTimeout(() => {
        directoryTimer = null;
        void runDirectorySync(doc);
      }, DIRECTORY_DEBOUNCE_MS);
    };

    const cohortJob = startCohortJob({
      site: siteRoomAccess(() => getRoom('site')),
      intervalMs: opts.cohortJobIntervalMs ?? 15 * 60_000,
      now,
      log,
      ...(opts.cohortLogRetentionDays !== undefined ? { logRetentionDays: opts.cohortLogRetentionDays } : {}),
    });
    const cohortRealtime = startCohortRealtime({
      site: siteRoomAccess(() => getRoom('site')),
      job: cohortJob,
      now,
      log,
      ...(opts.cohortRealtimeBulkThreshold !== undefined
        ? { bulkThreshold: opts.cohortRealtimeBulkThreshold }
        : {}),
    });

    const evictIdle = () => {
      const t = now();
      for (const [name, room] of rooms) {
        if (room.peers.size > 0 || !room.idle || t - room.lastActive < idleEvictMs || evicting.has(name))
          continue;
        const p = (async () => {
          await room.compact();
          rooms.delete(name);
          room.destroy();
          if (bus) await bus.unsubscribe(name);
          metrics.roomsEvicted++;
          log({ level: 'debug', msg: 'room evicted', room: name });
        })()
          .catch((e) => log({ level: 'error', msg: 'eviction failed', room: name, error: String(e) }))
          .finally(() => evicting.delete(name));
        evicting.set(name, p);
      }
    };
    const evictTimer = setInterval(evictIdle, Math.max(50, Math.min(5000, idleEvictMs / 2)));
    evictTimer.unref();

    // Audit retention (OPS-4): entries older than the period go, at start and once a day.
    const auditDays = opts.auditRetentionDays ?? 365;
    const trimAudit = () => {
      if (auditDays <= 0) return;
      store
        .trimAudit(now() - auditDays * 86_400_000)
        .then((n) => n && log({ level: 'info', msg: 'audit log trimmed', entries: n }))
        .catch((e) => log({ level: 'error', msg: 'audit trim failed', error: String(e) }));
    };
    trimAudit();
    const auditTimer = setInterval(trimAudit, 86_400_000);
    auditTimer.unref();

    // ---------- websocket ----------
    const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessage * 2 });

    const closeConn = (c: Conn, code: number, reason: string) => {
      disarmExpiry(c);
      if (c.closed) return;
      c.closed = true;
      metrics.closed(code);
      try {
        c.ws.close(code, reason.slice(0, 120));
      } catch {
        c.ws.terminate();
      }
    };

    // [AUTHZ-1] A socket lives no longer than the access token it opened with: at the token's expiry it is closed
    // with 4401, so the client refreshes its token and reconnects (RoomConnection). One unref'd timer per socket
    // (Node keeps timers in per-duration lists: thousands cost little), cleared when the socket closes. Moodle checks a
    // web service token's validuntil on every request (webservice/lib.php); an open socket is one long request.
    const armExpiry = (c: Conn, expiresAtMs: number) => {
      disarmExpiry(c);
      if (c.closed) return;
      const wait = expiresAtMs - now();
      if (wait <= 0) return closeConn(c, CLOSE.unauthorized, 'access token has expired; refresh it and reconnect');
      c.expiry = setTimeout(() => {
        c.expiry = null;
        armExpiry(c, expiresAtMs);
      }, Math.min(wait, MAX_TIMER_MS));
      c.expiry.unref();
    };
    const disarmExpiry = (c: Conn) => {
      if (c.expiry) clearTimeout(c.expiry);
      c.expiry = null;
    };

    const sendPermissionDenied = (c: Conn, reason: string) => {
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MSG_AUTH);
      encoding.writeVarUint(e, 0); // y-protocols auth: messagePermissionDenied
      encoding.writeVarString(e, reason);
      c.send(encoding.toUint8Array(e));
    };

    const rejectWrite = (c: Conn, reason: string, capability?: Capability) => {
      c.rejectedWrites++;
      metrics.rejectedWrites++;
      // One audit entry per connection for repeated read-only writes, every one for capability rejections.
      if (capability || c.rejectedWrites === 1)
        audit({
          event: 'write_rejected',
          userId: c.principal?.account.userId ?? null,
          room: c.roomRef?.name,
          reason,
          capability,
          remote: c.remote,
        });
      sendPermissionDenied(c, JSON.stringify({ rejected: 'update', reason, capability: capability ?? null }));
    };

    /** True when every struct and deletion in `update` is already in `doc` (e.g. a read-only client's empty step 2). */
    const isNoop = (doc: Y.Doc, update: Uint8Array): boolean => {
      const { structs, ds } = Y.decodeUpdate(update);
      const sv = Y.getState;
      for (const s of structs) if (s.id.clock + s.length > sv(doc.store, s.id.client)) return false;
      if (ds.clients.size === 0) return true;
      const have = Y.createDeleteSetFromStructStore(doc.store);
      for (const [client, items] of ds.clients)
        for (const it of items)
          for (let k = it.clock; k < it.clock + it.len; k++)
            if (!Y.isDeleted(have, new Y.ID(client, k))) return false;
      return true;
    };

    const handleSyncWrite = async (c: Conn, room: Room, update: Uint8Array) => {
      let empty: boolean;
      try {
        empty = isNoop(room.doc, update);
      } catch {
        return closeConn(c, CLOSE.malformed, 'malformed update');
      }
      if (empty) return;
      if (!c.canWrite)
        return rejectWrite(
          c,
          c.roomRef?.kind === 'student'
            ? 'projections are read-only'
            : 'your role in this course is read-only',
        );
      if (c.roomRef && c.principal) {
        let verdict: UpdateGuardResult;
        try {
          verdict = guard({
            room: c.roomRef,
            doc: room.doc,
            update,
            userId: c.principal.account.userId,
            siteRole: c.principal.account.siteRole,
            role: c.role,
            capabilities: c.role ? roleCapabilities(c.role) : [],
          });
        } catch (e) {
          verdict = {
            ok: false,
            reason: `update could not be checked: ${e instanceof Error ? e.message : String(e)}`,
          };
        }
        if (!verdict.ok) {
          rejectWrite(c, verdict.reason, verdict.capability);
          return closeConn(c, CLOSE.rejected, 'update rejected; reload the document');
        }
      }
      try {
        await room.submit(update, c);
      } catch (e) {
        log({ level: 'error', msg: 'update not stored', room: room.name, error: String(e) });
        // Not stored means not acknowledged: drop the connection so the client resends after reconnecting.
        closeConn(c, 4503, 'store unavailable, retry later');
      }
    };

    const handleAwareness = (c: Conn, room: Room, payload: Uint8Array) => {
      // Only staff rooms carry presence; states must be well-formed JSON.
      if (c.roomRef?.kind === 'student') return;
      const d = decoding.createDecoder(payload);
      const n = decoding.readVarUint(d);
      for (let i = 0; i < n; i++) {
        decoding.readVarUint(d); // client id
        decoding.readVarUint(d);
        const state = decoding.readVarString(d);
        JSON.parse(state);
      }
      // Who owns a client's presence is settled by the room when the update is applied ([SRV-8]): not here, where
      // y-websocket providers echo every state they receive and would strip the real owner of it.
      awarenessProtocol.applyAwarenessUpdate(room.awareness, payload, c);
    };

    const handleMessage = async (c: Conn, data: Uint8Array) => {
      if (c.closed) return;
      metrics.frames++;
      const room = c.room!;
      const d = decoding.createDecoder(data);
      const type = decoding.readVarUint(d);
      if (type === MSG_SYNC) {
        const sub = decoding.readVarUint(d);
        const payload = decoding.readVarUint8Array(d);
        if (decoding.hasContent(d)) throw new Error('trailing bytes');
        if (sub === SYNC_STEP1) {
          if (!c.canRead) return;
          const diff = Y.encodeStateAsUpdate(room.doc, payload);
          const e = encoding.createEncoder();
          encoding.writeVarUint(e, MSG_SYNC);
          encoding.writeVarUint(e, SYNC_STEP2);
          encoding.writeVarUint8Array(e, diff);
          c.send(encoding.toUint8Array(e));
        } else if (sub === SYNC_STEP2 || sub === SYNC_UPDATE) {
          await handleSyncWrite(c, room, payload);
        } else throw new Error(`unknown sync message ${sub}`);
      } else if (type === MSG_AWARENESS) {
        const payload = decoding.readVarUint8Array(d);
        handleAwareness(c, room, payload);
      } else if (type === MSG_QUERY_AWARENESS) {
        if (!c.canRead || c.roomRef?.kind === 'student') return;
        const ids = [...room.awareness.getStates().keys()];
        if (ids.length === 0) return;
        const e = encoding.createEncoder();
        encoding.writeVarUint(e, MSG_AWARENESS);
        encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(room.awareness, ids));
        c.send(encoding.toUint8Array(e));
      } else if (type === MSG_AUTH) {
        // Clients have nothing to tell us here.
      } else throw new Error(`unknown message type ${type}`);
    };

    const takeToken = (c: Conn): boolean => {
      const t = now();
      c.tokens = Math.min(rate.burst, c.tokens + ((t - c.lastRefill) / 1000) * rate.perSecond);
      c.lastRefill = t;
      if (c.tokens < 1) return false;
      c.tokens -= 1;
      return true;
    };

    const onFrame = (c: Conn, raw: RawData, isBinary: boolean) => {
      if (c.closed) return;
      const buf = Array.isArray(raw)
        ? Buffer.concat(raw)
        : raw instanceof ArrayBuffer
          ? Buffer.from(raw)
          : raw;
      metrics.bytesIn += buf.length;
      if (!takeToken(c)) return closeConn(c, CLOSE.rateLimited, 'too many messages, retry later');
      // An oversized or text frame is refused in order: frames queued before it are still handled.
      const problem = !isBinary
        ? ([CLOSE.malformed, 'text frames are not part of the protocol'] as const)
        : buf.length > maxMessage
          ? ([CLOSE.tooLarge, `message larger than ${maxMessage} bytes`] as const)
          : null;
      const data = problem ? null : new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
      c.chain = c.chain.then(async () => {
        if (c.closed) return;
        if (!data) return closeConn(c, problem![0], problem![1]);
        try {
          await handleMessage(c, data);
        } catch (e) {
          metrics.malformed++;
          log({
            level: 'warn',
            msg: 'malformed frame',
            conn: c.id,
            head: Buffer.from(data.subarray(0, 24)).toString('hex'),
            room: c.roomRef?.name,
            remote: c.remote,
            error: e instanceof Error ? e.message : String(e),
          });
          closeConn(c, CLOSE.malformed, 'malformed message');
        }
      });
    };

    const authorise = async (c: Conn, req: IncomingMessage): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://x');
      const origin = req.headers.origin;
      if (origin && !appOrigins.has(origin) && origin !== `http://${req.headers.host}`)
        return closeConn(c, CLOSE.forbidden, 'origin not allowed');
      let principal: Principal;
      const token = url.searchParams.get('token');
      try {
        principal = await accounts.authenticate(token);
      } catch (e) {
        audit({
          event: 'connect_denied',
          reason: (e as Error).message,
          room: url.pathname.slice(1),
          remote: c.remote,
        });
        return closeConn(c, CLOSE.unauthorized, (e as Error).message);
      }
      c.principal = principal;
      // authenticate() verified this token, so its expiry can be read as it stands
      armExpiry(c, peekClaims(token!)!.exp * 1000);
      const ref = parseRoom(decodeURIComponent(url.pathname.slice(1)));
      if (!ref) return closeConn(c, CLOSE.notFound, 'no such room');
      const a = principal.account;
      const courses = await store.listUserCourses(a.userId);
      const courseRole =
        ref.kind === 'site' ? null : (courses.find((x) => x.courseId === ref.courseId)?.role ?? null);
      const access = decideAccess(ref, a, courseRole);
      if (access.mode === 'none') {
        audit({
          event: 'connect_denied',
          userId: a.userId,
          room: ref.name,
          reason: access.reason,
          remote: c.remote,
        });
        return closeConn(c, CLOSE.forbidden, access.reason);
      }
      let perUser = 0;
      for (const o of conns) if (o.principal?.account.userId === a.userId && o.room && !o.closed) perUser++;
      if (perUser >= maxConnsPerUser)
        return closeConn(c, CLOSE.tooManyConnections, 'too many open documents');
      c.roomRef = ref;
      c.role = access.role;
      c.canRead = true;
      c.canWrite = access.mode === 'rw' && ref.kind !== 'student';
      const room = await getRoom(ref.name);
      if (c.closed) return;
      c.room = room;
      room.peers.add(c);
      if (ref.kind === 'student') projector.request(ref.courseId, ref.userId);
      room.lastActive = now();
      // Our step 1 asks the client for what we miss; its own step 1 (queued) gets our step 2.
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MSG_SYNC);
      encoding.writeVarUint(e, SYNC_STEP1);
      encoding.writeVarUint8Array(e, Y.encodeStateVector(room.doc));
      c.send(encoding.toUint8Array(e));
      const states = room.awareness.getStates();
      if (states.size > 0 && ref.kind !== 'student') {
        const ae = encoding.createEncoder();
        encoding.writeVarUint(ae, MSG_AWARENESS);
        encoding.writeVarUint8Array(
          ae,
          awarenessProtocol.encodeAwarenessUpdate(room.awareness, [...states.keys()]),
        );
        c.send(encoding.toUint8Array(ae));
      }
      log({
        level: 'info',
        msg: 'connected',
        instance: instanceId,
        userId: a.userId,
        room: ref.name,
        mode: access.mode,
        remote: c.remote,
      });
    };

    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      const c: Conn = {
        id: nextConnId++,
        ws,
        remote: req.socket.remoteAddress ?? '?',
        principal: null,
        roomRef: null,
        room: null,
        canRead: false,
        canWrite: false,
        role: null,
        awarenessIds: new Set(),
        tokens: rate.burst,
        lastRefill: now(),
        closed: false,
        rejectedWrites: 0,
        expiry: null,
        chain: Promise.resolve(),
        send(frame: Uint8Array) {
          if (c.closed || ws.readyState !== ws.OPEN) return;
          metrics.bytesOut += frame.length;
          ws.send(frame, (err) => {
            if (err) closeConn(c, 1011, 'send failed');
          });
        },
      };
      conns.add(c);
      metrics.connectionsTotal++;
      ws.binaryType = 'nodebuffer';
      // Frames that arrive before authorisation finishes wait on the chain; none is answered before.
      const authorised = authorise(c, req).catch((e) => {
        log({ level: 'error', msg: 'authorisation failed', error: String(e) });
        closeConn(c, 1011, 'server error');
      });
      c.chain = authorised;
      ws.on('message', (raw, isBinary) => onFrame(c, raw, isBinary));
      ws.on('error', () => closeConn(c, CLOSE.malformed, 'protocol error'));
      ws.on('close', () => {
        disarmExpiry(c);
        c.closed = true;
        conns.delete(c);
        if (c.room) c.room.removePeer(c, now());
      });
    });

    // ---------- HTTP ----------
    const corsHeaders = (req: IncomingMessage): Record<string, string> => {
      const origin = req.headers.origin;
      if (!origin || !appOrigins.has(origin)) return {};
      return {
        'access-control-allow-origin': origin,
        vary: 'Origin',
        'access-control-allow-headers': 'content-type, authorization',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-max-age': '600',
      };
    };

    const sendJson = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        ...corsHeaders(req),
      });
      res.end(text);
    };

    const readJson = (req: IncomingMessage): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (ch: Buffer) => {
          size += ch.length;
          if (size > MAX_JSON_BODY) {
            reject(new AuthError(413, `request body larger than ${MAX_JSON_BODY} bytes`));
            req.destroy();
          } else chunks.push(ch);
        });
        req.on('end', () => {
          try {
            const text = Buffer.concat(chunks).toString('utf8');
            const v: unknown = text === '' ? {} : JSON.parse(text);
            if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
            resolve(v as Record<string, unknown>);
          } catch {
            reject(new AuthError(400, 'request body must be a JSON object', '$'));
          }
        });
        req.on('error', reject);
      });

    const bearer = (req: IncomingMessage): string | null => {
      const h = req.headers.authorization;
      return h?.startsWith('Bearer ') ? h.slice(7) : null;
    };

    /** Closes the sockets of ended sessions (sign-out, password change, reset). */
    closeSessionSockets = (sessionIds, reason) => {
      const ended = new Set(sessionIds);
      for (const c of conns)
        if (c.principal && ended.has(c.principal.sessionId)) closeConn(c, CLOSE.unauthorized, reason);
    };
    const endSessions = (sessionIds: readonly string[], reason: string) => {
      closeSessionSockets(sessionIds, reason);
      bus
        ?.endSessions([...sessionIds], reason)
        .catch((e) => log({ level: 'warn', msg: 'could not tell other instances', error: String(e) }));
    };

    const failedLogins = new Map<string, { count: number; since: number }>();
    /** 10 failed sign-ins per username per 5 minutes, then 429 until the window passes. */
    const LOGIN_WINDOW_MS = 5 * 60_000;
    const LOGIN_MAX_FAILS = 10;

    const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      const remote = req.socket.remoteAddress ?? '?';
      if (method === 'OPTIONS') {
        res.writeHead(204, corsHeaders(req));
        return void res.end();
      }
      if (method === 'GET' && path === '/healthz') {
        return sendJson(req, res, shuttingDown ? 503 : 200, {
          ok: !shuttingDown,
          instance: instanceId,
          rooms: rooms.size,
          connections: conns.size,
          redis: bus ? (bus.healthy ? 'ok' : 'down') : 'off',
        });
      }
      if (method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', ...corsHeaders(req) });
        return void res.end(
          metrics.render({
            connections: conns.size,
            rooms: rooms.size,
            storeBytes: store.sizeBytes(),
            heapBytes: process.memoryUsage().heapUsed,
            rssBytes: process.memoryUsage().rss,
          }),
        );
      }
      if (method === 'POST' && path === '/auth/login') {
        const body = await readJson(req);
        const key = String(body.username ?? '').toLowerCase();
        const f = failedLogins.get(key);
        if (f && now() - f.since < LOGIN_WINDOW_MS && f.count >= LOGIN_MAX_FAILS) {
          audit({ event: 'login_throttled', username: key, remote });
          throw new AuthError(429, 'too many failed sign-ins; wait a few minutes');
        }
        try {
          const pair = await accounts.login(body.username, body.password);
          failedLogins.delete(key);
          audit({ event: 'login', userId: pair.user.id, username: pair.user.username, remote });
          return sendJson(req, res, 200, pair);
        } catch (e) {
          if (e instanceof AuthError && e.status === 401) {
            const cur = f && now() - f.since < LOGIN_WINDOW_MS ? f : { count: 0, since: now() };
            cur.count++;
            failedLogins.set(key, cur);
            audit({ event: 'login_failed', username: key, remote });
          }
          throw e;
        }
      }
      if (method === 'POST' && path === '/auth/refresh') {
        const body = await readJson(req);
        const pair = await accounts.refresh(body.refreshToken);
        audit({ event: 'refresh', userId: pair.user.id, remote });
        return sendJson(req, res, 200, pair);
      }
      if (method === 'POST' && path === '/auth/logout') {
        const body = await readJson(req).catch(() => ({}) as Record<string, unknown>);
        let sessionId: string | null = null;
        const token = bearer(req);
        if (token) sessionId = (await accounts.authenticate(token).catch(() => null))?.sessionId ?? null;
        if (!sessionId && typeof body.refreshToken === 'string' && body.refreshToken.includes('.'))
          sessionId = body.refreshToken.slice(0, body.refreshToken.indexOf('.'));
        if (sessionId) {
          const s = await authStore.getSession(sessionId);
          if (
            s &&
            (token ||
              (typeof body.refreshToken === 'string' && sha256Hex(body.refreshToken) === s.refreshHash))
          ) {
            await accounts.logout(sessionId);
            endSessions([sessionId], 'signed out');
            audit({ event: 'logout', userId: s.userId, remote });
          }
        }
        return sendJson(req, res, 200, { ok: true });
      }
      if (method === 'POST' && path === '/auth/password') {
        const p = await accounts.authenticate(bearer(req));
        const body = await readJson(req);
        const ended = await accounts.changePassword(p, body.currentPassword, body.newPassword);
        endSessions(ended, 'password changed');
        audit({ event: 'password_change', userId: p.account.userId, remote });
        return sendJson(req, res, 200, { ok: true });
      }
      const reset = /^\/admin\/users\/([^/]+)\/password$/.exec(path);
      if (method === 'POST' && reset) {
        const p = await accounts.authenticate(bearer(req));
        const body = await readJson(req);
        const userId = decodeURIComponent(reset[1]!);
        const ended = await accounts.resetPassword(p, userId, body.newPassword);
        endSessions(ended, 'password reset by an administrator');
        audit({ event: 'password_reset', userId, by: p.account.userId, remote });
        return sendJson(req, res, 200, { ok: true });
      }
      if (method === 'POST' && path === '/admin/cohorts/run') {
        const p = await accounts.authenticate(bearer(req));
        if (p.account.siteRole !== 'admin' && p.account.siteRole !== 'manager')
          throw new AuthError(403, 'only a site admin or manager can process cohorts (cohort:manage)');
        const body = await readJson(req);
        const only = body.only;
        if (only !== undefined && (!Array.isArray(only) || !only.every((x) => typeof x === 'string')))
          throw new AuthError(400, 'only must be a list of rule ids', 'only');
        const summary = await cohortJob.runNow({
          only: only as string[] | undefined,
          trigger: `requested by ${p.account.userId}`,
        });
        audit({ event: 'cohorts_run', userId: p.account.userId, remote, changes: summary.changes.length });
        return sendJson(req, res, 200, summary);
      }
      // [SRV-REBASE] The change log a re-base folded away, so the app can rebuild the gradebook as it was before it.
      const archivesOf = /^\/courses\/([A-Za-z0-9_.:@-]{1,100})\/archives$/.exec(path);
      if (method === 'GET' && archivesOf) {
        const p = await accounts.authenticate(bearer(req));
        const courseId = archivesOf[1]!;
        const siteStaff = p.account.siteRole === 'admin' || p.account.siteRole === 'manager';
        const role = await store.getCourseRole(p.account.userId, courseId);
        if (!siteStaff && (!role || role === 'student'))
          throw new AuthError(403, `only the staff of course ${courseId} can read its history`);
        const rows = await store.listMeta(`archive/course/${courseId}/`);
        return sendJson(req, res, 200, { archives: rows.map((r) => JSON.parse(r.value) as unknown) });
      }
      if (method === 'GET' && path === '/admin/audit') {
        const p = await accounts.authenticate(bearer(req));
        if (p.account.siteRole !== 'admin')
          throw new AuthError(403, 'only a site admin can read the audit log');
        const since = Number(url.searchParams.get('since') ?? 0);
        return sendJson(req, res, 200, {
          entries: await store.readAudit({ sinceMs: Number.isFinite(since) ? since : 0 }),
        });
      }
      if (method === 'GET' && path === '/admin/backup') {
        const p = await accounts.authenticate(bearer(req));
        if (p.account.siteRole !== 'admin') throw new AuthError(403, 'only a site admin can take a backup');
        // Flush pending writes first so the backup holds everything acknowledged so far.
        await Promise.all([...rooms.values()].map((r) => r.flushed()));
        res.writeHead(200, {
          'content-type': 'application/x-ndjson',
          'content-encoding': 'identity',
          ...corsHeaders(req),
        });
        for await (const line of backupStream(store, now()))
          if (!res.write(line)) await new Promise((r) => res.once('drain', r));
        audit({ event: 'backup', userId: p.account.userId, remote });
        return void res.end();
      }
      if (opts.httpFallback && (await opts.httpFallback(req, res))) return;
      sendJson(req, res, 404, { error: `no route ${method} ${path}` });
    };

    httpServer = createServer((req, res) => {
      route(req, res).catch((e) => {
        if (res.headersSent) return void res.destroy();
        if (e instanceof AuthError)
          return sendJson(req, res, e.status, { error: e.message, ...(e.at ? { at: e.at } : {}) });
        log({ level: 'error', msg: 'http error', path: req.url, error: String(e) });
        sendJson(req, res, 500, { error: 'internal error' });
      });
    });
    httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (shuttingDown) return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });

    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      httpServer!.once('error', reject);
      httpServer!.listen(opts.port, host, () => resolve());
    });
    const addr = httpServer.address();
    const port = typeof addr === 'object' && addr ? addr.port : opts.port;
    const url = `ws://${host}:${port}`;
    log({
      level: 'info',
      msg: 'listening',
      instance: instanceId,
      url,
      dataDir: opts.dataDir,
      redis: Boolean(bus),
    });

    let closing: Promise<void> | null = null;
    const close = () =>
      (closing ??= (async () => {
        shuttingDown = true;
        clearInterval(evictTimer);
        clearInterval(auditTimer);
        const hs = httpServer!;
        const stopped = new Promise<void>((r) => hs.close(() => r()));
        for (const c of conns) closeConn(c, CLOSE.shuttingDown, 'server shutting down');
        // Let queued frames of closing connections finish, write pending projections, then flush every room.
        await Promise.all([...conns].map((c) => c.chain));
        await cohortRealtime.stop();
        await cohortJob.stop();
        if (directoryTimer) {
          clearTimeout(directoryTimer);
          directoryTimer = null;
          const site = rooms.get('site');
          if (site) void runDirectorySync(site.doc);
        }
        await directoryRun;
        await projector.flush();
        for (const room of rooms.values()) {
          await room.flushed();
          await room.compact();
          room.destroy();
        }
        rooms.clear();
        for (const c of conns) c.ws.terminate();
        hs.closeAllConnections();
        await stopped;
        wss.close();
        if (bus) await bus.close();
        await store.close();
        log({ level: 'info', msg: 'stopped', instance: instanceId });
      })());
    return { url, port, close };
  } catch (e) {
    httpServer?.close();
    if (bus) await bus.close().catch(() => {});
    await store.close();
    throw e;
  }
}

/** Validates the whole seed, then writes it; nothing is written when any part is wrong. */
export async function applySeed(store: Store, seed: SeedData): Promise<void> {
  const problems: Problem[] = [];
  const ids = new Set<string>();
  const names = new Set<string>();
  if (!Array.isArray(seed.accounts)) problems.push({ at: '$.accounts', message: 'must be an array' });
  (seed.accounts ?? []).forEach((a, i) => {
    const at = `$.accounts[${i}]`;
    if (typeof a.userId !== 'string' || !isValidId(a.userId))
      problems.push({ at: `${at}.userId`, message: 'must be an id of letters, digits and _ . : @ -' });
    else if (ids.has(a.userId))
      problems.push({ at: `${at}.userId`, message: `duplicate userId "${a.userId}"` });
    else ids.add(a.userId);
    if (typeof a.username !== 'string' || a.username.trim() === '')
      problems.push({ at: `${at}.username`, message: 'must be a non-empty string' });
    else if (names.has(a.username.toLowerCase()))
      problems.push({ at: `${at}.username`, message: `duplicate username "${a.username}"` });
    else names.add(a.username.toLowerCase());
    if (typeof a.password !== 'string' || a.password === '')
      problems.push({ at: `${at}.password`, message: 'must be a non-empty string' });
    if (a.siteRole !== undefined && a.siteRole !== null && a.siteRole !== 'admin' && a.siteRole !== 'manager')
      problems.push({ at: `${at}.siteRole`, message: 'must be "admin", "manager" or null' });
    if (typeof a.displayName !== 'string')
      problems.push({ at: `${at}.displayName`, message: 'must be a string' });
  });
  (seed.courseRoles ?? []).forEach((r, i) => {
    const at = `$.courseRoles[${i}]`;
    if (!ids.has(r.userId))
      problems.push({ at: `${at}.userId`, message: `no account with userId "${r.userId}"` });
    if (typeof r.courseId !== 'string' || !isValidId(r.courseId))
      problems.push({ at: `${at}.courseId`, message: 'must be an id of letters, digits and _ . : @ -' });
    if (typeof r.role !== 'string' || !isCourseRole(r.role))
      problems.push({ at: `${at}.role`, message: 'must be manager, editingteacher, teacher or student' });
  });
  (seed.courses ?? []).forEach((c, i) => {
    if (typeof c.id !== 'string' || !isValidId(c.id))
      problems.push({ at: `$.courses[${i}].id`, message: 'must be an id of letters, digits and _ . : @ -' });
    if (typeof c.name !== 'string')
      problems.push({ at: `$.courses[${i}].name`, message: 'must be a string' });
  });
  const byRoom = new Map<string, Uint8Array[]>();
  (seed.docs ?? []).forEach((d, i) => {
    const at = `$.docs[${i}]`;
    if (typeof d.room !== 'string' || !parseRoom(d.room))
      return void problems.push({ at: `${at}.room`, message: `"${String(d.room)}" is not a room name` });
    try {
      Y.decodeUpdate(d.update);
    } catch {
      return void problems.push({ at: `${at}.update`, message: 'is not a Yjs update' });
    }
    byRoom.set(d.room, [...(byRoom.get(d.room) ?? []), d.update]);
  });
  if (problems.length) throw new ValidationError(problems);

  const accountsOut: Account[] = [];
  // Hash in small parallel groups: scrypt runs on libuv's thread pool (4 threads by default).
  for (let i = 0; i < seed.accounts.length; i += 8) {
    const group = seed.accounts.slice(i, i + 8);
    const hashes = await Promise.all(
      group.map((a) => (isPasswordHash(a.password) ? a.password : hashPassword(a.password))),
    );
    group.forEach((a, k) =>
      accountsOut.push({
        userId: a.userId,
        username: a.username,
        displayName: a.displayName,
        siteRole: a.siteRole ?? null,
        passwordHash: hashes[k]!,
      }),
    );
  }
  await store.putAccounts(accountsOut);
  await store.putCourseRoles(seed.courseRoles ?? []);
  await store.putCourses(seed.courses ?? []);
  for (const [room, updates] of byRoom) await store.compactRoom(room, Y.mergeUpdates(updates), 0);
}

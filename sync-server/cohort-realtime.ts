// Realtime dynamic-cohort processing on the server: changes a client makes in the `site` room become SiteEvents,
// the engine re-checks their users, and the membership changes go back through the room's durable path as ONE update.
// Never reacts to the server's own writes (no loops), never writes a room directly, never writes a half result.
import * as Y from 'yjs';
import { CohortEngine, type MembershipLogEntry, type SiteEvent } from '../src/lib/domain/cohorts/index.ts';
import {
  EVENT_COLLECTIONS,
  eventUserId,
  siteEvents,
  type SiteRowChange,
} from '../src/lib/domain/cohorts/site-events.ts';
import { RULE_COMPONENT } from '../src/lib/domain/interchange/site-json.ts';
import { setCohortMembers, siteCollection, type SiteRow } from '../src/lib/crdt/site-doc.ts';
import { LOG_COLLECTION, logRowId, readSiteState } from '../src/lib/workers/cohort-writes.ts';
import type { Actor } from '../src/lib/crdt/course-doc.ts';
import type { CohortJob, CohortRunSummary, SiteRoomAccess } from './cohort-job.ts';

/**
 * Site settings live in the site document's `settings` collection, one row per feature keyed by `id`. The cohorts
 * row is `{ "id": "cohorts", "realtime": boolean }`; a missing row or field means on (the plugin's default).
 * Only `realtime: false` switches realtime processing off (SRV-COH-RT3).
 */
export const SETTINGS_COLLECTION = 'settings';
export const COHORT_SETTINGS_ID = 'cohorts';

/**
 * A batch of changes touching more distinct users than this is a bulk change (an import, a mass enrolment) and is
 * handed to the scheduled job's full processing instead of one realtime re-check per user (the plugin's reason for
 * bulk mode: thousands of per-user events block the request). Full processing of a 10,000-user site costs about as
 * much as a few hundred single-user re-checks with their index rebuild, so 500 keeps a typical class-sized edit
 * (tens of users) realtime and sends imports to the job.
 */
export const REALTIME_BULK_THRESHOLD = 500;

/**
 * Changes arriving within this window are processed together (one read of the site, one written update): a
 * client's form save often arrives as several small updates.
 */
export const REALTIME_DEBOUNCE_MS = 25;

export const COHORT_REALTIME_ACTOR: Actor = { userId: 'system', deviceId: 'cohort-realtime' };

export interface CohortRealtimeOptions {
  site: SiteRoomAccess;
  /** The scheduled job, which takes over bulk changes. */
  job: Pick<CohortJob, 'runNow'>;
  /** Clock in unix ms. */
  now?: () => number;
  log?: (entry: object) => void;
  actor?: Actor;
  bulkThreshold?: number;
  debounceMs?: number;
  /** Called after every batch (tests and metrics). */
  onBatch?: (summary: RealtimeBatchSummary) => void;
}

export interface RealtimeBatchSummary {
  /**
   * `realtime`: re-checked and written; `off`: the global switch is off; `idle`: nothing to do (no events or no
   * enabled realtime rule); `bulk`: handed to the job; `failed`: nothing written.
   */
  mode: 'realtime' | 'off' | 'idle' | 'bulk' | 'failed';
  events: number;
  users: number;
  /** Membership changes written (cascades included), each also a cohortLog row. */
  changes: MembershipLogEntry[];
  broken: { ruleId: string; reason: string }[];
  /** Updates submitted to the room (0 or 1 in realtime mode). */
  updates: number;
  /** Clock time (ms) from the first change of the batch being seen to its result being stored and applied. */
  latencyMs: number;
  job?: CohortRunSummary;
  error?: string;
}

export interface CohortRealtime {
  /** Observes a (newly loaded) site room document; call once per Room instance. */
  watch(doc: Y.Doc): void;
  /** Resolves once every change seen so far has been processed. */
  idle(): Promise<void>;
  /** Stops: pending changes are dropped (the job's next run covers them), a batch in progress finishes. */
  stop(): Promise<void>;
}

interface Pending {
  collection: string;
  key: string;
  before: SiteRow | undefined;
}

/** Whether a transaction origin is a client connection on this instance (a RoomPeer), the only realtime trigger. */
function isPeer(origin: unknown): boolean {
  return typeof origin === 'object' && origin !== null && 'awarenessIds' in origin;
}

/** The global realtime switch stored in the site document (SRV-COH-RT3). */
export function realtimeEnabled(doc: Y.Doc): boolean {
  return siteCollection(doc, SETTINGS_COLLECTION).get(COHORT_SETTINGS_ID)?.['realtime'] !== false;
}

export function startCohortRealtime(opts: CohortRealtimeOptions): CohortRealtime {
  const now = opts.now ?? (() => Date.now());
  const log = opts.log ?? (() => {});
  const actor = opts.actor ?? COHORT_REALTIME_ACTOR;
  const threshold = opts.bulkThreshold ?? REALTIME_BULK_THRESHOLD;
  const debounceMs = opts.debounceMs ?? REALTIME_DEBOUNCE_MS;
  // First `before` of each touched row since the last batch, keyed by collection + row key.
  let pending = new Map<string, Pending>();
  let firstSeen = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let stopped = false;
  // Per watched room document, a copy that follows every applied update: writing on it costs the change, where
  // copying the whole document per batch costs O(site) (about 0.5 s at 10,000 users). Twice the memory of the site.
  const shadows = new WeakMap<Y.Doc, Y.Doc>();
  const copyOf = (doc: Y.Doc) => {
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
    return copy;
  };
  const resetShadow = (doc: Y.Doc) => {
    shadows.get(doc)?.destroy();
    shadows.set(doc, copyOf(doc));
  };

  const schedule = () => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = null;
      const batch = pending;
      const seen = firstSeen;
      pending = new Map();
      chain = chain
        .then(() => runBatch([...batch.values()], seen))
        .then((s) => opts.onBatch?.(s))
        .catch((e: unknown) => log({ level: 'error', msg: 'cohort realtime failed', error: String(e) }));
    }, debounceMs);
  };

  const runBatch = async (batch: Pending[], seen: number): Promise<RealtimeBatchSummary> => {
    const summary: RealtimeBatchSummary = {
      mode: 'idle',
      events: 0,
      users: 0,
      changes: [],
      broken: [],
      updates: 0,
      latencyMs: 0,
    };
    const done = () => {
      summary.latencyMs = now() - seen;
      if (summary.events > 0)
        log({ level: 'info', msg: 'cohort realtime', ...summary, changes: summary.changes.length });
      return summary;
    };
    try {
      const doc = await opts.site.readDoc();
      const changes: SiteRowChange[] = batch.map((p) => ({
        collection: p.collection,
        before: p.before,
        after: siteCollection(doc, p.collection).get(p.key),
      }));
      const events: SiteEvent[] = siteEvents(changes);
      summary.events = events.length;
      summary.users = new Set(events.map(eventUserId)).size;
      if (events.length === 0) return done();
      if (!realtimeEnabled(doc)) {
        summary.mode = 'off';
        return done();
      }
      const { site, rules } = readSiteState(doc);
      if (!rules.some((r) => r.enabled && !r.broken && r.realtime)) return done();
      if (summary.users > threshold) {
        summary.mode = 'bulk';
        summary.job = await opts.job.runNow({ trigger: `bulk change (${summary.users} users)` });
        return done();
      }
      // The engine starts from the document as it is now (the events' data is already in it; re-applying it is
      // idempotent) and re-checks each event's user, cascades included (COH-P5).
      const engine = new CohortEngine(site, rules, { realtime: true });
      const t = Math.floor(now() / 1000);
      for (const e of events) {
        const r = engine.handleEvent(e, t);
        summary.changes.push(...r.changes);
        summary.broken.push(...r.broken);
      }
      if (summary.changes.length === 0) return done();
      // One transaction on the shadow copy of the live document (kept in step with every update the room applies);
      // the room stores the update before applying it, so a failure leaves the room as it was.
      // A document this instance does not watch (no shadow) is copied for this batch only.
      const shadow = shadows.get(doc);
      const work = shadow ?? copyOf(doc);
      let update: Uint8Array | null = null;
      const capture = (u: Uint8Array) => (update = update ? Y.mergeUpdates([update, u]) : u);
      work.on('update', capture);
      try {
        const cohorts = siteCollection(work, 'cohorts');
        const logRows = siteCollection(work, LOG_COLLECTION);
        work.transact(() => {
          for (const c of summary.changes) {
            const cohort = cohorts.get(c.cohortId);
            if (!cohort) continue;
            if (cohort['component'] !== RULE_COMPONENT)
              cohorts.set(c.cohortId, { ...cohort, component: RULE_COMPONENT });
            setCohortMembers(
              work,
              c.cohortId,
              c.action === 'added' ? { added: [c.userId], removed: [] } : { added: [], removed: [c.userId] },
              actor,
            );
            logRows.set(logRowId(c), { id: logRowId(c), ...c });
          }
        }, actor);
      } finally {
        work.off('update', capture);
        if (!shadow) work.destroy();
      }
      if (update) {
        try {
          await opts.site.submit(update);
        } catch (e) {
          // The shadow holds a write the room refused: start it again from the room's document.
          if (shadow) resetShadow(doc);
          throw e;
        }
      }
      summary.updates = 1;
      summary.mode = 'realtime';
      return done();
    } catch (e) {
      summary.mode = 'failed';
      summary.error = String(e);
      summary.changes = [];
      log({ level: 'error', msg: 'cohort realtime failed; memberships untouched', error: String(e) });
      return done();
    }
  };

  return {
    watch(doc: Y.Doc) {
      shadows.set(doc, copyOf(doc));
      doc.on('update', (u: Uint8Array) => {
        const shadow = shadows.get(doc);
        if (shadow) Y.applyUpdate(shadow, u);
      });
      doc.on('destroy', () => shadows.get(doc)?.destroy());
      for (const collection of EVENT_COLLECTIONS) {
        siteCollection(doc, collection).observe((ev) => {
          if (stopped || !isPeer(ev.transaction.origin)) return;
          if (pending.size === 0) firstSeen = now();
          for (const [key, change] of ev.changes.keys) {
            const id = `${collection}\u0000${key}`;
            if (pending.has(id)) continue;
            pending.set(id, {
              collection,
              key,
              before: change.action === 'add' ? undefined : (change.oldValue as SiteRow),
            });
          }
          schedule();
        });
      }
    },
    async idle() {
      while (timer || pending.size) await new Promise((r) => setTimeout(r, debounceMs));
      await chain;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      pending = new Map();
      await chain;
    },
  };
}

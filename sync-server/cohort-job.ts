// The server's dynamic-cohort job: on a schedule and on demand, loads the `site` room, runs CohortEngine.process and
// writes the membership changes back as Yjs updates through the room's durable path. Never writes a room directly:
// every change goes through `SiteRoomAccess.submit`, which stores it before it is applied and relayed.
import * as Y from 'yjs';
import { CohortEngine, type ProcessResult, type Rule } from '../src/lib/domain/cohorts/index.ts';
import { RULE_COMPONENT, type SiteDocument } from '../src/lib/domain/interchange/site-json.ts';
import { CancelledError, cancelSource, type CancelSource } from '../src/lib/domain/shared/cancel.ts';
import { readSiteState, trimCohortLog, writeProcessResult } from '../src/lib/workers/cohort-writes.ts';
import type { Actor } from '../src/lib/crdt/course-doc.ts';

/**
 * What the job needs from the server: the live site document (read only) and the durable write path.
 * In `startSyncServer` this is `siteRoomAccess(() => getRoom('site'))`.
 */
export interface SiteRoomAccess {
  /** The room's current document; the job reads it and never changes it. */
  readDoc(): Promise<Y.Doc>;
  /** Stores the update durably, then applies and relays it (Room.submit(update, 'server')). */
  submit(update: Uint8Array): Promise<void>;
}

/** Adapts a sync-server Room (anything with `doc`, `ready` and `submit(update, origin)`) to the job's needs. */
export function siteRoomAccess(
  getRoom: () => Promise<{ doc: Y.Doc; submit(update: Uint8Array, origin: 'server'): Promise<void> }>,
): SiteRoomAccess {
  return {
    readDoc: async () => (await getRoom()).doc,
    submit: async (update) => (await getRoom()).submit(update, 'server'),
  };
}

export interface CohortJobOptions {
  site: SiteRoomAccess;
  /**
   * Time between scheduled runs (ms); 0 or less: on demand only. The plugin's scheduled task runs every minute
   * and queues one ad-hoc task per enabled rule (/work/shared/reference/dynamic-cohorts.md, section 4); here one
   * run processes every rule in dependency order, so the period is the host's choice of freshness against cost.
   */
  intervalMs: number;
  /** Clock in unix ms (tests inject one). */
  now?: () => number;
  log?: (entry: object) => void;
  /** Who the changes are recorded as. */
  actor?: Actor;
  /** Users per written update (smaller updates keep relayed messages small). */
  chunkSize?: number;
  /**
   * Days the membership change log keeps a row (0: for ever). Every device loads the site document, so an
   * unbounded log makes every device slower; a year answers "why is this person in this cohort" for a school year.
   */
  logRetentionDays?: number;
}

export interface CohortRunSummary {
  trigger: string;
  /** Per processed rule: cohort and how many users were added / removed. */
  changes: { ruleId: string; cohortId: string; added: number; removed: number }[];
  broken: { ruleId: string; reason: string }[];
  /** Rules whose stored JSON does not parse (left alone). */
  ruleProblems: { at: string; message: string }[];
  /** Updates submitted to the room. */
  updates: number;
  /** Change-log rows older than the retention period that this run deleted. */
  trimmed: number;
}

export interface CohortJob {
  /** Runs processing now (queued behind a run in progress); `only` limits it to some rule ids. */
  runNow(opts?: { only?: readonly string[]; trigger?: string }): Promise<CohortRunSummary>;
  /** Stops the schedule, cancels a run in progress (nothing of it is written) and waits for it. */
  stop(): Promise<void>;
}

/** Default retention of the membership change log, in days (see CohortJobOptions.logRetentionDays). */
export const DEFAULT_LOG_RETENTION_DAYS = 365;

export const COHORT_JOB_ACTOR: Actor = { userId: 'system', deviceId: 'cohort-job' };

export function startCohortJob(opts: CohortJobOptions): CohortJob {
  const now = opts.now ?? (() => Date.now());
  const log = opts.log ?? (() => {});
  const actor = opts.actor ?? COHORT_JOB_ACTOR;
  let chain: Promise<unknown> = Promise.resolve();
  let current: CancelSource | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setInterval> | null = null;

  const runOnce = async (only: readonly string[] | undefined, trigger: string): Promise<CohortRunSummary> => {
    const source = cancelSource();
    current = source;
    try {
      const doc = await opts.site.readDoc();
      const { site, rules, ruleProblems, log: changeLog } = readSiteState(doc);
      const engine = new CohortEngine(site, rules);
      const result: ProcessResult = await engine.process({
        now: Math.floor(now() / 1000),
        trigger,
        cancel: source.token,
        ...(only ? { only } : {}),
        yieldControl: () => new Promise<void>((r) => setImmediate(r)),
      });
      if (source.token.cancelled) throw new CancelledError('cohort processing');
      const updates: Uint8Array[] = [];
      if (needsWrite(site, rules, result)) {
        // Write on a private copy of the live document, then submit each chunk's update: the room applies it
        // only after storing it, so a crash leaves whole chunks (each a complete, logged membership step).
        const work = new Y.Doc();
        Y.applyUpdate(work, Y.encodeStateAsUpdate(doc));
        work.on('update', (u: Uint8Array) => updates.push(u));
        await writeProcessResult(work, result, {
          actor,
          ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
        });
        work.destroy();
        for (const u of updates) await opts.site.submit(u);
      }
      let trimmed = 0;
      const retention = opts.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
      const cutoff = Math.floor(now() / 1000) - retention * 86_400;
      if (retention > 0 && changeLog.some((r) => r.time < cutoff)) {
        const work = new Y.Doc();
        Y.applyUpdate(work, Y.encodeStateAsUpdate(await opts.site.readDoc()));
        const trim: Uint8Array[] = [];
        work.on('update', (u: Uint8Array) => trim.push(u));
        trimmed = trimCohortLog(work, cutoff, actor);
        work.destroy();
        for (const u of trim) await opts.site.submit(u);
        updates.push(...trim);
      }
      const summary: CohortRunSummary = {
        trigger,
        changes: result.changes.map((c) => ({
          ruleId: c.ruleId,
          cohortId: c.cohortId,
          added: c.added.length,
          removed: c.removed.length,
        })),
        broken: result.broken,
        ruleProblems,
        updates: updates.length,
        trimmed,
      };
      log({ level: 'info', msg: 'cohort processing', ...summary });
      return summary;
    } finally {
      if (current === source) current = null;
    }
  };

  const enqueue = (only: readonly string[] | undefined, trigger: string): Promise<CohortRunSummary> => {
    if (stopped) return Promise.reject(new Error('the cohort job is stopped'));
    const run = chain.then(() => runOnce(only, trigger));
    chain = run.catch(() => {});
    return run;
  };

  if (opts.intervalMs > 0) {
    timer = setInterval(() => {
      enqueue(undefined, 'scheduled processing').catch((e: unknown) => {
        if (!(e instanceof CancelledError))
          log({ level: 'error', msg: 'cohort processing failed', error: String(e) });
      });
    }, opts.intervalMs);
    timer.unref?.();
  }

  return {
    runNow: (o = {}) => enqueue(o.only, o.trigger ?? 'process now'),
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      current?.cancel();
      await chain;
    },
  };
}

/**
 * Whether a run has anything to write: a membership change, a cohort not yet marked as managed, or a rule newly
 * found broken. A run with nothing to write skips copying the document (the costly part on a big site).
 */
function needsWrite(site: SiteDocument, rules: readonly Rule[], result: ProcessResult): boolean {
  const component = new Map(site.cohorts.map((c) => [c.id, c.component] as const));
  const wasBroken = new Map(rules.map((r) => [r.id, r.broken] as const));
  return (
    result.changes.some(
      (c) => c.added.length > 0 || c.removed.length > 0 || component.get(c.cohortId) !== RULE_COMPONENT,
    ) || result.rules.some((r) => r.broken && wasBroken.get(r.id) === false)
  );
}

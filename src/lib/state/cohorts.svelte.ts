// The open site directory (room `site`) for the cohorts screens: the Yjs document kept in IndexedDB and synced,
// its rules and change log, and the cohorts worker that previews and processes off the main thread.
// Writes go through the CRDT site-doc functions (cohort-writes.ts) only; never computes a whole-site match here.
import * as Y from 'yjs';
import { database } from '../persistence/db';
import { YStore } from '../persistence/y-store';
import { RoomConnection } from '../sync/room-connection';
import {
  createRule,
  disableRule,
  parseRule,
  parseRules,
  ruleToJson,
  SiteIndex,
  updateRule,
  type Explanation,
  type Preview,
  type Rule,
} from '../domain/cohorts/index.ts';
import { ValidationError } from '../domain/shared/errors.ts';
import type { SiteDocument } from '../domain/interchange/site-json.ts';
import type { Actor } from '../crdt/course-doc';
import { docToSiteJson, setCohortMembers, setSiteRow, siteCollection } from '../crdt/site-doc';
import type { UsersCsvPlan } from '../domain/interchange/users-csv';
import {
  deleteRulesFromDoc,
  readSiteState,
  writeProcessResult,
  writeRule,
  type CohortLogRow,
} from '../workers/cohort-writes';
import { RpcClient, type RpcCall } from '../workers/rpc';
import type { CohortsApi, EnableReply } from '../workers/cohorts.worker';
import { session } from './session.svelte';
import { syncStatus } from './sync-status.svelte';
import { newRuleId, type RuleCount } from './cohorts-view';

function deviceId(): string {
  const key = 'markbook.deviceId';
  let id = localStorage.getItem(key);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(key, id);
  }
  return id;
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** A "Process now" run as the page shows it. */
export interface JobState {
  phase: 'processing' | 'writing';
  done: number;
  total: number;
}

export type SaveOutcome =
  { ok: true; rule: Rule } | { ok: false; problems: { at: string; message: string }[] };

export class SiteWorkspace {
  readonly room = 'site';
  readonly doc = new Y.Doc();
  loaded = $state(false);
  /** Bumped on every change the views should see. */
  version = $state(0);
  site = $state.raw<SiteDocument | null>(null);
  rules = $state.raw<Rule[]>([]);
  ruleProblems = $state.raw<{ at: string; message: string }[]>([]);
  log = $state.raw<CohortLogRow[]>([]);
  /** Per rule: how many users match now, or why it cannot be evaluated (computed in the worker). */
  counts = $state.raw<Record<string, RuleCount>>({});
  job = $state<JobState | null>(null);
  error = $state<string | null>(null);
  readonly actor: Actor;
  private readonly store: YStore;
  private conn: RoomConnection | null = null;
  private readonly worker: Worker;
  private readonly rpc: RpcClient<CohortsApi>;
  private scheduled: ReturnType<typeof setTimeout> | null = null;
  private running: RpcCall<unknown> | null = null;
  private indexCache: { version: number; index: SiteIndex } | null = null;
  private destroyed = false;
  private pendingRefresh = false;

  constructor() {
    this.actor = { userId: session.user?.id ?? 'anonymous', deviceId: deviceId() };
    this.worker = new Worker(new URL('../workers/cohorts.worker.ts', import.meta.url), { type: 'module' });
    this.rpc = new RpcClient<CohortsApi>(this.worker);
    this.worker.addEventListener('error', (e) => {
      this.error = `The cohorts worker failed to start (${e.message || 'unknown error'}); previews and processing are unavailable.`;
    });
    this.store = new YStore(database(), this.room, this.doc);
    this.doc.on('update', this.onUpdate);
    void this.store.whenLoaded.then(() => {
      if (this.destroyed) return;
      this.refresh();
      this.connect();
    });
  }

  private readonly onUpdate = (): void => {
    // Coalesce a burst (a sync batch) into one refresh; while our own chunked write runs, wait for its end
    // (re-reading a large site after every chunk would cost more than the write).
    if (this.job?.phase === 'writing') {
      this.pendingRefresh = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = null;
      this.refresh();
    }, 50);
  };

  private connect(): void {
    this.conn = new RoomConnection({
      serverUrl: session.syncUrl,
      room: this.room,
      doc: this.doc,
      getToken: () => session.token(),
      refreshToken: () => session.refresh(),
      onState: (s, detail) => {
        syncStatus.report(this.room, s, detail);
        if (s === 'denied')
          this.error = 'The server refused the site directory: it is for site administrators and managers.';
      },
    });
    if (!navigator.onLine) this.conn.pause();
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
  }

  private readonly onOffline = (): void => this.conn?.pause();
  private readonly onOnline = (): void => this.conn?.resume();

  private refresh(): void {
    if (this.destroyed) return;
    const state = readSiteState(this.doc);
    this.site = state.site;
    this.rules = state.rules;
    this.ruleProblems = state.ruleProblems;
    this.log = state.log;
    this.version++;
    // Calls run in order in the worker, so previews asked after this see the new site.
    void this.rpc.call('load', { site: state.site }).result.then(
      () => this.refreshCounts(),
      (e: unknown) => (this.error = String((e as Error).message ?? e)),
    );
    this.loaded = true;
  }

  private refreshCounts(): void {
    const rules = this.rules.map(ruleJson);
    void this.rpc.call('counts', { rules, now: nowSec() }).result.then((c) => {
      if (!this.destroyed) this.counts = c;
    });
  }

  /** A site index of the current version (built on demand; cheap next to the worker's work). */
  private index(): SiteIndex {
    if (!this.site) throw new Error('the site directory is not loaded yet');
    if (this.indexCache?.version !== this.version)
      this.indexCache = { version: this.version, index: new SiteIndex(this.site) };
    return this.indexCache.index;
  }

  rule(id: string): Rule | undefined {
    return this.rules.find((r) => r.id === id);
  }

  /** Live preview of a draft (count, sample, problems, broken reason), computed in the worker. */
  preview(draft: unknown): Promise<Preview> {
    return this.rpc.call('preview', { rule: draft, now: nowSec(), sampleSize: 10 }).result;
  }

  /** Would this user match the draft, and which condition fails? */
  explain(draft: unknown, userId: string): Promise<Explanation> {
    return this.rpc.call('explain', { rule: draft, userId, now: nowSec() }).result;
  }

  /**
   * Saves a draft: a new rule is created disabled; an edit of an existing rule disables it until it is
   * reviewed and enabled again (COH-L1, COH-L2). Nothing is written when the draft has problems.
   */
  saveRule(draft: Record<string, unknown>): SaveOutcome {
    try {
      const id = typeof draft['id'] === 'string' && draft['id'] !== '' ? draft['id'] : null;
      let rule: Rule;
      if (id && this.rule(id)) {
        const { id: _id, ...patch } = draft;
        rule = updateRule(this.rules, id, patch, this.index());
      } else {
        rule = createRule(
          this.rules,
          { ...draft, id: id ?? newRuleId(this.rules.map((r) => r.id)) },
          this.index(),
        );
      }
      writeRule(this.doc, rule, this.actor);
      return { ok: true, rule };
    } catch (e) {
      if (e instanceof ValidationError) return { ok: false, problems: [...e.problems] };
      throw e;
    }
  }

  /** Enables a rule after the count was shown; a rule that cannot be processed is flagged broken instead. */
  async enable(ruleId: string): Promise<EnableReply> {
    const rule = this.rule(ruleId);
    if (!rule) throw new Error(`no rule "${ruleId}"`);
    const out = await this.rpc.call('enable', { rule: ruleJson(rule), now: nowSec() }).result;
    writeRule(this.doc, parseRule(out.rule), this.actor);
    return out;
  }

  /**
   * Applies a clean users-CSV plan (all of it or nothing) to the site directory: new and changed users, and the
   * cohort memberships its cohort columns name, as one transaction.
   */
  applyUsersPlan(plan: UsersCsvPlan): void {
    this.doc.transact(() => {
      for (const u of plan.creates) setSiteRow(this.doc, 'users', u as unknown as Record<string, unknown>, this.actor);
      for (const { after } of plan.updates) setSiteRow(this.doc, 'users', after as unknown as Record<string, unknown>, this.actor);
      const byCohort = new Map<string, string[]>();
      for (const a of plan.cohortAdds) byCohort.set(a.cohortId, [...(byCohort.get(a.cohortId) ?? []), a.userId]);
      for (const [cohortId, added] of byCohort) setCohortMembers(this.doc, cohortId, { added, removed: [] }, this.actor);
    }, this.actor);
  }

  /** The site directory as site JSON (spec site-json.md), with the rules file beside it. */
  exportSiteJson(): string {
    return JSON.stringify(docToSiteJson(this.doc).site, null, 2);
  }

  /** The site-wide switch for realtime processing (the server reads the `settings` row `cohorts`; missing = on). */
  get realtimeOn(): boolean {
    void this.version;
    return siteCollection(this.doc, 'settings').get('cohorts')?.['realtime'] !== false;
  }

  setRealtime(on: boolean): void {
    setSiteRow(this.doc, 'settings', { id: 'cohorts', realtime: on }, this.actor);
  }

  disable(ruleId: string): void {
    const rule = this.rule(ruleId);
    if (rule) writeRule(this.doc, disableRule(rule), this.actor);
  }

  /** Deletes rules (all or nothing); their cohorts keep their members and stop being managed. */
  deleteRules(ids: string[]): string[] {
    return deleteRulesFromDoc(this.doc, this.rules, ids, this.actor);
  }

  /**
   * "Process now": runs processing in the worker (progress, cancellable), then writes the changes to the
   * document in chunks, each with its log rows. Returns how many users changed, or null when cancelled.
   */
  async processNow(only?: string[]): Promise<number | null> {
    if (this.job) throw new Error('processing is already running');
    this.job = { phase: 'processing', done: 0, total: 0 };
    try {
      const call = this.rpc.call(
        'process',
        { rules: this.rules.map(ruleJson), now: nowSec(), trigger: 'process now', ...(only ? { only } : {}) },
        { onProgress: (done, total) => (this.job = { phase: 'processing', done, total }) },
      );
      this.running = call;
      let reply;
      try {
        reply = await call.result;
      } catch (e) {
        if ((e as Error).name === 'CancelledError') return null;
        throw e;
      } finally {
        this.running = null;
      }
      this.job = { phase: 'writing', done: 0, total: 0 };
      return await writeProcessResult(
        this.doc,
        { changes: reply.changes, rules: parseRules(reply.rules) },
        {
          actor: this.actor,
          // 2,000 users per transaction keeps each sync message well under the server's message limit.
          chunkSize: 2000,
          onProgress: (done, total) => (this.job = { phase: 'writing', done, total }),
          pause: () => new Promise((r) => setTimeout(r, 0)),
        },
      );
    } finally {
      this.job = null;
      if (this.pendingRefresh) {
        this.pendingRefresh = false;
        this.onUpdate();
      }
    }
  }

  /** Cancels processing while it runs in the worker (writing, once started, finishes its chunks). */
  cancelProcessing(): void {
    this.running?.cancel();
  }

  destroy(): void {
    this.destroyed = true;
    if (this.scheduled) clearTimeout(this.scheduled);
    this.doc.off('update', this.onUpdate);
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    this.conn?.destroy();
    this.store.destroy();
    syncStatus.forget(this.room);
    this.worker.terminate();
    this.doc.destroy();
  }
}

/** Rules travel to the worker as plain rules-file JSON; the worker parses them with the same domain code. */
function ruleJson(r: Rule): Record<string, unknown> {
  return ruleToJson(r);
}

// The dynamic-cohorts web worker: holds a SiteIndex of the site directory and runs previews, explanations,
// enable checks and processing off the main thread, with progress and cancel (rpc.ts). Same domain code as Node.
// Never touches the DOM, IndexedDB or the network; never writes the site document (the page does, with the result).
import {
  SiteIndex,
  enableRule,
  explainUser,
  matchingCount,
  ruleProcessingProblem,
  parseRule,
  parseRules,
  previewRule,
  processRules,
  ruleToJson,
  type Explanation,
  type MembershipChange,
  type Preview,
} from '../domain/cohorts/index.ts';
import type { SiteDocument } from '../domain/interchange/site-json.ts';
import { serveRpc, type RpcContext, type RpcPort } from './rpc.ts';

export type RuleJson = Record<string, unknown>;

export interface ProcessReply {
  changes: MembershipChange[];
  /** Every rule after processing (broken flags updated), as rules-file JSON. */
  rules: RuleJson[];
  broken: { ruleId: string; reason: string }[];
  skipped: { ruleId: string; reason: string }[];
  cycles: string[][];
}

export type EnableReply =
  { ok: true; rule: RuleJson; count: number } | { ok: false; rule: RuleJson; reason: string };

/** The worker's API; `createCohortsApi()` is also used directly in tests and when workers are unavailable. */
export function createCohortsApi() {
  let index: SiteIndex | null = null;
  const ix = (): SiteIndex => {
    if (!index) throw new Error('no site loaded: call load first');
    return index;
  };
  return {
    load(args: { site: SiteDocument }): { users: number } {
      index = new SiteIndex(args.site);
      return { users: index.userCount };
    },
    preview(args: { rule: unknown; now: number; sampleSize?: number }): Preview {
      return previewRule(ix(), args.rule, { now: args.now, sampleSize: args.sampleSize ?? 10 });
    },
    /** Matching count of each rule (or why it cannot be evaluated), for the rules table. */
    counts(args: { rules: unknown[]; now: number }): Record<string, { count: number } | { broken: string }> {
      const out: Record<string, { count: number } | { broken: string }> = {};
      for (const rule of parseRules(args.rules)) {
        const reason = ruleProcessingProblem(ix(), rule, { now: args.now });
        out[rule.id] = reason ? { broken: reason } : { count: matchingCount(ix(), rule, { now: args.now }) };
      }
      return out;
    },
    explain(args: { rule: unknown; userId: string; now: number }): Explanation {
      return explainUser(ix(), parseRule(args.rule), args.userId, { now: args.now });
    },
    enable(args: { rule: unknown; now: number }): EnableReply {
      const out = enableRule(parseRule(args.rule), ix(), { now: args.now });
      return out.ok
        ? { ok: true, rule: ruleToJson(out.rule), count: out.count }
        : { ok: false, rule: ruleToJson(out.rule), reason: out.reason };
    },
    async process(
      args: { rules: unknown[]; now: number; only?: string[]; trigger?: string },
      ctx: RpcContext,
    ): Promise<ProcessReply> {
      const r = await processRules(ix(), parseRules(args.rules), {
        now: args.now,
        trigger: args.trigger ?? 'process now',
        onProgress: ctx.onProgress,
        cancel: ctx.cancel,
        yieldControl: ctx.pause,
        ...(args.only ? { only: args.only } : {}),
      });
      return {
        changes: r.changes,
        rules: r.rules.map(ruleToJson),
        broken: r.broken,
        skipped: r.skipped,
        cycles: r.cycles,
      };
    },
  };
}

export type CohortsApi = ReturnType<typeof createCohortsApi>;

// Inside a worker only (importing this module elsewhere, e.g. in tests, starts nothing).
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') {
  serveRpc(globalThis as unknown as RpcPort, createCohortsApi(), () => new Promise((r) => setTimeout(r, 0)));
}

// `markbook cohorts match|process|explain`: dynamic-cohort rules over a site JSON file (spec site-json.md).
// JSON on stdout, errors on stderr naming the JSON path; writes a file only with --out.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ValidationError } from '../../src/lib/domain/shared/errors.ts';
import { parseSiteJson, siteToJson } from '../../src/lib/domain/interchange/site-json.ts';
import {
  explainUser,
  matchingUserIds,
  ruleBrokenReason,
  RuleBrokenError,
} from '../../src/lib/domain/cohorts/evaluate.ts';
import { parseRule, parseRules } from '../../src/lib/domain/cohorts/rule.ts';
import { applyChanges, processRules } from '../../src/lib/domain/cohorts/process.ts';
import { SiteIndex } from '../../src/lib/domain/cohorts/site-index.ts';
import { flagNumber, flagString, parseArgs, printJson, UsageError } from './cli-util.ts';

const USAGE = `usage:
  markbook cohorts match <site.json> <rule.json> [--now <unix seconds>]
  markbook cohorts process <site.json> <rules.json> [--now <unix seconds>] [--out <site.json>]
  markbook cohorts explain <site.json> <rule.json> <userId> [--now <unix seconds>]`;

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} "${file}": ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ValidationError([
      { at: '$', message: `${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
}

function reportValidation(file: string, e: ValidationError): void {
  for (const p of e.problems) process.stderr.write(`${file}: ${p.at}: ${p.message}\n`);
}

function nowOf(args: ReturnType<typeof parseArgs>): number {
  const n = flagNumber(args, 'now');
  if (n === undefined) return Math.floor(Date.now() / 1000);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--now: "${n}" is not unix seconds`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest);
  try {
    if (sub === 'match' || sub === 'explain') {
      const [siteFile, ruleFile, userId] = args.positional;
      if (!siteFile || !ruleFile || (sub === 'explain' && !userId)) throw new UsageError(USAGE);
      const now = nowOf(args);
      let stage = siteFile;
      try {
        const site = parseSiteJson(readJson(siteFile, 'site file'));
        stage = ruleFile;
        const rule = parseRule(readJson(ruleFile, 'rule file'), { defaultEnabled: true });
        const index = new SiteIndex(site);
        const broken = ruleBrokenReason(index, rule, { now });
        if (broken) {
          process.stderr.write(`${ruleFile}: rule is broken: ${broken}\n`);
          return 1;
        }
        if (sub === 'match') printJson(matchingUserIds(index, rule, { now }));
        else if (!index.userPos.has(userId!)) throw new UsageError(`user "${userId}" is not in ${siteFile}`);
        else printJson(explainUser(index, rule, userId!, { now }));
        return 0;
      } catch (e) {
        if (e instanceof ValidationError) {
          reportValidation(stage, e);
          return 1;
        }
        if (e instanceof RuleBrokenError) {
          process.stderr.write(`${ruleFile}: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
    }
    if (sub === 'process') {
      const [siteFile, rulesFile] = args.positional;
      if (!siteFile || !rulesFile) throw new UsageError(USAGE);
      const now = nowOf(args);
      const out = flagString(args, 'out');
      let stage = siteFile;
      try {
        const site = parseSiteJson(readJson(siteFile, 'site file'));
        stage = rulesFile;
        const rules = parseRules(readJson(rulesFile, 'rules file'));
        const index = new SiteIndex(site);
        const result = await processRules(index, rules, { now, trigger: 'markbook cohorts process' });
        for (const b of result.broken)
          process.stderr.write(
            `${rulesFile}: rule "${b.ruleId}" is broken and was not processed: ${b.reason}\n`,
          );
        for (const s of result.skipped) {
          const hint = s.reason === 'disabled' ? ' (rules are disabled unless "enabled": true)' : '';
          process.stderr.write(`${rulesFile}: rule "${s.ruleId}" skipped: ${s.reason}${hint}\n`);
        }
        printJson(result.changes.map((c) => ({ cohortId: c.cohortId, added: c.added, removed: c.removed })));
        if (out) {
          // Write beside the target then rename, so a crash never leaves half a site file.
          const tmp = `${out}.tmp-${process.pid}`;
          writeFileSync(tmp, JSON.stringify(siteToJson(applyChanges(site, result.changes)), null, 2) + '\n');
          renameSync(tmp, out);
        }
        return 0;
      } catch (e) {
        if (e instanceof ValidationError) {
          reportValidation(stage, e);
          return 1;
        }
        throw e;
      }
    }
    throw new UsageError(sub ? `unknown subcommand "${sub}"\n${USAGE}` : USAGE);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`markbook cohorts: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

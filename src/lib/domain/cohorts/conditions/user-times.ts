// Conditions on account times: user_last_login (reads lastaccess) and user_created (COH-C6, COH-C7).
// Follows tool_dynamic_cohorts condition/user_last_login.php and user_created.php. Pure: `now` is injected.

import { formatTime } from '../text.ts';
import { broken, type ConditionType } from './types.ts';
import type { ConfigReader } from './read.ts';

export const PERIOD_UNITS = ['hours', 'days', 'weeks', 'months', 'years'] as const;
export type PeriodUnit = (typeof PERIOD_UNITS)[number];

export interface Period {
  value: number;
  unit: PeriodUnit;
}

/**
 * `now` minus N units, as PHP's strtotime("-N unit") does it in UTC: hours, days and weeks are
 * fixed lengths; months and years are calendar steps whose day overflows into the next month
 * (31 March - 1 month = 3 March), exactly like PHP and JavaScript dates.
 */
export function periodStart(now: number, p: Period): number {
  switch (p.unit) {
    case 'hours':
      return now - p.value * 3600;
    case 'days':
      return now - p.value * 86400;
    case 'weeks':
      return now - p.value * 7 * 86400;
    case 'months': {
      const d = new Date(now * 1000);
      d.setUTCMonth(d.getUTCMonth() - p.value);
      return Math.floor(d.getTime() / 1000);
    }
    case 'years': {
      const d = new Date(now * 1000);
      d.setUTCFullYear(d.getUTCFullYear() - p.value);
      return Math.floor(d.getTime() / 1000);
    }
  }
}

function readPeriod(raw: Record<string, unknown>, r: ConfigReader, at: string): Period | null {
  const o = r.obj(raw, 'period', at);
  if (!o) return null;
  const pat = `${at}.period`;
  r.keys(o, pat, ['value', 'unit']);
  const value = r.optNum(o, 'value', pat) ?? 0;
  if (!Number.isInteger(value) || value < 0)
    r.fail(`${pat}.value`, `must be a whole number >= 0, got ${value}`);
  return { value, unit: r.oneOf(o, 'unit', pat, PERIOD_UNITS) };
}

const LOGIN_OPS = ['ever', 'never', 'before', 'after', 'in_last'] as const;
const CREATED_OPS = ['in_last', 'before', 'after'] as const;

export interface TimeConfig {
  operator: (typeof LOGIN_OPS)[number];
  time: number | null;
  period: Period | null;
}

function timeBroken(c: TimeConfig) {
  if (c.operator === 'in_last' && (!c.period || c.period.value <= 0))
    return broken('period', '"in the last" needs a period of at least 1');
  if ((c.operator === 'before' || c.operator === 'after') && (c.time === null || c.time <= 0))
    return broken('time', `"${c.operator}" needs a time`);
  return null;
}

/**
 * The shared test: 0 means "never", so it matches only "never"; before and after are strict (a
 * value equal to the threshold matches neither); "in the last" is inclusive of its start.
 */
function timeTest(c: TimeConfig, now: number, read: (p: number) => number): (p: number) => boolean {
  switch (c.operator) {
    case 'ever':
      return (p) => read(p) > 0;
    case 'never':
      return (p) => read(p) === 0;
    case 'before': {
      const t = c.time!;
      return (p) => {
        const v = read(p);
        return v > 0 && v < t;
      };
    }
    case 'after': {
      const t = c.time!;
      return (p) => read(p) > t;
    }
    case 'in_last': {
      const start = periodStart(now, c.period!);
      return (p) => {
        const v = read(p);
        return v > 0 && v >= start;
      };
    }
  }
}

function periodText(p: Period | null): string {
  if (!p) return '? units';
  const unit = p.value === 1 ? p.unit.slice(0, -1) : p.unit;
  return `${p.value} ${unit}`;
}

function parseTime(
  raw: Record<string, unknown>,
  r: ConfigReader,
  at: string,
  ops: readonly TimeConfig['operator'][],
): TimeConfig {
  r.keys(raw, at, ['operator', 'time', 'period']);
  const time = r.optNum(raw, 'time', at);
  if (time !== null && (!Number.isInteger(time) || time < 0))
    r.fail(`${at}.time`, `must be unix seconds, got ${time}`);
  return { operator: r.oneOf(raw, 'operator', at, ops), time, period: readPeriod(raw, r, at) };
}

function timeJson(c: TimeConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { operator: c.operator };
  if (c.time !== null) o['time'] = c.time;
  if (c.period) o['period'] = { ...c.period };
  return o;
}

export const userLastLogin: ConditionType<TimeConfig> = {
  type: 'user_last_login',
  label: 'User last login',
  events: ['user_loggedin'],
  parse: (raw, r, at) => parseTime(raw, r, at, LOGIN_OPS),
  broken: timeBroken,
  compile(c, ctx) {
    const users = ctx.index.users;
    // The plugin reads the last-ACCESS time, not last login (tool_dynamic_cohorts user_last_login.php).
    return timeTest(c, ctx.now, (p) => users[p]!.lastaccess);
  },
  describe(c) {
    switch (c.operator) {
      case 'ever':
        return 'Users who have logged in at least once';
      case 'never':
        return 'Users who have never logged in';
      case 'before':
        return `Users who last logged in before ${c.time ? formatTime(c.time) : '?'}`;
      case 'after':
        return `Users who last logged in after ${c.time ? formatTime(c.time) : '?'}`;
      case 'in_last':
        return `Users who have logged in within the last ${periodText(c.period)}`;
    }
  },
  toJson: timeJson,
};

export const userCreated: ConditionType<TimeConfig> = {
  type: 'user_created',
  label: 'User created time',
  events: ['user_created'],
  parse: (raw, r, at) => parseTime(raw, r, at, CREATED_OPS),
  broken: timeBroken,
  compile(c, ctx) {
    const users = ctx.index.users;
    return timeTest(c, ctx.now, (p) => users[p]!.timecreated);
  },
  describe(c) {
    switch (c.operator) {
      case 'before':
        return `Users whose account was created before ${c.time ? formatTime(c.time) : '?'}`;
      case 'after':
        return `Users whose account was created after ${c.time ? formatTime(c.time) : '?'}`;
      default:
        return `Users whose account was created within the last ${periodText(c.period)}`;
    }
  },
  toJson: timeJson,
};

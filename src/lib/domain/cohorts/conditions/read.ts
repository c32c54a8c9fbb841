// Strict reader for condition JSON: unknown keys, wrong types and unknown operators become problems
// addressed by JSON path. Pure; collects every problem instead of stopping at the first.

import { jsonPath, type Problem } from '../../shared/errors.ts';
import { describe } from '../../interchange/site-json.ts';

export class ConfigReader {
  readonly problems: Problem[] = [];
  fail(at: string, message: string): void {
    this.problems.push({ at, message });
  }
  keys(o: Record<string, unknown>, at: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o))
      if (k !== 'type' && !allowed.includes(k))
        this.fail(jsonPath(at, k), `unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
  oneOf<T extends string>(
    o: Record<string, unknown>,
    k: string,
    at: string,
    allowed: readonly T[],
    dflt?: T,
  ): T {
    const v = o[k];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(
        jsonPath(at, k),
        `${v === undefined ? 'is required' : `unknown value ${describe(v)}`}; expected one of ${allowed.join(', ')}`,
      );
      return dflt ?? allowed[0]!;
    }
    return v as T;
  }
  str(o: Record<string, unknown>, k: string, at: string): string {
    const v = o[k];
    if (typeof v !== 'string') {
      this.fail(
        jsonPath(at, k),
        v === undefined ? 'is required (a string)' : `must be a string, got ${describe(v)}`,
      );
      return '';
    }
    return v;
  }
  optStr(o: Record<string, unknown>, k: string, at: string): string | null {
    const v = o[k];
    if (v === undefined || v === null) return null;
    return this.str(o, k, at);
  }
  /** A comparison value: strings and numbers are kept; booleans become 0/1. */
  value(o: Record<string, unknown>, k: string, at: string): string | number | null {
    const v = o[k];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    this.fail(jsonPath(at, k), `must be a string or number, got ${describe(v)}`);
    return null;
  }
  optNum(o: Record<string, unknown>, k: string, at: string): number | null {
    const v = o[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.fail(jsonPath(at, k), `must be a number, got ${describe(v)}`);
      return null;
    }
    return v;
  }
  bool(o: Record<string, unknown>, k: string, at: string): boolean {
    const v = o[k];
    if (v === undefined || v === null) return false;
    if (v === true || v === 1) return true;
    if (v === false || v === 0) return false;
    this.fail(jsonPath(at, k), `must be true or false, got ${describe(v)}`);
    return false;
  }
  ids(o: Record<string, unknown>, k: string, at: string): string[] {
    const v = o[k];
    if (!Array.isArray(v)) {
      this.fail(
        jsonPath(at, k),
        v === undefined ? 'is required (an array of ids)' : `must be an array of ids, got ${describe(v)}`,
      );
      return [];
    }
    const out: string[] = [];
    v.forEach((x, i) => {
      if (typeof x === 'string' && x !== '') out.push(x);
      else this.fail(jsonPath(at, k, i), `must be a non-empty string, got ${describe(x)}`);
    });
    return out;
  }
  obj(o: Record<string, unknown>, k: string, at: string): Record<string, unknown> | null {
    const v = o[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(jsonPath(at, k), `must be an object, got ${describe(v)}`);
      return null;
    }
    return v as Record<string, unknown>;
  }
}

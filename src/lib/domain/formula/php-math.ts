// PHP arithmetic that Moodle's calculator inherits: round(), the integer % operator and pow().
// Pure: plain numbers in, numbers out; throws FormulaError only where PHP itself fails.
import { FormulaError } from './errors.ts';

/** PHP_INT_MAX + 1 on 64-bit builds: floats at or beyond this cannot become PHP integers. */
const PHP_INT_LIMIT = 2 ** 63;

/**
 * [FRM-12] PHP `round($value, $places)`: halves go away from zero, and the rounding is done on the
 * decimal value the number shows (its shortest round-trip decimal form), so `round(1.955, 2)` is
 * 1.96 and `round(5.045, 2)` is 5.05 as PHP documents, although the binary doubles lie just below.
 * `places` may be negative (`round(123.456, -1) = 120`); PHP truncates a fractional `places` to an int.
 */
export function phpRound(value: number, places = 0): number {
  if (!Number.isFinite(places))
    throw new FormulaError('domain', 'round(): the number of decimals must be finite');
  const p = Math.trunc(places);
  if (!Number.isFinite(value) || value === 0) return value;
  const neg = value < 0;
  const fast = roundFast(Math.abs(value), p);
  if (fast !== null) return neg ? -fast : fast;
  // toExponential() with no argument gives as many digits as needed to identify the double uniquely.
  const exp = Math.abs(value).toExponential();
  const ePos = exp.indexOf('e');
  const digits = exp.slice(0, ePos).replace('.', '');
  const e10 = Number(exp.slice(ePos + 1));
  // Digit k of `digits` has place value 10^(e10 - k); we keep the digits with place >= 10^-p.
  const keep = e10 + p + 1;
  if (keep >= digits.length) return value;
  if (keep < 0) return 0;
  let kept = keep === 0 ? 0n : BigInt(digits.slice(0, keep));
  if (digits.charCodeAt(keep) >= 53 /* '5' */) kept += 1n;
  if (kept === 0n) return 0;
  const magnitude = Number(`${kept}e${e10 - keep + 1}`);
  return neg ? -magnitude : magnitude;
}

/** Largest power of ten that is an exact double: beyond it scaling by 10^p is itself inexact. */
const MAX_EXACT_POW10 = 22;
/** How close to a half the scaled fraction may come before we fall back to decimal digits. */
const HALF_MARGIN = 1e-6;
/** A few units in the last place of a double (2^-52 is about 2.2e-16). */
const RELATIVE_ERROR = 1e-15;

/**
 * The common case without strings: scale by 10^p and round when the fraction is clearly not a
 * half; the shortest decimal form then rounds the same way. Returns null when unsure.
 */
function roundFast(mag: number, p: number): number | null {
  if (p > MAX_EXACT_POW10 || p < -MAX_EXACT_POW10) return null;
  const f = 10 ** Math.abs(p);
  const scaled = p >= 0 ? mag * f : mag / f;
  if (scaled >= Number.MAX_SAFE_INTEGER / 2) return null;
  const whole = Math.floor(scaled);
  const frac = scaled - whole;
  // Scaling and the double itself are off from the decimal by a few ulps of `scaled`.
  if (Math.abs(frac - 0.5) < HALF_MARGIN + scaled * RELATIVE_ERROR) return null;
  const r = frac > 0.5 ? whole + 1 : whole;
  return p >= 0 ? r / f : r * f;
}

/** PHP's float-to-int conversion for an operand of `%`: truncation toward zero. */
function toPhpInt(x: number, what: string, position: number | null): number {
  if (!Number.isFinite(x) || Math.abs(x) >= PHP_INT_LIMIT) {
    throw new FormulaError('domain', `${what}: ${x} is outside PHP's integer range`, position);
  }
  return Math.trunc(x);
}

/**
 * [FRM-11] PHP integer modulo (`$a % $b`, used by `mod()` and the `%` operator): both operands are
 * truncated to integers, the result takes the sign of the dividend, and a zero divisor is an error
 * (PHP 8 throws DivisionByZeroError "Modulo by zero").
 */
export function phpMod(a: number, b: number, position: number | null = null): number {
  const ia = toPhpInt(a, 'modulo', position);
  const ib = toPhpInt(b, 'modulo', position);
  if (ib === 0) throw new FormulaError('division_by_zero', 'modulo by zero', position);
  return (ia % ib) + 0; // `+ 0` turns JavaScript's -0 into PHP's 0
}

/**
 * [FRM-10] PHP `pow()` / `^`: C's pow, which differs from Math.pow only where the base is 1
 * (always 1) or -1 with an infinite exponent (1).
 */
export function phpPow(base: number, exponent: number): number {
  if (base === 1) return 1;
  if (base === -1 && (exponent === Infinity || exponent === -Infinity)) return 1;
  return Math.pow(base, exponent);
}

// Password hashing (scrypt) and signed access tokens (HMAC-SHA256, JWT compact form) for the sync server.
// Never logs or stores a password or a token in clear; never accepts a token whose signature, type or expiry is wrong.
import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

/** scrypt cost: N=2^14, r=8, p=1 is the common interactive-login setting (~16 MiB, tens of ms). */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 32 };

function scrypt(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keyLen: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keyLen, { N, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (salt and hash base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keyLen);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(s);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (!isPasswordHash(stored)) return false;
  const [, n, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash!, 'base64');
  const key = await scrypt(
    password,
    Buffer.from(salt!, 'base64'),
    Number(n),
    Number(r),
    Number(p),
    expected.length,
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A password the server accepts: 8-1024 characters. */
export function passwordProblem(password: unknown): string | null {
  if (typeof password !== 'string') return 'must be a string';
  if (password.length < 8) return 'must be at least 8 characters';
  if (password.length > 1024) return 'must be at most 1024 characters';
  return null;
}

export interface AccessClaims {
  /** user id */
  sub: string;
  /** session id: signing out or a password change ends the session and every token of it */
  sid: string;
  /** unix seconds */
  iat: number;
  /** unix seconds */
  exp: number;
  typ: 'access';
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function signAccessToken(claims: AccessClaims, secret: string): string {
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  const sig = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${sig}`;
}

export type TokenCheck =
  { ok: true; claims: AccessClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

/** Checks signature, shape and expiry (`nowSec`). Does not check that the session still exists. */
export function verifyAccessToken(token: string, secret: string, nowSec: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature' };
  let c: Partial<AccessClaims>;
  try {
    c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<AccessClaims>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    c.typ !== 'access' ||
    typeof c.sub !== 'string' ||
    typeof c.sid !== 'string' ||
    typeof c.exp !== 'number'
  )
    return { ok: false, reason: 'malformed' };
  if (c.exp <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, claims: c as AccessClaims };
}

/** Reads a token's claims without checking anything: for a token already verified (its expiry), tests and logs. */
export function peekClaims(token: string): AccessClaims | null {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as AccessClaims;
  } catch {
    return null;
  }
}

/** A refresh token: `<sessionId>.<secret>`; only the sha256 of the whole token is stored. */
export function newRefreshToken(sessionId: string): string {
  return `${sessionId}.${randomBytes(32).toString('base64url')}`;
}

export function newSessionId(): string {
  return randomBytes(12).toString('base64url');
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

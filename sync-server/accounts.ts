// Sign-in, token refresh, sign-out and password changes over the store: the account side of the sync server.
// Never returns or stores a password; never issues a token for a session that has ended.
import {
  hashPassword,
  newRefreshToken,
  newSessionId,
  passwordProblem,
  sha256Hex,
  signAccessToken,
  verifyAccessToken,
  verifyPassword,
} from './auth.ts';
import type { Account } from './store.ts';
import type { AuthStore } from './shared-auth.ts';
import {
  roleCapabilities,
  type Capability,
  type CourseRole,
  type SiteRole,
} from '../src/lib/domain/shared/capabilities.ts';

export interface AuthConfig {
  secret: string;
  accessTtlSec: number;
  refreshTtlSec: number;
  /** unix ms */
  now: () => number;
}

export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  siteRole: SiteRole;
  courses: Array<{ courseId: string; role: CourseRole; capabilities: Capability[]; name?: string }>;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** seconds until the access token expires */
  expiresIn: number;
  user: PublicUser;
}

/** An HTTP-facing failure: status, message and the request field at fault. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly at?: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface Principal {
  account: Account;
  sessionId: string;
}

export class Accounts {
  constructor(
    private readonly store: AuthStore,
    private readonly cfg: AuthConfig,
  ) {}

  async publicUser(a: Account): Promise<PublicUser> {
    const names = await this.store.listCourses();
    const assigned = await this.store.listUserCourses(a.userId);
    // Site admins and managers act as managers in every course (capabilities.ts effectiveCourseRole).
    const list: Array<{ courseId: string; role: CourseRole }> =
      a.siteRole === 'admin' || a.siteRole === 'manager'
        ? [...new Set([...names.keys(), ...assigned.map((c) => c.courseId)])]
            .sort()
            .map((courseId) => ({ courseId, role: 'manager' }))
        : assigned;
    const courses = list.map((c) => ({
      courseId: c.courseId,
      role: c.role,
      capabilities: roleCapabilities(c.role),
      ...(names.has(c.courseId) ? { name: names.get(c.courseId)! } : {}),
    }));
    return { id: a.userId, username: a.username, displayName: a.displayName, siteRole: a.siteRole, courses };
  }

  private async issue(a: Account, sessionId: string, createdAt: number): Promise<TokenPair> {
    const nowMs = this.cfg.now();
    const nowSec = Math.floor(nowMs / 1000);
    const refreshToken = newRefreshToken(sessionId);
    await this.store.putSession({
      sessionId,
      userId: a.userId,
      refreshHash: sha256Hex(refreshToken),
      createdAt,
      expiresAt: nowMs + this.cfg.refreshTtlSec * 1000,
    });
    const accessToken = signAccessToken(
      { sub: a.userId, sid: sessionId, iat: nowSec, exp: nowSec + this.cfg.accessTtlSec, typ: 'access' },
      this.cfg.secret,
    );
    return { accessToken, refreshToken, expiresIn: this.cfg.accessTtlSec, user: await this.publicUser(a) };
  }

  async login(username: unknown, password: unknown): Promise<TokenPair> {
    if (typeof username !== 'string' || username === '')
      throw new AuthError(400, 'username is required', 'username');
    if (typeof password !== 'string' || password === '')
      throw new AuthError(400, 'password is required', 'password');
    const a = await this.store.findAccountByUsername(username);
    // Verify against a dummy hash when the user is unknown, so timing does not reveal which usernames exist.
    const ok = await verifyPassword(password, a?.passwordHash ?? DUMMY_HASH);
    if (!a || !ok) throw new AuthError(401, 'wrong username or password');
    if (a.suspended) throw new AuthError(403, 'this account is suspended');
    return this.issue(a, newSessionId(), this.cfg.now());
  }

  /** Rotates a refresh token. Presenting an already-rotated token ends the session (it may have been stolen). */
  async refresh(refreshToken: unknown): Promise<TokenPair> {
    if (typeof refreshToken !== 'string' || !refreshToken.includes('.'))
      throw new AuthError(400, 'refreshToken is required', 'refreshToken');
    const sessionId = refreshToken.slice(0, refreshToken.indexOf('.'));
    const s = await this.store.getSession(sessionId);
    if (!s) throw new AuthError(401, 'session has ended; sign in again');
    if (s.refreshHash !== sha256Hex(refreshToken)) {
      await this.store.deleteSession(sessionId);
      throw new AuthError(401, 'refresh token was already used; session ended, sign in again');
    }
    if (s.expiresAt <= this.cfg.now()) {
      await this.store.deleteSession(sessionId);
      throw new AuthError(401, 'session has expired; sign in again');
    }
    const a = await this.store.getAccount(s.userId);
    if (!a || a.suspended)
      throw new AuthError(401, a ? 'this account is suspended' : 'account no longer exists');
    return this.issue(a, sessionId, s.createdAt);
  }

  /** Resolves a bearer access token to its account and live session, or throws 401 with the reason. */
  async authenticate(accessToken: string | null | undefined): Promise<Principal> {
    if (!accessToken) throw new AuthError(401, 'no access token');
    const r = verifyAccessToken(accessToken, this.cfg.secret, Math.floor(this.cfg.now() / 1000));
    if (!r.ok)
      throw new AuthError(401, `access token ${r.reason === 'expired' ? 'has expired' : 'is invalid'}`);
    const s = await this.store.getSession(r.claims.sid);
    if (!s || s.userId !== r.claims.sub) throw new AuthError(401, 'session has ended; sign in again');
    const a = await this.store.getAccount(r.claims.sub);
    if (!a) throw new AuthError(401, 'account no longer exists');
    if (a.suspended) throw new AuthError(401, 'this account is suspended');
    return { account: a, sessionId: s.sessionId };
  }

  async logout(sessionId: string): Promise<void> {
    await this.store.deleteSession(sessionId);
  }

  /** Own password change: needs the current password; ends every other session. Returns the ended session ids. */
  async changePassword(p: Principal, current: unknown, next: unknown): Promise<string[]> {
    if (typeof current !== 'string')
      throw new AuthError(400, 'currentPassword is required', 'currentPassword');
    const problem = passwordProblem(next);
    if (problem) throw new AuthError(400, `newPassword ${problem}`, 'newPassword');
    if (!(await verifyPassword(current, p.account.passwordHash)))
      throw new AuthError(403, 'current password is wrong', 'currentPassword');
    await this.store.putAccounts([{ ...p.account, passwordHash: await hashPassword(next as string) }]);
    return this.store.deleteUserSessions(p.account.userId, p.sessionId);
  }

  /** Admin reset: only site admins and managers; ends every session of the target user. */
  async resetPassword(admin: Principal, userId: string, next: unknown): Promise<string[]> {
    if (admin.account.siteRole !== 'admin' && admin.account.siteRole !== 'manager')
      throw new AuthError(403, 'only a site admin or manager can reset passwords');
    const problem = passwordProblem(next);
    if (problem) throw new AuthError(400, `newPassword ${problem}`, 'newPassword');
    const target = await this.store.getAccount(userId);
    if (!target) throw new AuthError(404, `no user with id "${userId}"`, 'userId');
    if (target.siteRole === 'admin' && admin.account.siteRole !== 'admin')
      throw new AuthError(403, 'a manager cannot reset an admin password');
    await this.store.putAccounts([{ ...target, passwordHash: await hashPassword(next as string) }]);
    return this.store.deleteUserSessions(userId);
  }
}

/** A valid scrypt hash of a random string nobody knows (used only to equalise timing). */
const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$W6wXkCWZ7Qd6lq0m2hJ4qN7n9t6rF0Y3nq2r1x8Jc5A=';

// Accounts and sessions shared through Redis when several instances serve one site, so a token issued by one
// instance works on all and a sign-out or password change anywhere takes effect everywhere.
// The local store stays the durable copy of accounts; Redis only holds sessions and account changes.
import type { Redis } from 'ioredis';
import type { Account, Session, Store } from './store.ts';

/** What Accounts needs from storage: the local Store satisfies it, and so does SharedAuthStore. */
export type AuthStore = Pick<
  Store,
  | 'getSession'
  | 'putSession'
  | 'deleteSession'
  | 'deleteUserSessions'
  | 'getAccount'
  | 'findAccountByUsername'
  | 'putAccounts'
  | 'listCourses'
  | 'listUserCourses'
>;

const SESSION = 'markbook:session:';
const USER_SESSIONS = 'markbook:user-sessions:';
const ACCOUNTS = 'markbook:accounts';
const USERNAMES = 'markbook:usernames';

export class SharedAuthStore implements AuthStore {
  constructor(
    private readonly local: Store,
    private readonly redis: Redis,
    private readonly now: () => number,
  ) {}

  async getSession(sessionId: string): Promise<Session | undefined> {
    const v = await this.redis.get(SESSION + sessionId);
    return v === null ? undefined : (JSON.parse(v) as Session);
  }

  async putSession(s: Session): Promise<void> {
    const ttl = Math.max(1, s.expiresAt - this.now());
    await this.redis
      .multi()
      .set(SESSION + s.sessionId, JSON.stringify(s), 'PX', ttl)
      .sadd(USER_SESSIONS + s.userId, s.sessionId)
      .exec();
  }

  async deleteSession(sessionId: string): Promise<void> {
    const s = await this.getSession(sessionId);
    const m = this.redis.multi().del(SESSION + sessionId);
    if (s) m.srem(USER_SESSIONS + s.userId, sessionId);
    await m.exec();
  }

  async deleteUserSessions(userId: string, keep?: string): Promise<string[]> {
    const ids = (await this.redis.smembers(USER_SESSIONS + userId)).filter((id) => id !== keep);
    if (ids.length)
      await this.redis
        .multi()
        .del(...ids.map((id) => SESSION + id))
        .srem(USER_SESSIONS + userId, ...ids)
        .exec();
    return ids;
  }

  async getAccount(userId: string): Promise<Account | undefined> {
    const v = await this.redis.hget(ACCOUNTS, userId);
    return v === null ? this.local.getAccount(userId) : (JSON.parse(v) as Account);
  }

  async findAccountByUsername(username: string): Promise<Account | undefined> {
    const id = await this.redis.hget(USERNAMES, username.toLowerCase());
    if (id === null) return this.local.findAccountByUsername(username);
    const a = await this.getAccount(id);
    // A renamed account keeps its old name in the Redis index; only the current name finds it.
    return a && a.username.toLowerCase() === username.toLowerCase() ? a : undefined;
  }

  /** Writes the local store (durable) and Redis (seen by every instance at once). */
  async putAccounts(accounts: readonly Account[]): Promise<void> {
    await this.local.putAccounts(accounts);
    if (accounts.length === 0) return;
    const m = this.redis.multi();
    for (const a of accounts)
      m.hset(ACCOUNTS, a.userId, JSON.stringify(a)).hset(USERNAMES, a.username.toLowerCase(), a.userId);
    await m.exec();
  }

  listCourses(): ReturnType<Store['listCourses']> {
    return this.local.listCourses();
  }

  listUserCourses(userId: string): ReturnType<Store['listUserCourses']> {
    return this.local.listUserCourses(userId);
  }
}

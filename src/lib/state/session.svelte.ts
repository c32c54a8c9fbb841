// The signed-in person, their tokens and the sync server address, kept in IndexedDB so the app
// works offline with the last data. View state only: storage goes through persistence/.
import { database, type SessionUser } from '../persistence/db';
import { login, logout, refresh } from '../sync/auth-client';

async function loadSyncUrl(): Promise<string> {
  const db = database();
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) {
      const cfg = (await res.json()) as { syncUrl?: string };
      if (cfg.syncUrl) {
        await db.prefs.put({ key: 'syncUrl', value: cfg.syncUrl });
        return cfg.syncUrl;
      }
    }
  } catch {
    /* offline: use the last known address */
  }
  const saved = await db.prefs.get('syncUrl');
  if (typeof saved?.value === 'string') return saved.value;
  return `ws://${location.hostname}:4174`;
}

export class SessionState {
  user = $state<SessionUser | null>(null);
  syncUrl = $state('');
  ready = $state(false);
  error = $state<string | null>(null);
  private accessToken: string | null = null;
  private refreshToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  /** Called first on sign-out (the open courses close their connections). */
  onSignOut: (() => void) | null = null;

  async init(): Promise<void> {
    this.syncUrl = await loadSyncUrl();
    const row = await database().session.get('current');
    if (row) {
      this.user = row.user;
      this.accessToken = row.accessToken;
      this.refreshToken = row.refreshToken;
    }
    this.ready = true;
  }

  token(): string | null {
    return this.accessToken;
  }

  async signIn(username: string, password: string): Promise<void> {
    this.error = null;
    const r = await login(this.syncUrl, username, password);
    await this.store(r.user, r.accessToken, r.refreshToken);
  }

  /**
   * Gets a new access token with the refresh token; false when the server refused it. Tabs of one device share
   * one session and the server rotates refresh tokens (presenting a used one ends the session as stolen), so
   * refreshing is serialised across tabs by a Web Lock: a tab that finds the stored tokens already rotated by
   * another tab adopts them instead of presenting its spent refresh token.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      try {
        const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
        return locks ? await locks.request('markbook:token-refresh', () => this.refreshNow()) : await this.refreshNow();
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async refreshNow(): Promise<boolean> {
    const spent = this.refreshToken;
    const row = await database().session.get('current');
    if (!row) {
      // signed out in another tab meanwhile
      this.user = null;
      this.accessToken = this.refreshToken = null;
      return false;
    }
    if (row.refreshToken !== spent) {
      this.user = row.user;
      this.accessToken = row.accessToken;
      this.refreshToken = row.refreshToken;
      return true;
    }
    if (!spent) return false;
    try {
      const r = await refresh(this.syncUrl, spent);
      await this.store(r.user, r.accessToken, r.refreshToken);
      return true;
    } catch {
      return false;
    }
  }

  /** Forgets the tokens on this device; the local data stays for the next sign-in. */
  async signOut(): Promise<void> {
    this.onSignOut?.();
    if (this.refreshToken) await logout(this.syncUrl, this.refreshToken);
    await database().session.delete('current');
    this.user = null;
    this.accessToken = this.refreshToken = null;
  }

  can(courseId: string, capability: string): boolean {
    return this.user?.courses.find((c) => c.courseId === courseId)?.capabilities.includes(capability) ?? false;
  }

  private async store(user: SessionUser, accessToken: string, refreshToken: string): Promise<void> {
    this.user = user;
    this.accessToken = accessToken;
    this.refreshToken = refreshToken;
    await database().session.put({ key: 'current', user, accessToken, refreshToken, syncUrl: this.syncUrl, savedAt: Date.now() });
  }
}

export const session = new SessionState();

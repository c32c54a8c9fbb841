// Talks to the sync server's sign-in endpoints (/auth/*). Returns typed results; throws errors whose
// message a person can act on ("wrong username or password", "server unreachable").
import type { SessionUser } from '../persistence/db';

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
}

/** ws://host:port -> http://host:port (the server answers HTTP and websockets on one port). */
export function httpBase(syncUrl: string): string {
  return syncUrl.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');
}

async function post<T>(syncUrl: string, path: string, body: unknown, token?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${httpBase(syncUrl)}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error('The sync server cannot be reached. Check the network, or keep working offline.');
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const msg = (data as { error?: string } | null)?.error;
    throw new Error(msg ?? (res.status === 401 ? 'Wrong username or password.' : `The server answered ${res.status}.`));
  }
  return data as T;
}

export function login(syncUrl: string, username: string, password: string): Promise<LoginResult> {
  return post<LoginResult>(syncUrl, '/auth/login', { username, password });
}

export function refresh(syncUrl: string, refreshToken: string): Promise<LoginResult> {
  return post<LoginResult>(syncUrl, '/auth/refresh', { refreshToken });
}

export async function logout(syncUrl: string, refreshToken: string): Promise<void> {
  await post<unknown>(syncUrl, '/auth/logout', { refreshToken }).catch(() => undefined);
}

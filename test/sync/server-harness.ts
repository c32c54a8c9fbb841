// Test harness for the sync-server tests: a seeded server in a temp dir, sign-in, raw and y-websocket clients.
// Starts only real servers on 127.0.0.1; never mocks the network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { startSyncServer, type SeedData, type SyncServerOptions } from '../../sync-server/server.ts';
import { RoomConnection, type RoomConnectionOptions } from '../../src/lib/sync/room-connection.ts';
import { hashPassword } from '../../sync-server/auth.ts';

export const PASSWORD = 'correct horse battery';

let cachedHash: string | null = null;
/** One scrypt hash shared by every seeded account (hashing each costs tens of ms). */
export async function passwordHash(): Promise<string> {
  return (cachedHash ??= await hashPassword(PASSWORD));
}

/** Site: admin; course c1: t1 editing, nt non-editing, s1 s2 students; course c2: t2 editing, s3 student. */
export async function demoSeed(extraDocs: SeedData['docs'] = []): Promise<SeedData> {
  const h = await passwordHash();
  const acc = (userId: string, siteRole: 'admin' | null = null) => ({
    userId,
    username: userId,
    password: h,
    siteRole,
    displayName: userId.toUpperCase(),
  });
  return {
    accounts: [acc('admin', 'admin'), acc('t1'), acc('nt'), acc('s1'), acc('s2'), acc('t2'), acc('s3')],
    courseRoles: [
      { userId: 't1', courseId: 'c1', role: 'editingteacher' },
      { userId: 'nt', courseId: 'c1', role: 'teacher' },
      { userId: 's1', courseId: 'c1', role: 'student' },
      { userId: 's2', courseId: 'c1', role: 'student' },
      { userId: 't2', courseId: 'c2', role: 'editingteacher' },
      { userId: 's3', courseId: 'c2', role: 'student' },
    ],
    courses: [
      { id: 'c1', name: 'Course One' },
      { id: 'c2', name: 'Course Two' },
    ],
    docs: extraDocs,
  };
}

export function tempDir(prefix = 'mb-sync-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface TestServer {
  url: string;
  http: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(
  over: Partial<SyncServerOptions> = {},
  seed?: SeedData,
): Promise<TestServer> {
  const dataDir = over.dataDir ?? tempDir();
  const s = await startSyncServer({ port: 0, dataDir, seed: seed ?? (await demoSeed()), ...over });
  return { url: s.url, http: s.url.replace('ws://', 'http://'), port: s.port, dataDir, close: s.close };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are inspected loosely in tests
type Json = any;

export async function post(
  http: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(http + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function login(
  http: string,
  username: string,
  password = PASSWORD,
): Promise<{ accessToken: string; refreshToken: string; user: Json }> {
  const r = await post(http, '/auth/login', { username, password });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A raw websocket that records every frame and the close code. */
export interface RawClient {
  ws: WebSocket;
  frames: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
}

export function rawClient(url: string, room: string, token?: string): RawClient {
  const ws = new WebSocket(
    `${url}/${room}${token !== undefined ? `?token=${encodeURIComponent(token)}` : ''}`,
  );
  const frames: Buffer[] = [];
  ws.on('message', (d: Buffer) => frames.push(Buffer.from(d)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  return { ws, frames, closed, opened };
}

export interface YClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  synced: Promise<void>;
  closedCode: Promise<number>;
  destroy(): void;
}

export function yClient(url: string, room: string, token: string): YClient {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true,
    maxBackoffTime: 200,
  });
  const synced = new Promise<void>((resolve) => {
    if (provider.synced) resolve();
    provider.on('sync', (s: boolean) => s && resolve());
  });
  const closedCode = new Promise<number>((resolve) =>
    provider.on('connection-close', (e: { code: number } | null) => e && resolve(e.code)),
  );
  return {
    doc,
    provider,
    synced,
    closedCode,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Polls `cond` every 10 ms until true or `ms` pass (then throws with `what`). */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function grades(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('grades');
}

/**
 * A device's connection to a room as the app makes it (RoomConnection): signed in as `username`, refreshing its
 * tokens when the server closes the socket with 4401. Records the close codes and counts the refreshes.
 */
export async function appConnection(
  s: TestServer,
  username: string,
  room: string,
  extra: Partial<RoomConnectionOptions> = {},
): Promise<{ doc: Y.Doc; conn: RoomConnection; closes: number[]; refreshes(): number }> {
  let tokens = await login(s.http, username);
  let refreshes = 0;
  const closes: number[] = [];
  const doc = new Y.Doc();
  const conn = new RoomConnection({
    serverUrl: s.url,
    room,
    doc,
    getToken: () => tokens.accessToken,
    refreshToken: async () => {
      const r = await post(s.http, '/auth/refresh', { refreshToken: tokens.refreshToken });
      if (r.status !== 200) return false;
      tokens = r.body;
      refreshes++;
      return true;
    },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    random: () => 0.5,
    ...extra,
  });
  conn.provider.on('connection-close', (e: { code: number } | null) => {
    if (e) closes.push(e.code);
  });
  return { doc, conn, closes, refreshes: () => refreshes };
}

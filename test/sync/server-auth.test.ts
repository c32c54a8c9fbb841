// Sign-in, tokens and per-room authorisation against a real server: no token, a forged token or an expired one
// gets no byte of any document; roles get exactly the access SPEC.md gives them (AUTH-*, AUTHZ-*, OPS-4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import {
  login,
  post,
  rawClient,
  removeDir,
  startTestServer,
  until,
  yClient,
  type TestServer,
  type YClient,
} from './server-harness.ts';
import { peekClaims, signAccessToken } from '../../sync-server/auth.ts';

const SECRET = 'test-secret-for-forging-checks';
let s: TestServer;
const open: YClient[] = [];

beforeAll(async () => {
  s = await startTestServer({ tokenSecret: SECRET });
});
afterAll(async () => {
  for (const c of open) c.destroy();
  await s.close();
  removeDir(s.dataDir);
});

function client(room: string, token: string): YClient {
  const c = yClient(s.url, room, token);
  open.push(c);
  return c;
}

/** A y-websocket sync step 1 with an empty state vector: "send me everything". */
function step1(): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
  return encoding.toUint8Array(e);
}

/** Connects raw, asks for the whole document at once, and returns the close code and every byte received. */
async function probe(room: string, token?: string): Promise<{ code: number; bytes: number }> {
  const c = rawClient(s.url, room, token);
  await c.opened;
  c.ws.send(step1());
  const { code } = await c.closed;
  return { code, bytes: c.frames.reduce((n, f) => n + f.length, 0) };
}

async function seedCourseWithGrades(): Promise<void> {
  const { accessToken } = await login(s.http, 't1');
  const t = client('course/c1', accessToken);
  await t.synced;
  t.doc.getMap('grades').set('s1|q1', 'SECRET-GRADE-S1');
  t.doc.getMap('grades').set('s2|q1', 'SECRET-GRADE-S2');
  const check = client('course/c1', accessToken);
  await until(() => check.doc.getMap('grades').size === 2, 'grades stored');
}

describe('sign-in and tokens', () => {
  beforeAll(seedCourseWithGrades);

  it('[AUTH-2] sign-in answers tokens and the user with course roles and capabilities', async () => {
    const r = await login(s.http, 'nt');
    expect(r.user).toEqual({
      id: 'nt',
      username: 'nt',
      displayName: 'NT',
      siteRole: null,
      courses: [
        {
          courseId: 'c1',
          role: 'teacher',
          name: 'Course One',
          capabilities: ['grade:viewall', 'grade:viewhidden', 'grade:export', 'analytics:listinsights'],
        },
      ],
    });
    expect(peekClaims(r.accessToken)).toMatchObject({ sub: 'nt', typ: 'access' });
    expect((await post(s.http, '/auth/login', { username: 'nt', password: 'wrong password' })).status).toBe(
      401,
    );
    expect((await post(s.http, '/auth/login', { username: 'nobody', password: 'whatever1' })).status).toBe(
      401,
    );
    const bad = await post(s.http, '/auth/login', { username: 'nt' });
    expect(bad).toMatchObject({ status: 400, body: { at: 'password' } });
  });

  it('[AUTHZ-1] no token, a forged token, a malformed token and an expired token get no byte of any document', async () => {
    const real = await login(s.http, 't1');
    const claims = peekClaims(real.accessToken)!;
    const forged = signAccessToken({ ...claims, exp: claims.exp + 3600 }, 'not-the-secret');
    const expired = signAccessToken({ ...claims, iat: claims.iat - 7200, exp: claims.iat - 3600 }, SECRET);
    const otherUser = real.accessToken.split('.');
    otherUser[1] = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    for (const room of ['course/c1', 'site', 'student/c1/s1']) {
      for (const token of [undefined, '', forged, expired, 'abc.def.ghi', otherUser.join('.')]) {
        const r = await probe(room, token);
        expect({ room, token, ...r }).toEqual({ room, token, code: 4401, bytes: 0 });
      }
    }
    // The same token with a valid signature does get the document (the probe itself can succeed).
    const ok = rawClient(s.url, 'course/c1', real.accessToken);
    await ok.opened;
    ok.ws.send(step1());
    await until(
      () => Buffer.concat(ok.frames).includes('SECRET-GRADE-S2'),
      'the real token receives the grades',
    );
    ok.ws.close();
  });

  it('[AUTH-3] refresh rotates the token; replaying a rotated token ends the session', async () => {
    const first = await login(s.http, 't2');
    const second = await post(s.http, '/auth/refresh', { refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect(second.body.user.id).toBe('t2');
    const replay = await post(s.http, '/auth/refresh', { refreshToken: first.refreshToken });
    expect(replay.status).toBe(401);
    // The whole session is gone, so even the newest refresh token and its access token stop working.
    expect((await post(s.http, '/auth/refresh', { refreshToken: second.body.refreshToken })).status).toBe(
      401,
    );
    expect((await probe('course/c2', second.body.accessToken)).code).toBe(4401);
  });

  it('[AUTH-4] sign-out forgets the session and closes its sockets', async () => {
    const me = await login(s.http, 't1');
    const c = client('course/c1', me.accessToken);
    await c.synced;
    expect((await post(s.http, '/auth/logout', { refreshToken: me.refreshToken })).status).toBe(200);
    expect(await c.closedCode).toBe(4401);
    expect((await post(s.http, '/auth/refresh', { refreshToken: me.refreshToken })).status).toBe(401);
    expect((await probe('course/c1', me.accessToken)).code).toBe(4401);
  });

  it('[AUTH-5] own password change ends other sessions; admin reset ends all; others cannot reset', async () => {
    const a = await login(s.http, 's3');
    const b = await login(s.http, 's3');
    const sock = client('student/c2/s3', b.accessToken);
    await sock.synced;
    const wrong = await post(
      s.http,
      '/auth/password',
      { currentPassword: 'nope', newPassword: 'another pass 1' },
      a.accessToken,
    );
    expect(wrong).toMatchObject({ status: 403, body: { at: 'currentPassword' } });
    const short = await post(
      s.http,
      '/auth/password',
      { currentPassword: 'correct horse battery', newPassword: 'short' },
      a.accessToken,
    );
    expect(short).toMatchObject({ status: 400, body: { at: 'newPassword' } });
    const ok = await post(
      s.http,
      '/auth/password',
      { currentPassword: 'correct horse battery', newPassword: 'another pass 1' },
      a.accessToken,
    );
    expect(ok.status).toBe(200);
    expect(await sock.closedCode).toBe(4401);
    expect(
      (await post(s.http, '/auth/login', { username: 's3', password: 'correct horse battery' })).status,
    ).toBe(401);
    expect((await login(s.http, 's3', 'another pass 1')).user.id).toBe('s3');
    expect((await post(s.http, '/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(200);

    const t = await login(s.http, 't2');
    expect(
      (await post(s.http, '/admin/users/s3/password', { newPassword: 'reset by t2!' }, t.accessToken)).status,
    ).toBe(403);
    const admin = await login(s.http, 'admin');
    expect(
      (await post(s.http, '/admin/users/s3/password', { newPassword: 'reset by admin' }, admin.accessToken))
        .status,
    ).toBe(200);
    expect((await post(s.http, '/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(401);
    expect((await login(s.http, 's3', 'reset by admin')).user.id).toBe('s3');
    expect(
      (await post(s.http, '/admin/users/ghost/password', { newPassword: 'whatever12' }, admin.accessToken))
        .status,
    ).toBe(404);
  });

  it('[OPS-4] the audit log records sign-ins, failures and refused connections; only admins read it', async () => {
    const admin = await login(s.http, 'admin');
    const r = await fetch(`${s.http}/admin/audit`, {
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
    const { entries } = (await r.json()) as { entries: Array<{ event: string; username?: string }> };
    const events = new Set(entries.map((e) => e.event));
    for (const e of [
      'login',
      'login_failed',
      'connect_denied',
      'logout',
      'password_change',
      'password_reset',
    ])
      expect(events).toContain(e);
    const t = await login(s.http, 't1');
    expect(
      (await fetch(`${s.http}/admin/audit`, { headers: { authorization: `Bearer ${t.accessToken}` } }))
        .status,
    ).toBe(403);
  });
});

describe('per-room authorisation', () => {
  it('[AUTHZ-2] students and non-members are refused course documents without receiving a byte', async () => {
    for (const who of ['s1', 's2', 't2']) {
      const { accessToken } = await login(s.http, who);
      expect(await probe('course/c1', accessToken)).toEqual({ code: 4403, bytes: 0 });
    }
  });

  it('[AUTHZ-3] a non-editing teacher reads, cannot change anything, and is told', async () => {
    const t = await login(s.http, 't1');
    const n = await login(s.http, 'nt');
    const editor = client('course/c1', t.accessToken);
    const viewer = client('course/c1', n.accessToken);
    await Promise.all([editor.synced, viewer.synced]);
    expect(viewer.doc.getMap('grades').get('s1|q1')).toBe('SECRET-GRADE-S1');
    const denied: string[] = [];
    viewer.provider.ws!.addEventListener('message', (ev: { data: unknown }) => {
      const b = Buffer.from(ev.data as ArrayBuffer);
      if (b[0] === 2) denied.push(b.toString('utf8'));
    });
    viewer.doc.getMap('grades').set('s1|q1', 'CHANGED-BY-VIEWER');
    viewer.doc.getMap('settings').set('locked', true);
    await until(() => denied.length > 0, 'permission denied message');
    expect(denied[0]).toContain('read-only');
    // The editor's later change still reaches the viewer (still connected), the viewer's never reaches anyone.
    editor.doc.getMap('grades').set('s2|q1', 'EDITOR-AFTER');
    await until(() => viewer.doc.getMap('grades').get('s2|q1') === 'EDITOR-AFTER', 'viewer still receives');
    const fresh = client('course/c1', t.accessToken);
    await fresh.synced;
    expect(fresh.doc.getMap('grades').get('s1|q1')).toBe('SECRET-GRADE-S1');
    expect(fresh.doc.getMap('settings').get('locked')).toBeUndefined();
    expect(editor.doc.getMap('grades').get('s1|q1')).toBe('SECRET-GRADE-S1');
  });

  it('[AUTHZ-5] projections: only the student and course staff read them, nobody writes them; site is for site admins', async () => {
    const s1 = await login(s.http, 's1');
    const s2 = await login(s.http, 's2');
    const nt = await login(s.http, 'nt');
    const t2 = await login(s.http, 't2');
    expect((await probe('student/c1/s1', s2.accessToken)).code).toBe(4403);
    expect((await probe('student/c1/s1', t2.accessToken)).code).toBe(4403);
    expect((await probe('site', s1.accessToken)).code).toBe(4403);
    const own = client('student/c1/s1', s1.accessToken);
    const staff = client('student/c1/s1', nt.accessToken);
    await Promise.all([own.synced, staff.synced]);
    const denied: string[] = [];
    own.provider.ws!.addEventListener('message', (ev: { data: unknown }) => {
      const b = Buffer.from(ev.data as ArrayBuffer);
      if (b[0] === 2) denied.push(b.toString('utf8'));
    });
    own.doc.getMap('grades').set('q1', 100);
    await until(() => denied.length > 0, 'student write refused');
    expect(denied[0]).toContain('read-only');
    // The site directory holds every course's quiz grades: teachers of one course do not read it.
    expect((await probe('site', nt.accessToken)).code).toBe(4403);
    const admin = client('site', (await login(s.http, 'admin')).accessToken);
    await admin.synced;
  });
});

describe('sign-in throttling', () => {
  it('[AUTH-6] ten failed sign-ins for one username answer 429, even with the right password', async () => {
    for (let i = 0; i < 10; i++)
      expect((await post(s.http, '/auth/login', { username: 's2', password: `guess ${i}` })).status).toBe(
        401,
      );
    expect(
      (await post(s.http, '/auth/login', { username: 's2', password: 'correct horse battery' })).status,
    ).toBe(429);
    expect(
      (await post(s.http, '/auth/login', { username: 's1', password: 'correct horse battery' })).status,
    ).toBe(200);
  });
});

// The site directory drives accounts and course roles on a real server: a role given in the site room takes effect
// on open sockets, new users need an admin-set password, suspended users are signed out (AUTH-7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setSiteRow } from '../../src/lib/crdt/site-doc.ts';
import {
  login,
  post,
  removeDir,
  startTestServer,
  until,
  yClient,
  type TestServer,
  type YClient,
} from './server-harness.ts';

let s: TestServer;
const open: YClient[] = [];
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  for (const c of open) c.destroy();
  await s.close();
  removeDir(s.dataDir);
});

const actor = { userId: 'admin', deviceId: 'admin-laptop' };
const user = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  username: id,
  firstname: id.toUpperCase(),
  lastname: 'Person',
  email: `${id}@example.org`,
  auth: 'manual',
  suspended: 0,
  deleted: 0,
  ...extra,
});

describe('site directory -> accounts and roles', () => {
  it('[AUTH-7] roles, new users and suspensions in the site room take effect on the server', async () => {
    const admin = await login(s.http, 'admin');
    const site = yClient(s.url, 'site', admin.accessToken);
    open.push(site);
    await site.synced;

    // nt is a non-editing teacher of c1 (seed); the directory makes them an editing teacher.
    const nt = await login(s.http, 'nt');
    const ntSocket = yClient(s.url, 'course/c1', nt.accessToken);
    open.push(ntSocket);
    await ntSocket.synced;
    const codes: number[] = [];
    ntSocket.provider.on('connection-close', (e: { code: number } | null) => e && codes.push(e.code));
    setSiteRow(site.doc, 'users', user('nt'), actor);
    setSiteRow(
      site.doc,
      'roles',
      { userId: 'nt', role: 'editingteacher', contextLevel: 'course', contextId: 'c1' },
      actor,
    );
    await until(() => codes.includes(4505), 'nt reconnects after the role change');
    expect((await login(s.http, 'nt')).user.courses).toEqual([
      expect.objectContaining({ courseId: 'c1', role: 'editingteacher' }),
    ]);
    // After the automatic reconnect nt can write.
    await until(() => ntSocket.provider.wsconnected && ntSocket.provider.synced, 'nt reconnected');
    ntSocket.doc.getMap('grades').set('by-nt', 1);
    const t1 = yClient(s.url, 'course/c1', (await login(s.http, 't1')).accessToken);
    open.push(t1);
    await until(() => t1.doc.getMap('grades').get('by-nt') === 1, "nt's write accepted");

    // A new user exists at once but cannot sign in until an admin sets a password.
    setSiteRow(site.doc, 'users', user('newbie'), actor);
    setSiteRow(
      site.doc,
      'roles',
      { userId: 'newbie', role: 'student', contextLevel: 'course', contextId: 'c2' },
      actor,
    );
    await until(
      async () =>
        (
          await post(
            s.http,
            '/admin/users/newbie/password',
            { newPassword: 'first password' },
            admin.accessToken,
          )
        ).status === 200,
      'account created',
    );
    const nb = await login(s.http, 'newbie', 'first password');
    expect(nb.user).toMatchObject({
      displayName: 'NEWBIE Person',
      courses: [expect.objectContaining({ courseId: 'c2', role: 'student' })],
    });

    // Suspending signs the user out everywhere and refuses new sign-ins.
    const nbSocket = yClient(s.url, 'student/c2/newbie', nb.accessToken);
    open.push(nbSocket);
    await nbSocket.synced;
    setSiteRow(site.doc, 'users', user('newbie', { suspended: 1 }), actor);
    expect(await nbSocket.closedCode).toBe(4401);
    expect(
      (await post(s.http, '/auth/login', { username: 'newbie', password: 'first password' })).status,
    ).toBe(403);
    expect((await post(s.http, '/auth/refresh', { refreshToken: nb.refreshToken })).status).toBe(401);
  });
});

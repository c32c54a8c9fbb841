// What the browser benches of the grader app share: generated courses as Yjs updates, the app and sync servers on
// loopback over build/ (built first if missing) with a temp store, the system Chromium, and signing in to a course.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as Y from 'yjs';
import { courseJsonToDoc } from '../../src/lib/crdt/course-doc.ts';
import type { CourseJson } from '../../src/lib/domain/interchange/course-types.ts';
import { startSyncServer } from '../../sync-server/server.ts';
import { startStaticServer } from '../../sync-server/static.ts';
import { generateCourse } from '../fixtures/courses/generate.ts';

const root = resolve(import.meta.dirname, '../..');

/** A generated course (4 levels, 10 calculations, named students) and its document as one update. */
export function benchCourse(students: number, items: number): { json: CourseJson; update: Uint8Array } {
  const json = generateCourse({ students, items, levels: 4, calculated: 10, seed: 7 });
  json.users = Array.from(new Set(json.grades.map((g) => g.user))).map((id) => ({ id, name: `Student ${id}` }));
  const doc = new Y.Doc();
  courseJsonToDoc(json, doc, { userId: 'bench', deviceId: 'bench' }, { src: 'bench' });
  return { json, update: Y.encodeStateAsUpdate(doc) };
}

/** Starts the servers (one teacher who edits every course) and Chromium; close() stops all and removes the store. */
export async function startGraderBench(
  port: number,
  courses: { id: string; name: string; update: Uint8Array }[],
): Promise<{ baseURL: string; browser: Browser; close(): Promise<void> }> {
  if (!existsSync(join(root, 'build/index.html'))) spawnSync(join(root, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  const dataDir = mkdtempSync(join(tmpdir(), 'markbook-graderbench-'));
  const sync = await startSyncServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    appOrigins: [`http://127.0.0.1:${port}`],
    maxMessageBytes: 64 * 1024 * 1024,
    seed: {
      accounts: [{ userId: 't', username: 'teacher', password: 'bench-pass', displayName: 'Bench Teacher' }],
      courseRoles: courses.map((c) => ({ userId: 't', courseId: c.id, role: 'editingteacher' as const })),
      courses: courses.map((c) => ({ id: c.id, name: c.name })),
      docs: courses.map((c) => ({ room: `course/${c.id}`, update: c.update })),
    },
  });
  const app = await startStaticServer({ root: join(root, 'build'), port, syncUrl: `ws://127.0.0.1:${sync.port}` });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  return {
    baseURL: app.url,
    browser,
    async close() {
      await browser.close();
      await app.close();
      await sync.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs the bench teacher in and opens a course's grader report (from the course list). */
export async function signInAndOpen(page: Page, course: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill('teacher');
  await page.getByLabel('Password').fill('bench-pass');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: course }).click();
  await page.getByTestId('grader-grid').waitFor({ timeout: 120_000 });
}

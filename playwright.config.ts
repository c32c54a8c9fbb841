// Playwright e2e: real Chromium from the system (/usr/bin/chromium or CHROMIUM_PATH), flags for a closed
// network, a fresh browser context (profile) per test, against `npm start` on test ports with a fresh data dir.
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const APP_PORT = Number(process.env.E2E_PORT ?? 4273);
export const SYNC_PORT = Number(process.env.E2E_SYNC_PORT ?? 4274);
const dataDir = process.env.E2E_DATA ?? mkdtempSync(join(tmpdir(), 'markbook-e2e-'));
process.env.E2E_DATA = dataDir; // the worker processes re-read this file: keep one data dir per run

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '*.spec.ts',
  fullyParallel: false,
  workers: 1, // 2 cores: the app server, the sync server and Chromium already share them
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  outputDir: 'test-results/e2e',
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        '--disable-gpu',
      ],
    },
  },
  webServer: {
    command: 'node bin/start.js',
    url: `http://127.0.0.1:${SYNC_PORT}/healthz`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    // MARKBOOK_REBASE_AFTER: course documents re-base after 200 change-log entries instead of 50,000, so that
    // rebase.spec.ts can cross it with two pasted blocks; the other tests write far fewer entries per course.
    env: { PORT: String(APP_PORT), SYNC_PORT: String(SYNC_PORT), MARKBOOK_DATA: dataDir, MARKBOOK_REBASE_AFTER: '200' },
  },
});

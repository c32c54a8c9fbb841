// ESLint flat config: TypeScript and Svelte recommended rules, plus the layering zones of
// ../shared/ARCHITECTURE.md enforced with no-restricted-imports. Import cycles are checked by
// dependency-cruiser (`npm run lint` runs both).
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const UI = ['svelte', 'svelte/*', '$app/*', '**/components/*', '**/state/*', '$lib/components/*', '$lib/state/*'];
const STORAGE = ['dexie', 'y-dexie', 'y-indexeddb', '**/persistence/*', '$lib/persistence/*'];
const CRDT = ['yjs', 'y-*', 'lib0', 'lib0/*', '**/crdt/*', '$lib/crdt/*'];
const NODE = ['node:*', 'fs', 'path', 'os', 'ws', 'classic-level', 'ioredis', 'http', 'crypto', 'child_process'];
const ML = ['@tensorflow/*', '**/ml/*', '$lib/ml/*'];
const NET = ['**/sync/*', '$lib/sync/*', 'y-websocket'];

const zone = (files, groups, message) => ({
  files,
  ignores: ['**/*.test.ts'],
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: groups, message }] }] },
});

export default ts.config(
  { ignores: ['build/', '.svelte-kit/', 'node_modules/', 'data/', 'static/', 'test-results/', 'coverage/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // the app is served at the root (no base path), so plain hrefs are right
      'svelte/no-navigation-without-resolve': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { projectService: false, extraFileExtensions: ['.svelte'], parser: ts.parser, svelteConfig } },
  },
  {
    // State classes keep private indexes (Map/Set) that views never read directly; what views read is published
    // whole through $state.raw. SvelteMap/SvelteSet there would only add tracking cost.
    files: ['src/lib/state/**'],
    rules: { 'svelte/prefer-svelte-reactivity': 'off' },
  },
  zone(['src/lib/domain/**'], [...UI, ...STORAGE, ...CRDT, ...NODE, ...ML, ...NET, '**/workers/*'], 'src/lib/domain is pure: no UI, storage, CRDT, Node, ML or network imports.'),
  zone(['src/lib/crdt/**'], [...UI, ...STORAGE, ...NODE, ...ML, ...NET], 'crdt/ may use yjs and the domain only.'),
  zone(['src/lib/workers/**', 'src/lib/ml/**'], [...UI, ...NET], 'workers and ml host domain code; no UI or sync.'),
  zone(['sync-server/**'], [...UI, ...STORAGE, '$lib/*'], 'sync-server imports the domain and crdt by relative path, never UI or device storage.'),
);

// Vite configuration: SvelteKit, then the PWA plugin (service worker precaching the app shell and the
// TF.js wasm binaries so the app boots and trains offline). Nothing here loads from the network.
import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { defineConfig } from 'vite';

// TF.js looks for its wasm binaries at run time; serve them ourselves from /tfjs-wasm/ (never a CDN).
// The threaded build is left out: without COOP/COEP it is never chosen (feasibility.md §3).
const WASM_SRC = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];
mkdirSync('static/tfjs-wasm', { recursive: true });
for (const f of WASM_FILES) {
  const from = `${WASM_SRC}/${f}`;
  const to = `static/tfjs-wasm/${f}`;
  if (existsSync(from) && (!existsSync(to) || statSync(to).size !== statSync(from).size)) copyFileSync(from, to);
}

export default defineConfig({
  plugins: [
    sveltekit(),
    SvelteKitPWA({
      strategies: 'generateSW',
      registerType: 'prompt',
      manifest: false, // static/manifest.webmanifest is ours, linked from app.html
      workbox: {
        globPatterns: ['client/**/*.{js,css,html,svg,png,ico,webmanifest,wasm,woff2}', 'prerendered/**/*.html'],
        // the TF.js wasm binaries are ~5-10 MiB; precache them so training works offline
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        navigateFallback: '/',
        navigateFallbackDenylist: [/^\/(auth|healthz|metrics)/],
      },
      kit: { adapterFallback: '200.html' },
      devOptions: { enabled: false },
    }),
  ],
  worker: { format: 'es' },
  build: { chunkSizeWarningLimit: 4096, target: 'es2022' },
  server: { host: '127.0.0.1', port: 4173, strictPort: false },
  preview: { host: '127.0.0.1', port: 4173 },
});

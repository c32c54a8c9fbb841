// SvelteKit configuration: a static single-page app (no server rendering) so the same build
// runs installed and offline; vite-plugin-pwa owns the service worker.
import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: '200.html', strict: true }),
    serviceWorker: { register: false },
  },
};

export default config;

// The app is a static single-page app: no server rendering, every route prerendered as a shell
// so it boots installed and offline.
export const prerender = true;
export const ssr = false;
export const trailingSlash = 'never';

// Chooses the TensorFlow.js backend: WebGL only on a real GPU (a software renderer such as SwiftShader is not
// one), otherwise WASM, otherwise CPU; reports the choice and why. Adapter: never imported by the domain.
import type * as TF from '@tensorflow/tfjs';

export type TfBackendName = 'webgl' | 'wasm' | 'cpu';

export interface TfBackendChoice {
  readonly backend: TfBackendName;
  /** Human-readable reason, shown next to the choice in the UI. */
  readonly reason: string;
  /** Unmasked WebGL renderer string when one could be read. */
  readonly renderer: string | null;
}

/** Renderer strings of software rasterisers: WebGL there is slower than WASM (feasibility.md section 3). */
const SOFTWARE_RENDERERS =
  /swiftshader|llvmpipe|softpipe|software|basic render|mesa offscreen|microsoft basic/i;

export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_RENDERERS.test(renderer);
}

interface GlLike {
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
  RENDERER: number;
}

/** Reads the unmasked renderer via WEBGL_debug_renderer_info from an (Offscreen)canvas; null if no WebGL. */
export function webglRenderer(): string | null {
  const g = globalThis as {
    OffscreenCanvas?: new (w: number, h: number) => { getContext(t: string): unknown };
    document?: { createElement(t: string): { getContext(t: string): unknown } };
  };
  let canvas: { getContext(t: string): unknown } | null = null;
  try {
    if (g.OffscreenCanvas) canvas = new g.OffscreenCanvas(1, 1);
    else if (g.document) canvas = g.document.createElement('canvas');
  } catch {
    canvas = null;
  }
  if (!canvas) return null;
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as GlLike | null;
  if (!gl) return null;
  const ext = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  const r = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  return typeof r === 'string' ? r : null;
}

/** Where the .wasm files are served from (the page copies them to static/tfjs-wasm/; Node uses node_modules). */
export interface SelectOptions {
  /** Force a backend (tests and the command line pin cpu or wasm). */
  readonly prefer?: TfBackendName;
  /** Directory or URL prefix holding tfjs-backend-wasm*.wasm. */
  readonly wasmPath?: string;
}

/**
 * [ANA-6.3] Picks and activates a backend. `tf.setBackend` returning false means TF.js silently stayed on another
 * backend, so every attempt is checked and the next one tried.
 */
export async function selectTfBackend(tf: typeof TF, o: SelectOptions = {}): Promise<TfBackendChoice> {
  const tryWasm = async (): Promise<boolean> => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (o.wasmPath) wasm.setWasmPaths(o.wasmPath);
    // Threaded WASM breaks under cross-origin isolation in bundled builds (feasibility.md, "Known failure").
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    try {
      return (await tf.setBackend('wasm')) && tf.getBackend() === 'wasm';
    } catch {
      return false;
    }
  };
  const tryCpu = async (): Promise<boolean> => (await tf.setBackend('cpu')) && tf.getBackend() === 'cpu';
  if (o.prefer === 'cpu') {
    if (await tryCpu()) return { backend: 'cpu', reason: 'pinned to cpu', renderer: null };
    throw new Error('the cpu backend could not be activated');
  }
  if (o.prefer === 'wasm') {
    if (await tryWasm()) return { backend: 'wasm', reason: 'pinned to wasm', renderer: null };
    throw new Error('the wasm backend could not be activated');
  }
  const renderer =
    o.prefer === 'webgl' || typeof (globalThis as { process?: unknown }).process === 'undefined'
      ? webglRenderer()
      : null;
  if (renderer !== null && !isSoftwareRenderer(renderer)) {
    // @tensorflow/tfjs registers the webgl backend itself.
    if ((await tf.setBackend('webgl').catch(() => false)) && tf.getBackend() === 'webgl')
      return { backend: 'webgl', reason: `GPU: ${renderer}`, renderer };
  }
  const why = renderer === null ? 'no WebGL' : `software renderer (${renderer})`;
  if (await tryWasm()) return { backend: 'wasm', reason: `${why}; WASM is faster than WebGL here`, renderer };
  if (await tryCpu()) return { backend: 'cpu', reason: `${why}; WASM unavailable`, renderer };
  throw new Error('no TensorFlow.js backend could be activated');
}

// When the work a change sets off outside the page (the server's copy, the device store, the regrade worker's copy)
// runs: right after the next frame is painted, so that it never delays the frame that shows the change.
type Frames = {
  requestAnimationFrame?(cb: () => void): number;
  cancelAnimationFrame?(handle: number): void;
  document?: { visibilityState?: string };
};

/** A hidden page paints no frames: past this long the work runs anyway. */
const LATEST_MS = 100;

/**
 * Runs `fn` once, just after the next paint (in a task of its own after the frame); where nothing is painted (Node,
 * workers, a hidden tab) in the next task. Returns a cancel function.
 */
export function afterPaint(fn: () => void): () => void {
  const g = globalThis as Frames;
  let done = false;
  let frame: number | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = (): void => {
    if (done) return;
    cancel();
    fn();
  };
  const cancel = (): void => {
    done = true;
    if (timer !== null) clearTimeout(timer);
    if (frame !== null) g.cancelAnimationFrame?.(frame);
  };
  if (!g.requestAnimationFrame || g.document?.visibilityState === 'hidden') timer = setTimeout(run, 0);
  else {
    frame = g.requestAnimationFrame(() => {
      frame = null;
      setTimeout(run, 0);
    });
    timer = setTimeout(run, LATEST_MS);
  }
  return cancel;
}

/**
 * Updates collected in order and handed on as one batch after the next paint (see afterPaint); `flush` hands them
 * on at once (page hidden, connection closing).
 */
export class PaintBatch<T> {
  private items: T[] = [];
  private cancel: (() => void) | null = null;

  constructor(private readonly send: (items: T[]) => void) {}

  push(item: T): void {
    this.items.push(item);
    this.cancel ??= afterPaint(() => {
      this.cancel = null;
      this.flush();
    });
  }

  flush(): void {
    this.cancel?.();
    this.cancel = null;
    if (!this.items.length) return;
    const items = this.items;
    this.items = [];
    this.send(items);
  }
}

// Reconnect delays with "full jitter": a random delay in [0, min(cap, base * 2^attempt)], so that a
// classroom of tablets does not reconnect in lock-step after a server restart. Pure.

export interface BackoffOptions {
  /** First ceiling in ms. */
  baseMs?: number;
  /** Largest ceiling in ms. */
  capMs?: number;
}

/** `random` is injected so tests can pin it; in the app it is Math.random. */
export function jitteredDelay(attempt: number, random: () => number, { baseMs = 250, capMs = 15_000 }: BackoffOptions = {}): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

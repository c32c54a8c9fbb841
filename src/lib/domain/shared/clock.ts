// Injected time and randomness: the domain never reads a clock or a random source itself.
// Adapters pass real ones; tests pass fixed or seeded ones so results are reproducible.

/** Unix time in seconds (Moodle's unit for every time field). */
export type UnixSeconds = number;

export interface Clock {
  /** Current time in unix seconds. */
  now(): UnixSeconds;
}

export const fixedClock = (t: UnixSeconds): Clock => ({ now: () => t });

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** mulberry32: small, fast, seedable; good enough for fuzzing and data splits, not for crypto. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

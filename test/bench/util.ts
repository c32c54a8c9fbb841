// Measurement helpers for the benchmarks: percentiles, repeated timing, memory and tables.

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Runs fn `n` times after `warmup` runs; returns sorted durations in ms. */
export async function timeRuns(n: number, fn: () => unknown, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

export function heapMB(): number {
  const g = globalThis as { gc?: () => void };
  g.gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

export function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Prints `label: value (goal ..., ratio x)`; ratio < 1 means inside the goal. */
export function report(label: string, valueMs: number, goalMs?: number): void {
  const goal = goalMs === undefined ? '' : `  goal <= ${fmt(goalMs)}, ratio ${(valueMs / goalMs).toFixed(2)}`;
  console.log(`${label.padEnd(48)} ${fmt(valueMs).padStart(10)}${goal}`);
}

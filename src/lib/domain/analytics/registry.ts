// Plug-in registry for indicators, targets, analysers, time-splitting methods and ML backends.
// Pure: a plain in-memory map; adapters (e.g. the TF.js backend) register themselves at start-up.
import { ANALYSERS, type Analyser } from './analysers.ts';
import { logisticRegressionBackend, type MlBackend } from './backend.ts';
import { INDICATORS, type Indicator } from './indicators.ts';
import { TARGETS, type Target } from './targets.ts';
import { TIME_SPLITTINGS, atFraction, type TimeSplitting } from './time-splitting.ts';

export class Registry<T extends { readonly id: string }> {
  private readonly items = new Map<string, T>();
  constructor(readonly kind: string) {}
  /** [ANA-9] Adds a plug-in; a duplicate id is an error (plug-ins must not silently replace built-ins). */
  register(item: T): this {
    if (this.items.has(item.id)) throw new Error(`${this.kind} "${item.id}" is already registered`);
    this.items.set(item.id, item);
    return this;
  }
  /** Replaces an existing plug-in on purpose (e.g. a site-specific threshold). */
  replace(item: T): this {
    this.items.set(item.id, item);
    return this;
  }
  has(id: string): boolean {
    return this.items.has(id);
  }
  get(id: string): T {
    const it = this.items.get(id);
    if (!it) throw new Error(`unknown ${this.kind} "${id}" (known: ${[...this.items.keys()].join(', ')})`);
    return it;
  }
  list(): T[] {
    return [...this.items.values()];
  }
}

export interface AnalyticsRegistry {
  readonly indicators: Registry<Indicator>;
  readonly targets: Registry<Target>;
  readonly analysers: Registry<Analyser>;
  readonly timeSplittings: Registry<TimeSplitting>;
  readonly backends: Registry<MlBackend>;
}

/** Resolves time-splitting ids, including `at_fraction_<percent>` ones made on demand. */
export function resolveTimeSplitting(reg: AnalyticsRegistry, id: string): TimeSplitting {
  const m = /^at_fraction_(\d+(?:\.\d+)?)$/.exec(id);
  if (m && !reg.timeSplittings.has(id)) return atFraction(Number(m[1]) / 100);
  return reg.timeSplittings.get(id);
}

/** A registry holding every built-in plug-in and the exact logistic-regression backend. */
export function defaultRegistry(): AnalyticsRegistry {
  const reg: AnalyticsRegistry = {
    indicators: new Registry<Indicator>('indicator'),
    targets: new Registry<Target>('target'),
    analysers: new Registry<Analyser>('analyser'),
    timeSplittings: new Registry<TimeSplitting>('time splitting'),
    backends: new Registry<MlBackend>('backend'),
  };
  INDICATORS.forEach((i) => reg.indicators.register(i));
  TARGETS.forEach((t) => reg.targets.register(t));
  ANALYSERS.forEach((a) => reg.analysers.register(a));
  TIME_SPLITTINGS.forEach((t) => reg.timeSplittings.register(t));
  reg.backends.register(logisticRegressionBackend);
  return reg;
}

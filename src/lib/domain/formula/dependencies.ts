// Dependency order for calculated items: which item to compute first, and which cannot be computed.
// Pure graph code over ids; mirrors the regrade loop of lib/gradelib.php grade_regrade_final_grades (FRM-23, FRM-24).
import { FormulaError } from './errors.ts';

export interface DependencyInput {
  /** item id -> the idnumbers its calculation references (GradebookFormula.references) */
  readonly references: ReadonlyMap<string, readonly string[]>;
  /** idnumber -> item id, for every item that has an idnumber */
  readonly itemByIdnumber: ReadonlyMap<string, string>;
  /** further edges the engine knows, item id -> item ids it depends on (e.g. a category total on its children) */
  readonly dependsOn?: ReadonlyMap<string, readonly string[]>;
}

export interface BrokenReference {
  readonly item: string;
  readonly idnumber: string;
}

export interface DependencyPlan {
  /** Every item that can be computed, each after everything it depends on (stable: input order breaks ties). */
  readonly order: readonly string[];
  /** Items that cannot be computed: on a cycle, referring to an unknown idnumber, or depending on such an item. */
  readonly blocked: readonly string[];
  /** Each cycle found, as item ids where each depends on the next, the first repeated at the end. */
  readonly cycles: readonly (readonly string[])[];
  /** References to idnumbers no item has. */
  readonly broken: readonly BrokenReference[];
}

/**
 * [FRM-23] Plans a regrade over every item mentioned (calculated items, what they reference, and
 * the extra edges). Like Moodle's regrade loop it never gives up on the whole gradebook: items on
 * a cycle or behind a broken reference are returned as `blocked` (Moodle leaves them
 * `needsupdate` and reports "errorcalculationbroken"); everything else is ordered.
 */
export function planDependencies(input: DependencyInput): DependencyPlan {
  const ids: string[] = [];
  const index = new Map<string, number>();
  const idx = (id: string): number => {
    let i = index.get(id);
    if (i === undefined) {
      i = ids.length;
      ids.push(id);
      index.set(id, i);
      deps.push([]);
    }
    return i;
  };
  const deps: number[][] = [];
  const broken: BrokenReference[] = [];
  const brokenItems = new Set<number>();
  const addEdge = (from: number, to: number): void => {
    const list = deps[from]!;
    if (!list.includes(to)) list.push(to);
  };

  for (const [item, refs] of input.references) {
    const from = idx(item);
    for (const idnumber of refs) {
      const target = input.itemByIdnumber.get(idnumber);
      if (target === undefined) {
        broken.push({ item, idnumber });
        brokenItems.add(from);
        continue;
      }
      addEdge(from, idx(target));
    }
  }
  for (const [item, on] of input.dependsOn ?? []) {
    const from = idx(item);
    for (const target of on) addEdge(from, idx(target));
  }

  // Kahn's algorithm: an item is ready once all it depends on is done.
  const n = ids.length;
  const waiting = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    waiting[i] = deps[i]!.length;
    for (const d of deps[i]!) dependents[d]!.push(i);
  }
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0 && !brokenItems.has(i)) queue.push(i);
  const done = new Uint8Array(n);
  const order: string[] = [];
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    done[i] = 1;
    order.push(ids[i]!);
    for (const d of dependents[i]!) {
      waiting[d]!--;
      if (waiting[d] === 0 && !brokenItems.has(d)) queue.push(d);
    }
  }

  const blocked: string[] = [];
  for (let i = 0; i < n; i++) if (!done[i]) blocked.push(ids[i]!);
  return { order, blocked, cycles: findCycles(deps, done, ids), broken };
}

/**
 * Walks from each blocked item along blocked dependencies; a walk that meets itself has found a
 * cycle. (A blocked item not behind a broken reference always has a blocked dependency.)
 */
function findCycles(deps: readonly number[][], done: Uint8Array, ids: readonly string[]): string[][] {
  const n = ids.length;
  const walkOf = new Int32Array(n).fill(-1);
  const cycles: string[][] = [];
  for (let s = 0; s < n; s++) {
    if (done[s] || walkOf[s] !== -1) continue;
    const path: number[] = [];
    let cur: number | undefined = s;
    while (cur !== undefined && walkOf[cur] === -1) {
      walkOf[cur] = s;
      path.push(cur);
      cur = deps[cur]!.find((d) => !done[d]);
    }
    if (cur !== undefined && walkOf[cur] === s) {
      const from = path.indexOf(cur);
      const cycle = path.slice(from).map((i) => ids[i]!);
      cycles.push([...cycle, cycle[0]!]);
    }
  }
  return cycles;
}

/**
 * [FRM-24] The strict form: returns the order of every item, or throws FormulaError — kind
 * `reference` for an unknown idnumber (naming item and idnumber), kind `cycle` naming the items
 * on the first cycle found ("a -> b -> a": a depends on b, b on a).
 */
export function orderByDependencies(input: DependencyInput): string[] {
  const plan = planDependencies(input);
  const b = plan.broken[0];
  if (b) {
    throw new FormulaError(
      'reference',
      `item '${b.item}' refers to unknown idnumber [[${b.idnumber}]]`,
      null,
      { name: b.idnumber, items: [b.item] },
    );
  }
  const c = plan.cycles[0];
  if (c) {
    throw new FormulaError('cycle', `circular reference between calculated items: ${c.join(' -> ')}`, null, {
      items: c,
    });
  }
  return [...plan.order];
}

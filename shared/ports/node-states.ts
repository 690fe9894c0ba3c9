// The node states of a job as a persistent map: a new version shares everything but the chunk it
// changed with the old one, so a transition of a 10,000-node job copies ~200 pointers, not 10,000
// entries (a plain object's spread cost ~28 ms per event at that size: minutes per job).
// NodeState objects inside are never mutated; versions are made by withAll().
import type { NodeState } from './job-state.ts';

const SHIFT = 6;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;
const FINAL = new Set(['succeeded', 'failed', 'skipped', 'stopped']);

export class NodeStates {
  private constructor(
    private readonly index: ReadonlyMap<string, number>,
    /** Node names in the order the job was created with (the DAG's order). */
    readonly names: readonly string[],
    private readonly chunks: readonly (readonly NodeState[])[],
    /** How many nodes are in a final status. */
    readonly finished: number,
    /** Names of the nodes whose status is `active` (tallies are read for these only). */
    readonly active: readonly string[],
  ) {}

  static of(entries: Iterable<readonly [string, NodeState]>): NodeStates {
    const index = new Map<string, number>();
    const names: string[] = [];
    const chunks: NodeState[][] = [];
    let finished = 0;
    const active: string[] = [];
    for (const [name, n] of entries) {
      if (index.has(name)) continue;
      const i = names.length;
      index.set(name, i);
      names.push(name);
      if ((i & MASK) === 0) chunks.push([]);
      (chunks[i >> SHIFT] as NodeState[]).push(n);
      if (FINAL.has(n.status)) finished++;
      if (n.status === 'active') active.push(name);
    }
    return new NodeStates(index, names, chunks, finished, active);
  }

  get size(): number {
    return this.names.length;
  }

  get allFinal(): boolean {
    return this.finished === this.names.length;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  get(name: string): NodeState | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.chunks[i >> SHIFT]?.[i & MASK];
  }

  *entries(): IterableIterator<[string, NodeState]> {
    for (let i = 0; i < this.names.length; i++)
      yield [this.names[i] as string, (this.chunks[i >> SHIFT] as NodeState[])[i & MASK] as NodeState];
  }

  *values(): IterableIterator<NodeState> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** A new version with these nodes replaced (unknown names are ignored). */
  withAll(updates: Iterable<readonly [string, NodeState]>): NodeStates {
    let chunks: (readonly NodeState[])[] | undefined;
    const copied = new Set<number>();
    let finished = this.finished;
    const started = new Set<string>();
    const ended = new Set<string>();
    for (const [name, n] of updates) {
      const i = this.index.get(name);
      if (i === undefined) continue;
      chunks ??= [...this.chunks];
      const c = i >> SHIFT;
      if (!copied.has(c)) {
        chunks[c] = [...(chunks[c] as NodeState[])];
        copied.add(c);
      }
      const chunk = chunks[c] as NodeState[];
      const old = chunk[i & MASK] as NodeState;
      finished += (FINAL.has(n.status) ? 1 : 0) - (FINAL.has(old.status) ? 1 : 0);
      if (n.status === 'active' && old.status !== 'active') started.add(name);
      if (n.status !== 'active' && old.status === 'active') ended.add(name);
      chunk[i & MASK] = n;
    }
    if (!chunks) return this;
    let active = this.active;
    if (ended.size) active = active.filter((name) => !ended.has(name));
    if (started.size) active = [...active, ...started];
    return new NodeStates(this.index, this.names, chunks, finished, active);
  }

  with(name: string, n: NodeState): NodeStates {
    return this.withAll([[name, n]]);
  }

  /** Names of the nodes whose state differs from `before` (all of them if unrelated). */
  changedSince(before: NodeStates): string[] {
    if (before.index !== this.index) return [...this.names];
    const out: string[] = [];
    for (let c = 0; c < this.chunks.length; c++) {
      const mine = this.chunks[c] as NodeState[];
      const theirs = before.chunks[c];
      if (mine === theirs) continue;
      for (let k = 0; k < mine.length; k++)
        if (mine[k] !== theirs?.[k]) out.push(this.names[(c << SHIFT) + k] as string);
    }
    return out;
  }

  /** As a plain object (API answers, logs). */
  toJSON(): Record<string, NodeState> {
    return Object.fromEntries(this.entries());
  }
}

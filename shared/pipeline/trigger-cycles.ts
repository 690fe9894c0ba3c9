// Pipeline triggers form a graph across stored pipelines: `P.triggers.pipelines` lists the
// pipelines whose completion starts P. A cycle (pa → pb → pa, or a pipeline listing itself) would
// start jobs for ever, so storing a pipeline that closes one is refused; the engine also stops a
// chain of triggered jobs deeper than MAX_TRIGGER_DEPTH (cycles stored before this check, races).

/** How many trigger hops a chain of jobs may take from the job that started it. */
export const MAX_TRIGGER_DEPTH = 20;

interface Triggered {
  name: string;
  triggers?: { pipelines?: readonly string[] } | undefined;
}

/**
 * The trigger cycle through `candidate` once it replaces the stored pipeline of its name, as the
 * names along it (first and last are the candidate's), or undefined when there is none.
 */
export function triggerCycleThrough(
  candidate: Triggered,
  stored: readonly Triggered[],
): string[] | undefined {
  const all = new Map<string, Triggered>();
  for (const p of stored) all.set(p.name, p);
  all.set(candidate.name, candidate);
  // Who each pipeline starts when it completes.
  const starts = new Map<string, string[]>();
  for (const p of all.values()) {
    for (const source of p.triggers?.pipelines ?? []) {
      starts.set(source, [...(starts.get(source) ?? []), p.name]);
    }
  }
  const seen = new Set<string>();
  const path: string[] = [candidate.name];
  const walk = (name: string): boolean => {
    for (const next of starts.get(name) ?? []) {
      if (next === candidate.name) {
        path.push(next);
        return true;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      path.push(next);
      if (walk(next)) return true;
      path.pop();
    }
    return false;
  };
  return walk(candidate.name) ? path : undefined;
}

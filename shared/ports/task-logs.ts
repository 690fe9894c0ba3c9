// A task's captured output: the tails of its stdout and its stderr, kept per task with a size cap.
// The runner caps what it keeps; stores with a small item limit (DynamoDB) cap again on write.

export interface TaskLogs {
  stdout: string[];
  stderr: string[];
  /** Some earlier output was dropped to stay within the cap (only the tail is kept). */
  truncated: boolean;
}

export function taskLogs(stdout: string[] = [], stderr: string[] = [], truncated = false): TaskLogs {
  return { stdout, stderr, truncated };
}

export function hasOutput(logs: TaskLogs | undefined): logs is TaskLogs {
  return logs !== undefined && (logs.stdout.length > 0 || logs.stderr.length > 0 || logs.truncated);
}

/**
 * Logs read back from a store or a queue message; undefined if the value is not logs. A plain
 * array of lines (records written before stdout and stderr were kept apart) reads as stdout.
 */
export function parseTaskLogs(value: unknown): TaskLogs | undefined {
  if (typeof value === 'string') {
    try {
      return parseTaskLogs(JSON.parse(value));
    } catch {
      return undefined;
    }
  }
  const lines = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  if (Array.isArray(value)) return taskLogs(lines(value));
  if (typeof value !== 'object' || value === null) return undefined;
  const l = value as Partial<TaskLogs>;
  return taskLogs(lines(l.stdout), lines(l.stderr), l.truncated === true);
}

/** The logs cut to at most `maxChars` characters of text: each stream keeps its last lines. */
export function capTaskLogs(logs: TaskLogs, maxChars: number): TaskLogs {
  const size = (ls: string[]) => ls.reduce((a, l) => a + l.length + 1, 0);
  if (size(logs.stdout) + size(logs.stderr) <= maxChars) return logs;
  const half = Math.floor(maxChars / 2);
  // A quiet stream lends its unused half to the other.
  const errBudget = Math.max(half, maxChars - size(logs.stdout));
  const stderr = tailOf(logs.stderr, Math.min(errBudget, maxChars));
  const stdout = tailOf(logs.stdout, maxChars - size(stderr));
  return taskLogs(stdout, stderr, true);
}

function tailOf(lines: string[], maxChars: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (used + line.length + 1 > maxChars) {
      // A single huge line keeps its end rather than vanishing.
      if (out.length === 0 && maxChars > 1) out.push(line.slice(line.length - (maxChars - 1)));
      break;
    }
    out.push(line);
    used += line.length + 1;
  }
  return out.reverse();
}

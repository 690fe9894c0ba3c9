// Third-party tools the benchmarks compare against: found on PATH or reported as missing, never
// installed by the benchmark itself (docs/benchmarks.md lists the Debian packages).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The full path of an executable on PATH, or undefined. */
export function which(tool: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** The one-line reason a row is skipped when its tools are missing, or undefined. */
export function missingTools(tools: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = tools.filter((t) => !which(t, env));
  return missing.length ? `${missing.join(', ')} not installed, skipped` : undefined;
}

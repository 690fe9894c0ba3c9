// What `run`, `exec raw/stored` and `watch` print when a job ends with failed items: per item its
// node, batch index, a preview of its input, the error and its stderr tail, then how to see more.
// The data comes from the REST API, so it reads the same whatever follows the job's progress.
import type { SluiceClient } from './connection.ts';
import type { CliContext } from './context.ts';

/** A failed task as `GET /exec/tasks/{jobId}?status=failed` returns it. */
export interface FailedTask {
  taskId: string;
  nodeName: string;
  batchIndex?: number;
  input?: unknown[];
  error?: string;
  failure?: { type: string; message: string };
  logs?: { stdout: string[]; stderr: string[]; truncated: boolean };
}

/** A failed item as `--json` reports it. */
export interface FailureView {
  nodeName: string;
  batchIndex?: number;
  taskId: string;
  input: unknown[];
  type: string;
  error: string;
  stderrTail: string[];
}

const SHOWN_ITEMS = 5;
const STDERR_TAIL = 5;
const PREVIEW_CHARS = 60;

export async function failedTasks(client: SluiceClient, jobId: string): Promise<FailedTask[]> {
  return client.call<FailedTask[]>('GET', `/exec/tasks/${encodeURIComponent(jobId)}`, undefined, {
    status: 'failed',
  });
}

export function failureView(t: FailedTask): FailureView {
  return {
    nodeName: t.nodeName,
    ...(t.batchIndex !== undefined ? { batchIndex: t.batchIndex } : {}),
    taskId: t.taskId,
    input: t.input ?? [],
    type: t.failure?.type ?? 'algorithm-error',
    error: t.failure?.message ?? firstLine(t.error ?? 'failed'),
    stderrTail: (t.logs?.stderr ?? []).slice(-STDERR_TAIL),
  };
}

export function preview(value: unknown, max = PREVIEW_CHARS): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const firstLine = (s: string) => s.split('\n', 1)[0] ?? s;
const itemName = (f: { nodeName: string; batchIndex?: number }) =>
  f.batchIndex !== undefined ? `${f.nodeName} #${f.batchIndex}` : f.nodeName;

/** The summary's lines (for stderr): the first few failed items, then where the rest are. */
export function formatFailureSummary(jobId: string, failures: FailureView[]): string {
  if (failures.length === 0) return '';
  const byNode = new Map<string, number>();
  for (const f of failures) byNode.set(f.nodeName, (byNode.get(f.nodeName) ?? 0) + 1);
  const counts = [...byNode].map(([n, c]) => `${n}: ${c}`).join(', ');
  const out = [`${failures.length} failed item${failures.length === 1 ? '' : 's'} (${counts}):`];
  for (const f of failures.slice(0, SHOWN_ITEMS)) {
    out.push(`  ${itemName(f)}  input ${preview(f.input)}`);
    out.push(`    ${f.type}: ${firstLine(f.error)}`);
    for (const l of f.stderrTail) out.push(`    | ${l.length > 200 ? `${l.slice(0, 199)}…` : l}`);
  }
  if (failures.length > SHOWN_ITEMS) out.push(`  ... and ${failures.length - SHOWN_ITEMS} more`);
  const first = failures[0]!;
  const item = first.batchIndex !== undefined ? ` --item ${first.batchIndex}` : '';
  out.push(`all failed items: sluice exec tasks ${jobId} --status failed`);
  out.push(`an item's output: sluice exec logs ${jobId} ${first.nodeName}${item}`);
  return `${out.join('\n')}\n`;
}

/** The failed items of a finished job (none fetched when its counts show none). */
export async function jobFailures(
  client: SluiceClient,
  jobId: string,
  status: { tasks: { failed: number } },
): Promise<FailureView[]> {
  if (status.tasks.failed === 0) return [];
  return (await failedTasks(client, jobId)).map(failureView);
}

/**
 * The end of a followed job, the same for `run`, `exec` and `watch`: the failure summary on stderr
 * (unless JSON was asked for: the failures are then in the JSON), and the exit status: 1 when the
 * job did not complete, or with `strict` when any item failed.
 */
export function reportFailures(
  ctx: CliContext,
  jobId: string,
  failures: FailureView[],
  opts: { status: string; reason?: string | undefined; json?: boolean; strict?: boolean },
): void {
  if (!opts.json) {
    ctx.stderr.write(formatFailureSummary(jobId, failures));
    if (opts.status !== 'completed') ctx.stderr.write(`job ${jobId} ${opts.status}: ${opts.reason ?? ''}\n`);
    else if (failures.length && !opts.strict)
      ctx.stderr.write(
        `job ${jobId} completed within its batchTolerance (--strict makes failed items an error)\n`,
      );
  }
  if (opts.status !== 'completed' || (opts.strict && failures.length > 0)) ctx.exitCode = 1;
}

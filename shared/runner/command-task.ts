// One task of an `env: command` algorithm: a fresh process per task, `{input, info}` as JSON on
// stdin, the result as JSON on stdout, stderr as the task's logs.
import type { Readable, Writable } from 'node:stream';
import { type TaskLogs, taskLogs } from '../ports/task-logs.ts';
import type { TaskInfo, TaskOutcome } from '../ports/task-runner.ts';
import { ERROR_STDERR_TAIL_LINES, MAX_LOG_LINE_LENGTH } from './constants.ts';
import { LineSplitter, LogTail, tailsToLogs } from './log-tail.ts';
import { ManagedChild } from './managed-child.ts';
import { crashedOutcome, describeExit, failedOutcome, stoppedOutcome } from './outcome.ts';
import type { StopSwitch } from './stop-switch.ts';
import type { StopReason } from './types.ts';

export interface CommandTaskOptions {
  algorithmName: string;
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run as this user (see algorithm-isolation.ts). */
  user?: { uid: number; gid: number };
  maxLogLines: number;
  maxLogBytes: number;
  maxOutputBytes: number;
  killGraceMs: number;
}

export class CommandTask {
  readonly done: Promise<TaskOutcome>;
  private readonly child: ManagedChild;

  constructor(
    private readonly options: CommandTaskOptions,
    input: unknown[],
    info: TaskInfo,
    stop: StopSwitch,
    timeoutMs?: number,
  ) {
    const [command, ...args] = options.argv;
    this.child = new ManagedChild(command!, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...options.user,
    });
    const [stdin, stdout, stderr] = this.child.child.stdio as unknown as [Writable, Readable, Readable];
    const stderrLog = new LogTail(options.maxLogLines, options.maxLogBytes);
    const logs = () => tailsToLogs(undefined, stderrLog);
    const errLines = new LineSplitter(
      (line) => stderrLog.push(line),
      undefined,
      undefined,
      MAX_LOG_LINE_LENGTH,
    );
    stderr.setEncoding('utf8').on('data', (c: string) => errLines.feed(c));
    const chunks: Buffer[] = [];
    let outBytes = 0;
    let overflow = false;
    stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > options.maxOutputBytes) {
        if (!overflow) this.child.kill(options.killGraceMs);
        overflow = true;
      } else chunks.push(c);
    });
    let stopReason: StopReason | undefined;
    stop.onStop((reason) => {
      stopReason = reason;
      this.child.kill(options.killGraceMs);
    });
    stdin.on('error', () => {}); // EPIPE: the command did not read its input; its exit status tells
    stdin.end(JSON.stringify({ input, info }));

    this.done = this.child.exited.then((exit) => {
      errLines.flush();
      const tail = () => stderrLog.tail(ERROR_STDERR_TAIL_LINES);
      if (stopReason) return stoppedOutcome(stopReason, timeoutMs, logs());
      const name = options.algorithmName;
      if (exit.spawnError) {
        return failedOutcome(`could not start ${name} (${command}): ${exit.spawnError.message}`, logs());
      }
      if (overflow) {
        return failedOutcome(
          `${name} wrote more than ${options.maxOutputBytes} bytes to stdout (its result must be one JSON value)`,
          logs(),
          tail(),
        );
      }
      if (exit.signal) return crashedOutcome(`${name} ${describeExit(null, exit.signal)}`, logs(), tail());
      if (exit.code !== 0) return failedOutcome(`${name} ${describeExit(exit.code, null)}`, logs(), tail());
      return parseResult(name, Buffer.concat(chunks).toString('utf8'), logs, tail(), options.maxLogLines);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills the command (at pool close); its task reports how it ended. */
  kill(): void {
    this.child.kill(this.options.killGraceMs);
  }
}

/**
 * The result is stdout as one JSON value. Leniency for chatty commands: if the whole of stdout is
 * not JSON but its last non-empty line is, that line is the result and the lines before are logs.
 */
function parseResult(
  name: string,
  stdout: string,
  logs: () => TaskLogs,
  stderrTail: string[],
  maxLogLines: number,
): TaskOutcome {
  const text = stdout.trim();
  if (text === '') {
    return failedOutcome(
      `${name} printed nothing on stdout (expected its result as JSON)`,
      logs(),
      stderrTail,
    );
  }
  try {
    return { status: 'succeeded', result: JSON.parse(text), logs: logs() };
  } catch (err) {
    const lines = text.split('\n');
    const last = lines.pop()!;
    try {
      const result: unknown = JSON.parse(last);
      // The lines before the result were the command's own output: they are its stdout log.
      const stdout = lines.map((l) => l.trimEnd());
      const kept = stdout.slice(-maxLogLines);
      const err = logs();
      return {
        status: 'succeeded',
        result,
        logs: taskLogs(kept, err.stderr, err.truncated || kept.length < stdout.length),
      };
    } catch {
      const head = text.length > 200 ? `${text.slice(0, 200)}...` : text;
      const why = (err as Error).message;
      return failedOutcome(`${name} printed output that is not JSON (${why}): ${head}`, logs(), stderrTail);
    }
  }
}

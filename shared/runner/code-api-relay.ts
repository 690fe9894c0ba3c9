// Relays HKube's code API calls of the task a host process runs (`start(args, hkubeApi)`) to the
// engine's session, and the results back. The host sends `{t:"call", task, n, op, ...}` when the
// code starts call n and `{t:"wait", task, w, calls:[n...]}` when it waits; the relay answers each
// wait with `{t:"reply", w, results}` on the request pipe. While at least one wait is open the
// task's worker slot is lent (the session's `lend`), so its children can run even on one slot.
import type { CodeApiCall, CodeApiResult, CodeApiSession } from '../ports/code-api.ts';

/** A code API message from a host (one JSON line on the response pipe). */
export interface HostApiMessage {
  t: 'call' | 'wait';
  task: number;
  n?: number;
  op?: string;
  name?: unknown;
  input?: unknown;
  descriptor?: unknown;
  flowInput?: unknown;
  w?: number;
  calls?: unknown;
}

export function isHostApiMessage(v: unknown): v is HostApiMessage {
  const t = (v as { t?: unknown } | null)?.t;
  return (t === 'call' || t === 'wait') && typeof (v as { task?: unknown }).task === 'number';
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The call a message asks for, or why it is malformed. */
function callOf(m: HostApiMessage): CodeApiCall | string {
  const flowInput = m.flowInput === undefined || m.flowInput === null ? undefined : m.flowInput;
  if (flowInput !== undefined && !isObject(flowInput)) return 'flowInput must be an object';
  const extra = flowInput ? { flowInput } : {};
  switch (m.op) {
    case 'algorithm':
      if (typeof m.name !== 'string' || !m.name) return 'start_algorithm needs an algorithm name';
      if (!Array.isArray(m.input)) return 'the input of start_algorithm must be a list';
      return { op: 'algorithm', name: m.name, input: m.input };
    case 'stored':
      if (typeof m.name !== 'string' || !m.name) return 'start_stored_subpipeline needs a pipeline name';
      return { op: 'stored', name: m.name, ...extra };
    case 'raw':
      if (!isObject(m.descriptor)) return 'start_raw_subpipeline needs a pipeline descriptor';
      return { op: 'raw', descriptor: m.descriptor, ...extra };
    default:
      return `unknown code API call "${String(m.op)}"`;
  }
}

export class CodeApiRelay {
  private readonly calls = new Map<number, Promise<CodeApiResult>>();
  private waits = 0;
  private over = false;

  constructor(
    private readonly session: CodeApiSession | undefined,
    private readonly reply: (line: string) => void,
  ) {}

  handle(m: HostApiMessage): void {
    if (this.over) return;
    if (m.t === 'call' && typeof m.n === 'number') {
      if (this.calls.has(m.n)) return;
      const call = callOf(m);
      const result: Promise<CodeApiResult> =
        typeof call === 'string'
          ? Promise.resolve({ error: call })
          : this.session
            ? this.session.call(m.n, call)
            : Promise.resolve({ error: 'the code API is not available where this task runs' });
      this.calls.set(m.n, result);
    } else if (m.t === 'wait' && typeof m.w === 'number' && Array.isArray(m.calls)) {
      const w = m.w;
      const waited = m.calls.map(
        (n) => this.calls.get(n as number) ?? Promise.resolve({ error: `no call number ${String(n)}` }),
      );
      if (this.waits++ === 0) this.session?.lend(true);
      void Promise.all(waited).then((results) => {
        if (this.over) return;
        if (--this.waits === 0) this.session?.lend(false);
        this.reply(`${JSON.stringify({ t: 'reply', w, results })}\n`);
      });
    }
  }

  /** The task is over: nothing more is relayed, and its slot is no longer lent. */
  end(): void {
    if (this.over) return;
    this.over = true;
    if (this.waits > 0) this.session?.lend(false);
    this.waits = 0;
  }
}

// Files the end-to-end tests run: a "slow" command algorithm that records every start and end of
// an item in a log (so a test can count how often each item ran) and sleeps input[1] seconds
// ($SLUICE_TEST_SLEEP overrides it, so a resumed job can finish fast), and a failing one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SLOW_PY = `import json, os, sys, time
args = json.load(sys.stdin)
i = args["info"].get("batchIndex")
log = os.environ["SLUICE_TEST_LOG"]
def note(text):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, (text + "\\n").encode())
    os.close(fd)
note("start %s %d" % (i, os.getpid()))
time.sleep(float(os.environ.get("SLUICE_TEST_SLEEP") or args["input"][1]))
note("end %s" % i)
print(json.dumps(args["input"][0] * 10))
`;

/** Writes algorithms/{slow,fail}.yml (codePath relative to the file) and their code under dir. */
export function writeAlgorithms(dir: string): { slow: string; fail: string } {
  mkdirSync(join(dir, 'algorithms'), { recursive: true });
  mkdirSync(join(dir, 'code'), { recursive: true });
  writeFileSync(join(dir, 'code', 'slow.py'), SLOW_PY);
  const slow = join(dir, 'algorithms', 'slow.yml');
  writeFileSync(slow, 'name: slow\nenv: command\ncommand: [python3, slow.py]\ncodePath: ../code\n');
  const fail = join(dir, 'algorithms', 'fail.yml');
  writeFileSync(
    fail,
    'name: fail\nenv: command\ncommand: [python3, -c, "import sys; sys.stderr.write(\'disk full\\\\n\'); sys.exit(3)"]\ncodePath: ../code\n',
  );
  return { slow, fail };
}

/** A pipeline of one batch node running `slow` over items 1..n, each sleeping `seconds`. */
export function slowPipeline(name: string, n: number, seconds: number, extra = ''): string {
  return `name: ${name}\nnodes:\n  - nodeName: S\n    algorithmName: slow\n    input: ["#[1...${n}]", ${seconds}]\n${extra}`;
}

export interface LogEntry {
  kind: 'start' | 'end';
  item: number;
  pid?: number;
}

export function readLog(file: string): LogEntry[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [kind, item, pid] = l.split(' ');
      return {
        kind: kind as LogEntry['kind'],
        item: Number(item),
        ...(pid ? { pid: Number(pid) } : {}),
      };
    });
}

export function countBy(entries: LogEntry[], kind: LogEntry['kind']): Map<number, number> {
  const m = new Map<number, number>();
  for (const e of entries) if (e.kind === kind) m.set(e.item, (m.get(e.item) ?? 0) + 1);
  return m;
}

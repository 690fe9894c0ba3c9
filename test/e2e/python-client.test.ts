// The Python client (clients/python) against a real `sluice serve` on 127.0.0.1: python3 scripts
// that import it (PYTHONPATH, nothing installed) submit a raw and a stored pipeline, wait with the
// progress bar (the live event stream, and status polling), get results as Python objects; a
// failing job raises JobFailed carrying the task's error; a job is stopped; a wrong token is a
// SluiceError with the API's status and type.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO, type Served, serve, sluiceEnv } from '../helpers/process.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 40_000 });

let dir: string;
let home: string;
let s: Served;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-pyclient-'));
  home = join(dir, 'home');
  const code = join(dir, 'algos');
  mkdirSync(code);
  writeFileSync(
    join(code, 'boom.py'),
    'def start(args):\n    raise ValueError("boom on %r" % (args["input"][0],))\n',
  );
  writeFileSync(
    join(code, 'nap.py'),
    'import time\n\ndef start(args):\n    time.sleep(args["input"][0])\n    return args["input"][-1]\n',
  );
  s = await serve(['-w', '2'], { env: sluiceEnv(home) });
  for (const [name, entryPoint] of [
    ['boom', 'boom.py'],
    ['nap', 'nap.py'],
  ]) {
    const res = await fetch(`${s.url}/api/v1/store/algorithms`, {
      method: 'POST',
      headers: { ...s.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ name, env: 'python', codePath: code, entryPoint }),
    });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  if (s) {
    s.child.kill('SIGTERM');
    await s.exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a python3 script using the client; its stdout's last line is JSON. */
function python(
  script: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: unknown; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PYTHONPATH: join(REPO, 'clients/python'),
        SLUICE_HOME: home,
        SLUICE_ENDPOINT: s.url,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      let out: unknown;
      try {
        out = JSON.parse(last);
      } catch {
        out = stdout;
      }
      resolve({ code, out, stderr });
    });
  });
}

const PIPELINE = {
  name: 'py-batch',
  nodes: [
    { nodeName: 'items', algorithmName: 'echo', input: ['#[1...4]', '@flowInput.x'] },
    { nodeName: 'all', algorithmName: 'echo', input: ['@items'] },
  ],
  flowInput: { x: 'a' },
};
const NAPPING = {
  name: 'py-nap',
  nodes: [
    { nodeName: 'nap', algorithmName: 'nap', input: [1, [1, 2]] },
    { nodeName: 'all', algorithmName: 'echo', input: ['#@nap', '@flowInput.x'] },
  ],
  flowInput: { x: 'a' },
};
const expected = (x: unknown) => [
  {
    nodeName: 'all',
    algorithmName: 'echo',
    result: [
      [
        [1, x],
        [2, x],
        [3, x],
        [4, x],
      ],
    ],
  },
];

describe('Python client against sluice serve', () => {
  it('runs a raw pipeline: submit, wait on the event stream with a progress bar, results', async () => {
    const r = await python(`
import json
from sluice_client import Client
c = Client()  # SLUICE_ENDPOINT, and the token of SLUICE_HOME
job = c.submit_raw(json.loads(${JSON.stringify(JSON.stringify(NAPPING))}))
view = c.wait(job)
print(json.dumps({"job": job, "status": view["status"], "by": c.waited_by, "events": c._events_read, "data": c.results(job)}))
`);
    expect(r.code, r.stderr).toBe(0);
    const out = r.out as { job: string; status: string; by: string; events: number; data: unknown };
    expect(out.status).toBe('completed');
    // The job still ran when the wait began (a python task naps 1 s): it followed the stream.
    expect(out.by).toBe('events');
    expect(out.events).toBeGreaterThan(0);
    expect(out.data).toEqual([
      { nodeName: 'all', algorithmName: 'echo', batchIndex: 1, result: [1, 'a'] },
      { nodeName: 'all', algorithmName: 'echo', batchIndex: 2, result: [2, 'a'] },
    ]);
    // Not a terminal: one progress line per change, from the start to the end.
    const lines = r.stderr.trim().split('\n');
    expect(lines.length, r.stderr).toBeGreaterThan(1);
    expect(lines[0]).toMatch(new RegExp(`^${out.job} \\[-{30}\\]   0% (pending|active), 0/\\d tasks$`));
    expect(lines.at(-1)).toMatch(new RegExp(`^${out.job} \\[#{30}\\] 100% completed, 3/3 tasks$`));
    // The job is the server's: its status agrees.
    const res = await fetch(`${s.url}/api/v1/exec/status/${out.job}`, { headers: s.headers });
    const status = (await res.json()) as { status: string };
    expect(status.status).toBe('completed');
  });

  it('runs a stored pipeline with endpoint and token as arguments, polling when told to', async () => {
    const stored = await fetch(`${s.url}/api/v1/store/pipelines`, {
      method: 'POST',
      headers: { ...s.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ ...PIPELINE, name: 'py-stored' }),
    });
    expect(stored.status).toBe(201);
    const r = await python(
      `
import json
from sluice_client import Client
c = Client(${JSON.stringify(s.url)}, token=${JSON.stringify(s.token)}, progress=False)
c._wait_events = lambda *a: None  # as if the server had no event stream
data = c.run_stored("py-stored", flow_input={"x": {"deep": [1, None]}})
print(json.dumps({"by": c.waited_by, "data": data}))
`,
      { SLUICE_HOME: join(dir, 'nowhere'), SLUICE_ENDPOINT: 'http://127.0.0.1:9' },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toEqual({ by: 'polling', data: expected({ deep: [1, null] }) });
    expect(r.stderr).toBe(''); // progress=False
  });

  it('a failing job raises JobFailed with the task’s error', async () => {
    const r = await python(`
import json
from sluice_client import Client, JobFailed
c = Client(progress=False)
try:
    c.run_raw({"name": "py-fail", "nodes": [{"nodeName": "bad", "algorithmName": "boom", "input": [3]}]})
    print(json.dumps({"raised": False}))
except JobFailed as e:
    print(json.dumps({"raised": True, "status": e.job_status, "reason": e.reason, "message": str(e), "job": e.job_id}))
`);
    expect(r.code, r.stderr).toBe(0);
    const out = r.out as { raised: boolean; status: string; reason: string; message: string; job: string };
    expect(out.raised).toBe(true);
    expect(out.status).toBe('failed');
    expect(out.reason).toContain('ValueError: boom on 3');
    expect(out.message).toMatch(new RegExp(`^job ${out.job} failed: .*bad`));
  });

  it('stops a running job; wait raises with status stopped; a wait can time out', async () => {
    const r = await python(`
import json
from sluice_client import Client, JobFailed
c = Client(progress=False)
job = c.submit_raw({"name": "py-slow", "nodes": [{"nodeName": "slow", "algorithmName": "nap", "input": [30]}]})
try:
    c.wait(job, timeout=1)
    timed_out = False
except TimeoutError:
    timed_out = True
c.stop(job, reason="enough")
try:
    c.wait(job)
    print(json.dumps({"raised": False}))
except JobFailed as e:
    print(json.dumps({"raised": True, "timedOut": timed_out, "status": e.job_status, "reason": e.reason}))
`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toMatchObject({ raised: true, timedOut: true, status: 'stopped' });
    expect((r.out as { reason: string }).reason).toContain('enough');
  });

  it('in a Jupyter kernel the progress bar is one display updated in place, not stderr', async () => {
    // A stand-in IPython module: a shell with a kernel, and a display that records its updates.
    const fake = join(dir, 'fake-ipython');
    mkdirSync(join(fake, 'IPython'), { recursive: true });
    writeFileSync(
      join(fake, 'IPython', '__init__.py'),
      'class _Shell:\n    kernel = object()\n\ndef get_ipython():\n    return _Shell()\n',
    );
    writeFileSync(
      join(fake, 'IPython', 'display.py'),
      [
        'shown = []',
        'class _Handle:',
        '    def update(self, obj):',
        '        shown.append(obj)',
        'def display(obj, display_id=None):',
        '    assert display_id is True',
        '    shown.append(obj)',
        '    return _Handle()',
        '',
      ].join('\n'),
    );
    const r = await python(
      `
import json
from sluice_client import Client
from IPython import display
data = Client().run_raw(json.loads(${JSON.stringify(JSON.stringify(PIPELINE))}))
print(json.dumps({"shown": display.shown, "data": data}))
`,
      { PYTHONPATH: `${join(REPO, 'clients/python')}:${fake}` },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.out as { shown: string[]; data: unknown };
    expect(out.data).toEqual(expected('a'));
    expect(r.stderr).toBe('');
    expect(out.shown.length).toBeGreaterThan(1);
    expect(out.shown.at(-1)).toMatch(/\[#{30}\] 100% completed, 5\/5 tasks$/);
  });

  it('an API error is a SluiceError with the status, type and one-line message', async () => {
    const r = await python(`
import json
from sluice_client import Client, SluiceError
out = {}
try:
    Client(token="wrong").status("x")
except SluiceError as e:
    out["auth"] = [e.status, e.type]
try:
    Client().submit_raw({"name": "py-bad", "nodes": [], "bogus": 1})
except SluiceError as e:
    out["invalid"] = [e.status, e.type, "\\n" in e.message]
try:
    Client("http://127.0.0.1:9").status("x")
except SluiceError as e:
    out["down"] = str(e).startswith("cannot reach http://127.0.0.1:9/api/v1")
print(json.dumps(out))
`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toEqual({
      auth: [401, 'UNAUTHORIZED'],
      invalid: [400, expect.any(String), false],
      down: true,
    });
  });
});

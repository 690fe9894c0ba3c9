// HKube's code API round trip on the embedded engine: a Python algorithm that starts a trivial
// algorithm and waits (`start_algorithm(...).get()`), one after another and 50 at once
// (`wait_all`), against the same child work submitted by a client as one-node jobs, one after
// another, in the same run. Each call is a child job (docs/algorithms.md), so the two should be close.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEngine } from '../../shared/runtime/embedded/local-engine.ts';
import type { BenchSuite } from '../types.ts';

const ECHO = 'def start(args):\n    return args["input"][0]\n';
const CALLER = `import time
def start(args, hkubeApi):
    n = args["input"][0]
    t = time.time()
    for i in range(n):
        hkubeApi.start_algorithm("bench-echo", [i]).get()
    sequential = (time.time() - t) / n
    t = time.time()
    hkubeApi.wait_all([hkubeApi.start_algorithm("bench-echo", [i]) for i in range(n)])
    return {"sequential": sequential * 1000, "waitAll": (time.time() - t) / n * 1000}
`;

export const codeApiSuite: BenchSuite = {
  name: 'code-api',
  description: 'start_algorithm round trip from a Python algorithm vs client-submitted one-node jobs',
  async unavailable() {
    return undefined;
  },
  async run() {
    const calls = 50;
    const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-codeapi-'));
    try {
      for (const [name, text] of [
        ['echo', ECHO],
        ['caller', CALLER],
      ] as const) {
        await mkdir(join(dir, name));
        await writeFile(join(dir, name, 'main.py'), text);
      }
      const engine = await LocalEngine.open({ home: join(dir, 'home'), workers: 2 });
      try {
        const { coordinator } = engine;
        const put = (name: string, codePath: string) =>
          coordinator.ports.registry.putAlgorithm(
            { name, env: 'python', codePath, entryPoint: 'main.py', minHotWorkers: 0 },
            'upsert',
          );
        await put('bench-echo', join(dir, 'echo'));
        await put('bench-caller', join(dir, 'caller'));
        const one = (algorithmName: string, input: unknown[]) =>
          coordinator
            .submit({ name: 'bench', nodes: [{ nodeName: 'n', algorithmName, input }] })
            .then((j) => engine.waitForJob(j.jobId));
        await one('bench-echo', [0]); // warm: the echo process exists before timing
        const started = Date.now();
        for (let i = 0; i < calls; i++) await one('bench-echo', [i]);
        const client = (Date.now() - started) / calls;
        const job = await one('bench-caller', [calls]);
        const [task] = await coordinator.ports.tasks.nodeResults(job.jobId, 'n');
        const r = task?.result as { sequential: number; waitAll: number } | undefined;
        if (!r) throw new Error(`the caller did not finish: ${job.status} ${job.reason ?? ''}`);
        console.log(`client-submitted one-node job, one at a time: ${client.toFixed(1)} ms per job`);
        console.log(
          `start_algorithm(...).get(), one at a time:      ${r.sequential.toFixed(1)} ms per call (${(r.sequential / client).toFixed(2)}x)`,
        );
        console.log(`start_algorithm x${calls} + wait_all:             ${r.waitAll.toFixed(1)} ms per call`);
      } finally {
        await engine.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

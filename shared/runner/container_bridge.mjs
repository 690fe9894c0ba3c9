// Runs a hot host process inside a container and relays its channels: the pool writes requests on
// our fd 3 and reads responses on our fd 4, which cannot cross `docker run`; the host in the
// container opens two FIFOs of a bind-mounted directory instead (SLUICE_HOST_PIPES), and this
// process copies fd 3 -> `requests` and `responses` -> fd 4. stdout/stderr (the task's logs) pass
// straight through the runtime. Plain JS so it starts fast.
//
// argv: DIR GRACE_S RUNTIME RUN_ARGS... — DIR is a private directory this process owns (removed at
// exit); its `pipes` subdirectory is the one the run args mount.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

const [dir, graceSeconds, runtime, ...runArgs] = process.argv.slice(2);
const pipes = join(dir, 'pipes');
mkdirSync(pipes);
// The container may run as any user: the directory above (0700, ours) keeps other local users out.
chmodSync(pipes, 0o777);
execFileSync('mkfifo', ['-m', '666', join(pipes, 'requests'), join(pipes, 'responses')]);

const name = runArgs[runArgs.indexOf('--name') + 1];
const child = spawn(runtime, runArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('error', (err) => {
  process.stderr.write(`could not start ${runtime}: ${err.message}\n`);
  finish(127);
});
child.on('exit', (code, signal) => finish(code ?? (signal ? 128 : 1)));

// Opening a FIFO waits for the other end: these opens complete when the host in the container opens
// its ends (in the same order: requests, then responses).
const fromPool = new Socket({ fd: 3, readable: true, writable: false });
const toPool = new Socket({ fd: 4, readable: false, writable: true });
const toHost = createWriteStream(join(pipes, 'requests'));
fromPool.pipe(toHost);
createReadStream(join(pipes, 'responses')).pipe(toPool);
toHost.on('error', () => {});
toPool.on('error', () => {});

// The pool signals our whole process group (the runtime client included, which passes SIGTERM on to
// the container). A client killed later would leave its container running: `stop` is started in a
// group of its own, so it outlives that SIGKILL and kills the container after the same grace.
process.on('SIGTERM', () => {
  spawn(runtime, ['stop', '--time', graceSeconds, name], { stdio: 'ignore', detached: true }).unref();
});

function finish(code) {
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

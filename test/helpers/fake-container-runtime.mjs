// A stand-in for `docker`/`podman` in tests: it appends its argv as a JSON line to
// $FAKE_RUNTIME_LOG and, for `run`, runs the container's command as a local process, with each
// bind mount's container path in the arguments, the working directory and the -e values replaced by
// its host path (so a mounted host script and FIFOs work as they would in a container). `stop NAME`
// signals the process `run --name NAME` started. Nothing is isolated: this tests Sluice's side.
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const state = process.env.FAKE_RUNTIME_STATE;
appendFileSync(process.env.FAKE_RUNTIME_LOG, `${JSON.stringify(argv)}\n`);

if (argv[0] === 'stop') {
  const name = argv.at(-1);
  const grace = Number(argv[argv.indexOf('--time') + 1] || 10) * 1000;
  let pid;
  try {
    pid = Number(readFileSync(join(state, `${name}.pid`), 'utf8'));
  } catch {
    process.exit(0); // already gone
  }
  try {
    process.kill(pid, 'SIGTERM');
    setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }, grace).unref();
  } catch {}
} else if (argv[0] === 'run') {
  const mounts = [];
  const env = {};
  let cwd = process.cwd();
  let name;
  let i = 1;
  const withValue = new Set(['--name', '-v', '-w', '-e', '--cpus', '--memory']);
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const flag = argv[i];
    if (!withValue.has(flag)) continue;
    const value = argv[++i];
    if (flag === '--name') name = value;
    if (flag === '-v') {
      const [host, container] = value.split(':');
      mounts.push({ host, container });
    }
    if (flag === '-e') {
      const at = value.indexOf('=');
      env[value.slice(0, at)] = value.slice(at + 1);
    }
    if (flag === '-w') cwd = value;
  }
  const command = argv.slice(i + 1); // argv[i] is the image
  // Longest container path first, so /sluice/host/x.py wins over a mount of /sluice/host.
  mounts.sort((a, b) => b.container.length - a.container.length);
  const local = (s) => {
    for (const m of mounts) {
      if (s === m.container || s.startsWith(`${m.container}/`)) return m.host + s.slice(m.container.length);
    }
    return s;
  };
  for (const key of Object.keys(env)) env[key] = local(env[key]);
  const child = spawn(command[0], command.slice(1).map(local), {
    cwd: local(cwd),
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  const pidFile = name ? join(state, `${name}.pid`) : undefined;
  child.on('spawn', () => pidFile && writeFileSync(pidFile, String(child.pid)));
  child.on('error', (err) => {
    process.stderr.write(`fake runtime: ${err.message}\n`);
    process.exit(127);
  });
  // `docker run` passes signals on to the container (sig-proxy).
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (pidFile) rmSync(pidFile, { force: true });
    process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
  });
}

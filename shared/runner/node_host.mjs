// Sluice hot worker for Node.js algorithms: imports the user's module once, then serves tasks.
// Usage: node node_host.mjs CODE_DIR ENTRY_POINT MARKER
// Plain JS (no tsx) so it starts fast. Requests arrive as JSON lines on fd 3, responses leave on
// fd 4; stdout/stderr stay the user's (the pool captures them as logs). After each task the host
// writes MARKER on stdout and stderr, which tells the pool where that task's output ends.
// HKube's interface: start(args, hkubeApi) (may return a Promise); optional init(args), once, before
// the first task. hkubeApi is HKube's code API: each call goes to the pool as {"t":"call"} on fd 4 and
// a wait as {"t":"wait"}; the pool answers {"t":"reply"} on fd 3.
import { openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [codeDir = '.', entryPoint = 'index.js', marker = ''] = process.argv.slice(2);
// User code (or a library parsing flags) should see its own program, not ours.
process.argv = [process.argv[0], resolve(codeDir, entryPoint)];

const HOST_FRAME = /node_host\.mjs|\(node:internal|at node:internal/;

function describe(err) {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  // The stack's header repeats the message, and the host's own frames are noise to the user.
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l) && !HOST_FRAME.test(l));
  return { type: err.name || 'Error', message: err.message, trace: frames.join('\n') };
}

async function load() {
  // require.resolve gives Node's usual lookup: extension-less names, directories, package.json main.
  const file = createRequire(join(resolve(codeDir), 'noop.js')).resolve(resolve(codeDir, entryPoint));
  const mod = await import(pathToFileURL(file).href);
  const pick = (name) => (typeof mod[name] === 'function' ? mod[name] : mod.default?.[name]);
  const start = pick('start');
  if (typeof start !== 'function') throw new TypeError(`${entryPoint} exports no start(args) function`);
  const init = pick('init');
  return { start, init: typeof init === 'function' ? init : undefined };
}

function rejectNonJson(_key, value) {
  const kind = typeof value;
  if (kind === 'function' || kind === 'symbol')
    throw new TypeError(`a ${kind} cannot be represented in JSON`);
  return value;
}

let algorithm;
let loadError;
try {
  algorithm = await load();
} catch (err) {
  loadError = describe(err);
}
let initOk = false;

// The code API of the task being served. Calls are numbered in the order the code makes them, so a
// retried task asks for the same children and gets their results again.
let currentTask = 0;
let calls = 0;
let waits = 0;
const replies = new Map();
function send(message) {
  responses.write(`${JSON.stringify({ ...message, task: currentTask })}\n`);
}
function startCall(message) {
  const n = ++calls;
  send({ t: 'call', n, ...message });
  const w = ++waits;
  send({ t: 'wait', w, calls: [n] });
  return new Promise((resolve) => replies.set(w, (results) => resolve(results[0])));
}
const hkubeApi = {
  /** Runs algorithm `name` with `input` (its args.input): resolves {response} or {error}. */
  startAlgorithm: (name, input = []) => startCall({ op: 'algorithm', name, input }),
  /** Runs the stored pipeline `name`: resolves {response: its results} or {error}. */
  startStoredSubpipeline: (name, flowInput) => startCall({ op: 'stored', name, flowInput }),
  /** Runs a pipeline descriptor (an object, or HKube's (name, nodes, flowInput, options)). */
  startRawSubpipeline(name, nodes, flowInput, options) {
    if (typeof name === 'object' && name !== null) {
      return startCall({
        op: 'raw',
        descriptor: name,
        flowInput: flowInput ?? (Array.isArray(nodes) ? undefined : nodes),
      });
    }
    const descriptor = { name, nodes: nodes ?? [], ...(options ? { options } : {}) };
    return startCall({ op: 'raw', descriptor, flowInput });
  },
  /** Waits for several started calls; their results in order (none rejects). */
  waitAll: (promises) => Promise.all(promises),
};

async function serve(request) {
  const args = { input: request.input, info: request.info };
  let response;
  try {
    if (loadError) throw Object.assign(new Error(), { described: loadError });
    if (!initOk) {
      if (algorithm.init) await algorithm.init(args);
      initOk = true;
    }
    currentTask = request.id;
    calls = 0;
    const result = await algorithm.start(args, hkubeApi);
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result, rejectNonJson);
    } catch (err) {
      throw new TypeError(`the result of start() is not JSON-serializable: ${err.message}`);
    }
    response = `{"id":${request.id},"ok":true,"result":${body}}\n`;
  } catch (err) {
    const error = err?.described ?? describe(err);
    // A failed module load or init() leaves nothing usable: the pool retires this process.
    response = `${JSON.stringify({ id: request.id, ok: false, error, fatal: !initOk })}\n`;
  }
  process.stdout.write(`${marker}\n`);
  process.stderr.write(`${marker}\n`);
  responses.write(response);
}

// fds 3 and 4, or, in a container (the pool's fds cannot cross `docker run`), the two FIFOs of the
// directory SLUICE_HOST_PIPES names, which container_bridge.mjs relays to them.
const pipes = process.env.SLUICE_HOST_PIPES;
delete process.env.SLUICE_HOST_PIPES;
const requestsFd = pipes ? openSync(join(pipes, 'requests'), 'r') : 3;
const responsesFd = pipes ? openSync(join(pipes, 'responses'), 'w') : 4;
const responses = new Socket({ fd: responsesFd, readable: false, writable: true });
const requests = new Socket({ fd: requestsFd, readable: true, writable: false });
requests.setEncoding('utf8');
let chain = Promise.resolve();
// Only the new chunk is searched for a newline: a large input line costs O(size), not O(size^2).
let parts = [];
requests.on('data', (chunk) => {
  let start = 0;
  let nl = chunk.indexOf('\n');
  while (nl >= 0) {
    parts.push(chunk.slice(start, nl));
    const request = JSON.parse(parts.join(''));
    parts = [];
    if (request.t === 'reply') {
      const done = replies.get(request.w);
      replies.delete(request.w);
      done?.(request.results);
    } else chain = chain.then(() => serve(request));
    start = nl + 1;
    nl = chunk.indexOf('\n', start);
  }
  if (start < chunk.length) parts.push(chunk.slice(start));
});
// The pool closed our request pipe (it exited or retired us): leave, whatever the user left running.
requests.on('end', () => process.exit(0));

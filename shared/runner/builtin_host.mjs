// Sluice builtin host: runs built-in algorithms (echo, cp, zip, fetch...) in a process of their
// own, so a builtin that crashes or leaks cannot take the engine down. Several run at once (the
// pool decides how many: io-bound ones share a host). Plain JS so it starts without a build;
// `.ts` builtin modules are loaded through tsx.
//
// Environment: SLUICE_BUILTIN_MODULES = JSON [{url, exportName}], SLUICE_MAX_LOG_LINES,
// SLUICE_OBJECT_STORES_MODULE = JSON {url, exportName}: a factory (env) => ObjectStores whose
// result every task gets as ctx.objectStores (the IO algorithms' s3:// stores).
// Protocol: JSON lines. fd 3 in: {t:'run', id, name, input, info, cacheUrl?} | {t:'cancel', id}.
// fd 4 out: {id, ok:true, result, logs} | {id, ok:false, error:{type,message,trace?,code?,retryable?,details?}, logs}.
// Messages are batched both ways (one write per burst: flushed on nextTick, i.e. after the
// current run of callbacks and promise reactions) to keep per-task cost tiny.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Socket } from 'node:net';

const modules = JSON.parse(process.env.SLUICE_BUILTIN_MODULES ?? '[]');
const maxLogLines = Number(process.env.SLUICE_MAX_LOG_LINES ?? 1000);
const storesModule = process.env.SLUICE_OBJECT_STORES_MODULE
  ? JSON.parse(process.env.SLUICE_OBJECT_STORES_MODULE)
  : undefined;

if ([...modules, storesModule].some((m) => m && /\.[cm]?tsx?$/.test(new URL(m.url).pathname))) {
  const { register } = await import('tsx/esm/api');
  register();
}
const registry = new Map();
for (const { url, exportName } of modules) {
  const list = (await import(url))[exportName];
  if (!Array.isArray(list)) throw new TypeError(`${url} has no array export '${exportName}'`);
  for (const builtin of list) registry.set(builtin.name, builtin);
}

// One provider for the process: its stores (and their sockets) are shared by all tasks. Building it
// loads no SDK: a store is only made when a task asks for one.
const storesFactory = storesModule ? (await import(storesModule.url))[storesModule.exportName] : undefined;
const objectStores = storesFactory?.(process.env);
// Tasks of pipelines with options.cache read through the machine's dataset cache (the pool hands
// its URL with each such task): their environment and s3:// stores point at it.
const cached = new Map();
function cachedContext(url) {
  let c = cached.get(url);
  if (!c) {
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL_S3: url,
      SLUICE_CACHE_URL: url,
      SLUICE_S3_FORCE_PATH_STYLE: '1',
    };
    c = { env, objectStores: storesFactory?.(env), cacheUrl: url };
    cached.set(url, c);
  }
  return c;
}

const responses = new Socket({ fd: 4, readable: false, writable: true });
let pending = [];
function send(line) {
  if (pending.length === 0) process.nextTick(flush);
  pending.push(line);
}
function flush() {
  const text = pending.join('');
  pending = [];
  responses.write(text);
}

function describe(err) {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  // Bad input is the user's mistake: the message says it all; anything else gets its stack.
  const expected = err.name === 'ValidationError' || err.name === 'AbortError';
  // A typed (Sluice) error also says what it is and whether a retry can help; an IO built-in's
  // IoFailuresError carries its summary with the per-item failures (shared/runner/failure.ts).
  const details = err.summary ?? err.details;
  return {
    type: err.name || 'Error',
    message: err.message,
    ...(expected ? {} : { trace: err.stack }),
    ...(typeof err.code === 'string' ? { code: err.code } : {}),
    ...(typeof err.retryable === 'boolean' ? { retryable: err.retryable } : {}),
    ...(details !== undefined ? { details } : {}),
  };
}

const running = new Map();
// Which task an asynchronous callback belongs to: an error thrown where nobody can catch it (a
// stream's 'error' without a listener, a throw in a timer) fails that task only, never the host
// and the other tasks it runs. An error no task owns still ends the host (as a crash).
const taskOf = new AsyncLocalStorage();
const failTask = new Map();
function onStrayError(err) {
  const id = taskOf.getStore();
  const fail = id !== undefined ? failTask.get(id) : undefined;
  if (!fail) {
    process.stderr.write(`builtin host: uncaught error outside any task: ${err?.stack ?? err}\n`);
    process.exit(70);
  }
  fail(err);
}
process.on('uncaughtException', onStrayError);
process.on('unhandledRejection', onStrayError);

function run(request) {
  const { id } = request;
  const builtin = registry.get(request.name);
  const logs = [];
  if (!builtin) {
    const error = { type: 'ValidationError', message: `unknown built-in algorithm '${request.name}'` };
    send(`${JSON.stringify({ id, ok: false, error, logs })}\n`);
    return;
  }
  const controller = new AbortController();
  running.set(id, controller);
  const ctx = {
    signal: controller.signal,
    env: process.env,
    objectStores,
    ...(request.cacheUrl ? cachedContext(request.cacheUrl) : {}),
    log(line) {
      logs.push(String(line));
      if (logs.length > 2 * maxLogLines) logs.splice(0, logs.length - maxLogLines);
    },
  };
  let finished = false;
  const done = (line) => {
    if (finished) return;
    finished = true;
    running.delete(id);
    failTask.delete(id);
    send(line);
  };
  let promise;
  const stray = new Promise((_, reject) => {
    failTask.set(id, (err) => {
      controller.abort(err); // let the task's other work stop
      const e = err instanceof Error ? err : new Error(String(err));
      try {
        e.message = `uncaught error in '${builtin.name}': ${e.message}`;
      } catch {}
      reject(e);
    });
  });
  try {
    promise = taskOf.run(id, () => Promise.resolve(builtin.run(request.input, ctx)));
  } catch (err) {
    promise = Promise.reject(err);
  }
  Promise.race([promise, stray]).then(
    (result) => {
      let body;
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch (err) {
        const message = `the result of '${builtin.name}' is not JSON-serializable: ${err.message}`;
        done(
          `${JSON.stringify({ id, ok: false, error: { type: 'TypeError', message }, logs: tail(logs) })}\n`,
        );
        return;
      }
      done(`{"id":${id},"ok":true,"logs":${JSON.stringify(tail(logs))},"result":${body}}\n`);
    },
    (err) => done(`${JSON.stringify({ id, ok: false, error: describe(err), logs: tail(logs) })}\n`),
  );
}

function tail(logs) {
  return logs.length > maxLogLines ? logs.slice(-maxLogLines) : logs;
}

const requests = new Socket({ fd: 3, readable: true, writable: false });
requests.setEncoding('utf8');
// Only the new chunk is searched for a newline: a large input line costs O(size), not O(size^2).
let parts = [];
requests.on('data', (chunk) => {
  let start = 0;
  let nl = chunk.indexOf('\n');
  while (nl >= 0) {
    parts.push(chunk.slice(start, nl));
    const request = JSON.parse(parts.length === 1 ? parts[0] : parts.join(''));
    parts = [];
    if (request.t === 'run') run(request);
    else if (request.t === 'cancel')
      running.get(request.id)?.abort(new DOMException('stopped', 'AbortError'));
    start = nl + 1;
    nl = chunk.indexOf('\n', start);
  }
  if (start < chunk.length) parts.push(chunk.slice(start));
});
// The pool closed our request pipe: it exited or retired us.
requests.on('end', () => process.exit(0));

// The `sluice make` process's side of the recipe shell (recipe-shell-source.ts): a unix socket
// server that reads one recipe per connection and answers with output frames and an exit status.
import { createServer, type Server, type Socket } from 'node:net';

export interface RecipeRequest {
  cwd: string;
  /** What make passed its shell: .SHELLFLAGS and the recipe text. */
  args: string[];
  /**
   * The recipe shell's environment as its NAME=VALUE strings, in order. Kept as strings: most of
   * them are the environment make started with, which a caller compares whole (environObject
   * makes an object, at ~0.4 µs a variable).
   */
  environ: string[];
}

/** NAME=VALUE strings as an object (a later string of the same name wins). */
export function environObject(environ: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of environ) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Where a recipe's output and exit status go (the recipe shell's connection). */
export interface RecipeReply {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  exit(code: number): void;
}

export interface RecipeHandler {
  /** A recipe arrived; `reply` takes its output and status. */
  recipe(req: RecipeRequest, reply: RecipeReply): void;
  /** A recipe shell got SIGINT/SIGTERM/SIGHUP: make is being interrupted. */
  interrupt(): void;
}

/** One frame of an answer to the recipe shell: type ('1', '2', 'x'), u32 length, payload. */
function answerFrame(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

/**
 * A recipe's reply as answer frames, for whichever side holds the connection: `send(frame, last)`,
 * `last` for the exit status, after which nothing more is sent.
 */
export function framedReply(send: (frame: Buffer, last: boolean) => void): RecipeReply {
  let answered = false;
  return {
    stdout: (d) => d.length > 0 && !answered && send(answerFrame('1', d), false),
    stderr: (d) => d.length > 0 && !answered && send(answerFrame('2', d), false),
    exit: (code) => {
      if (answered) return;
      answered = true;
      send(answerFrame('x', Buffer.from(String(code))), true);
    },
  };
}

/**
 * Hands a request body to the handler with its reply; one that cannot be read is answered here:
 * why, then the dispatch failure status (123).
 */
export function handleRequest(body: Buffer, handler: RecipeHandler, reply: RecipeReply): void {
  let req: RecipeRequest;
  try {
    req = parseRecipeRequest(body);
  } catch (err) {
    reply.stderr(Buffer.from(`sluice make: ${(err as Error).message}\n`));
    reply.exit(123);
    return;
  }
  handler.recipe(req, reply);
}

/** Parses a request body: NUL-terminated "SLM1", cwd, argc, args, then NAME=VALUE strings. */
export function parseRecipeRequest(body: Buffer): RecipeRequest {
  const parts = body.toString('utf8').split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  if (parts[0] !== 'SLM1') throw new Error('not a sluice recipe shell request');
  const cwd = parts[1] ?? '/';
  const argc = Number(parts[2]);
  if (!Number.isInteger(argc) || argc < 0) throw new Error('bad argument count');
  return { cwd, args: parts.slice(3, 3 + argc), environ: parts.slice(3 + argc) };
}

function serve(socket: Socket, handler: RecipeHandler): void {
  let buf = Buffer.alloc(0);
  let need = -1;
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    if (need === -2) {
      // After the request, a 'C' is the recipe shell's stop request.
      if (buf.includes(0x43)) handler.interrupt();
      buf = Buffer.alloc(0);
      return;
    }
    if (need === -1 && buf.length >= 4) need = buf.readUInt32BE(0);
    if (need < 0 || buf.length < 4 + need) return;
    const body = buf.subarray(4, 4 + need);
    const rest = buf.subarray(4 + need);
    need = -2;
    buf = Buffer.alloc(0);
    if (rest.includes(0x43)) handler.interrupt();
    const reply = framedReply((frame, last) => {
      if (socket.destroyed) return;
      socket.write(frame);
      if (!last) return;
      // Handed to the kernel whole (the usual case): closing now spares the shutdown round, a
      // sixth of this server's CPU per recipe. The recipe shell reads up to its 'x' frame.
      if (socket.writableLength === 0) socket.destroy();
      else socket.end();
    });
    handleRequest(body, handler, reply);
  });
}

/** Listens on `path` (a unix socket); resolves once it accepts connections. */
export async function startRecipeServer(path: string, handler: RecipeHandler): Promise<Server> {
  const server = createServer((s) => serve(s, handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

// The recipe shells' socket through the recipe gateway (recipe-gateway-source.ts): a small C process
// holds their connections and passes requests and answers over one pipe each way, so this process
// handles a recipe as a few bytes in a batch instead of a socket with its streams and callbacks
// (~100 µs of the main thread per recipe, on the path of every recipe). Same handler and protocol
// as startRecipeServer (recipe-server.ts), which is used where the gateway cannot be built.
import { type ChildProcess, spawn } from 'node:child_process';
import { compiledHelper } from '../../shared/io/native/compiled-helper.ts';
import { RECIPE_GATEWAY_C } from './recipe-gateway-source.ts';
import { framedReply, handleRequest, type RecipeHandler, startRecipeServer } from './recipe-server.ts';

/** What serves the recipe shells until closed. */
export interface RecipeListener {
  /** The gateway's process id (none when this process listens itself). */
  readonly pid?: number;
  /** Stops serving; resolves once the gateway has exited (its CPU then counts as this process's). */
  close(): Promise<void>;
}

const HEAD = 9;

/** The gateway's binary, compiled on first use; undefined where it cannot be built. */
async function gatewayBinary(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  return compiledHelper('recipe-gateway', RECIPE_GATEWAY_C, env).catch(() => undefined);
}

class Gateway implements RecipeListener {
  private pending: Buffer[] = [];
  private input: Buffer = Buffer.alloc(0);
  /** close() or abandon() was called: its exit is expected. */
  private closing = false;

  get pid(): number | undefined {
    return this.child.pid;
  }

  constructor(
    private readonly child: ChildProcess,
    private readonly handler: RecipeHandler,
    /** Told when the gateway ends before close(): recipe shells can no longer reach this process. */
    onGone: (why: string) => void,
  ) {
    child.once('exit', (code, signal) => {
      if (!this.closing) onGone(`the recipe gateway exited (${signal ?? `status ${code}`})`);
    });
  }

  /** Resolves once it listens; rejects with why it could not. */
  listening(): Promise<void> {
    return new Promise((resolve, reject) => {
      const gone = (why: string) => reject(new Error(`the recipe gateway ${why}`));
      this.child.once('error', (err) => gone(`could not start: ${err.message}`));
      this.child.once('exit', (code) => gone(`exited (${code})`));
      this.child.stdout?.on('data', (chunk: Buffer) => {
        this.input = this.input.length ? Buffer.concat([this.input, chunk]) : chunk;
        let off = 0;
        while (this.input.length - off >= HEAD) {
          const len = this.input.readUInt32BE(off + 5);
          if (this.input.length - off - HEAD < len) break;
          const type = this.input[off];
          const id = this.input.readUInt32BE(off + 1);
          const body = this.input.subarray(off + HEAD, off + HEAD + len);
          off += HEAD + len;
          if (type === 0x52 /* R */) this.request(id, body);
          else if (type === 0x43 /* C */) this.handler.interrupt();
          else if (type === 0x4c /* L */) resolve();
          else if (type === 0x46 /* F */) gone(`could not listen: ${body.toString()}`);
        }
        this.input = off === this.input.length ? Buffer.alloc(0) : this.input.subarray(off);
      });
    });
  }

  private request(id: number, body: Buffer): void {
    const reply = framedReply((frame, last) => this.send(last ? 0x45 /* E */ : 0x57 /* W */, id, frame));
    handleRequest(body, this.handler, reply);
  }

  /** Queues a message to the gateway; those of one turn go in one write. */
  private send(type: number, id: number, payload: Buffer): void {
    const head = Buffer.allocUnsafe(HEAD);
    head[0] = type;
    head.writeUInt32BE(id, 1);
    head.writeUInt32BE(payload.length, 5);
    if (this.pending.length === 0) process.nextTick(() => this.flush());
    this.pending.push(head, payload);
  }

  private flush(): void {
    const data = Buffer.concat(this.pending);
    this.pending = [];
    if (this.child.exitCode === null) this.child.stdin?.write(data);
  }

  /** It could not listen: ends it without a word (the caller reports why). */
  abandon(): void {
    this.closing = true;
    this.child.kill();
  }

  close(): Promise<void> {
    this.closing = true;
    // End of input: the gateway closes every connection, removes the socket file and exits.
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    this.child.stdin?.end();
    return exited;
  }
}

/**
 * Serves the recipe shells at `path` (a unix socket) through the recipe gateway, or in this process
 * where the gateway cannot be built. Resolves once connections are accepted.
 */
export async function listenForRecipes(
  path: string,
  handler: RecipeHandler,
  env: NodeJS.ProcessEnv,
  onGone: (why: string) => void = () => {},
): Promise<RecipeListener> {
  const bin = await gatewayBinary(env);
  if (!bin) {
    const server = await startRecipeServer(path, handler);
    return { close: async () => void server.close() };
  }
  // Its own process group: a Ctrl-C at the terminal reaches make and the recipe shells, whose stop
  // requests and answers still pass through the gateway; it ends when this process closes its input.
  const child = spawn(bin, [path], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  child.stdin?.on('error', () => {}); // it died: its exit says so
  const gateway = new Gateway(child, handler, onGone);
  try {
    await gateway.listening();
  } catch (err) {
    gateway.abandon();
    throw err;
  }
  return gateway;
}

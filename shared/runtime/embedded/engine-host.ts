// One engine per SLUICE_HOME: the process that runs it (`sluice run`, `serve`, `resume`) holds a
// lock file and publishes its API URL in engine.json, so every other process talks to it instead
// of writing the state behind its back.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { SluiceService } from '../../api/service.ts';
import { ConflictError } from '../../errors.ts';
import { ensureApiToken } from '../api-token.ts';
import type { BodyLimits } from './body-reader.ts';
import { processAlive, releaseEngineLock, takeEngineLock } from './engine-lock.ts';
import { createApiServer, type ExtraHandler, listen } from './http-server.ts';
import { LocalEngine, type LocalEngineOptions } from './local-engine.ts';

export interface EngineInfo {
  pid: number;
  url: string;
  startedAt: string;
}

/** The engine running for this home, if any (stale records of dead processes are ignored). */
export function runningEngine(home: string): EngineInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(home, 'engine.json'), 'utf8')) as EngineInfo;
    return processAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

export interface EngineHostOptions extends LocalEngineOptions {
  port?: number;
  host?: string;
  extraHandler?: ExtraHandler;
  /**
   * False serves the API without a token (`sluice serve --no-auth`); by default requests need
   * `Authorization: Bearer <token>` with the token of $SLUICE_HOME/api-token (created when missing).
   */
  auth?: boolean;
  /** Request body limits (default: 64 MiB each, 256 MiB buffered at once). */
  bodyLimits?: BodyLimits;
}

export class EngineHost {
  /** When the API last received a request (ms since the epoch): others may be using this engine. */
  lastRequestAt = 0;

  private constructor(
    readonly engine: LocalEngine,
    readonly service: SluiceService,
    readonly server: Server,
    /** Where local clients reach the API (a wildcard bind is reached through 127.0.0.1). */
    readonly url: string,
    /** The address actually bound, e.g. http://0.0.0.0:3000 for `--host 0.0.0.0`. */
    readonly boundUrl: string,
    /** The API token; undefined when serving with `auth: false`. */
    readonly token: string | undefined,
  ) {}

  static async start(opts: EngineHostOptions): Promise<EngineHost> {
    const engine = await LocalEngine.open(opts);
    const home = engine.home;
    try {
      takeEngineLock(home, engine.state.database);
    } catch (err) {
      await engine.close();
      throw err;
    }
    const service = engine.service;
    const token = opts.auth === false ? undefined : ensureApiToken(home);
    const bindHost = opts.host ?? '127.0.0.1';
    const server = createApiServer(
      service,
      opts.extraHandler,
      { boundHost: bindHost, ...(token ? { token } : {}) },
      opts.bodyLimits,
    );
    let self: EngineHost | undefined;
    server.on('request', () => {
      if (self) self.lastRequestAt = Date.now();
    });
    try {
      const port = opts.port ?? 0;
      const addr = await listen(server, port, bindHost).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') {
          throw new ConflictError(
            `port ${port} on ${bindHost} is in use; choose another (0 = any free port)`,
            'PORT_IN_USE',
          );
        }
        throw err;
      });
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const boundUrl = `http://${host}:${addr.port}`;
      const local = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
      const url = `http://${local}:${addr.port}`;
      const info: EngineInfo = { pid: process.pid, url, startedAt: new Date().toISOString() };
      // Written aside and renamed: a client never reads half a file and mistakes the engine for absent.
      const tmp = join(home, `engine.json.${process.pid}.tmp`);
      writeFileSync(tmp, JSON.stringify(info));
      renameSync(tmp, join(home, 'engine.json'));
      await engine.recover();
      engine.start();
      await engine.cron?.refresh();
      self = new EngineHost(engine, service, server, url, boundUrl, token);
      return self;
    } catch (err) {
      // Nothing of a failed start outlives it: no lock, no engine.json, no worker processes.
      server.close();
      await engine.close();
      rmSync(join(home, 'engine.json'), { force: true });
      releaseEngineLock(home);
      throw err;
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
    await this.engine.close();
    rmSync(join(this.engine.home, 'engine.json'), { force: true });
    releaseEngineLock(this.engine.home);
  }
}

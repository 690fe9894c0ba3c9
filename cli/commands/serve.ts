// `sluice serve`: the engine with its REST API on localhost (and cron triggers), until SIGINT.
// `sluice resume`: continue unfinished jobs after a crash, then exit.
import type { Command } from 'commander';
import { apiTokenPath, ensureApiToken } from '../../shared/runtime/api-token.ts';
import { dashboardHandler, ensureDashboard } from '../../shared/runtime/embedded/dashboard-files.ts';
import { EngineHost } from '../../shared/runtime/embedded/engine-host.ts';
import { sluiceHome } from '../../shared/runtime/embedded/local-engine.ts';
import { isLoopbackHost } from '../../shared/runtime/http-guard.ts';
import { closeOnSignal } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { logJobTransitions, logRequestError, serveLog } from '../serve-log.ts';
import { parseWorkers } from './workers-flag.ts';

/** `serve --backend aws`: the Lambda handlers, glue and a worker in this process. */
async function serveAws(
  ctx: CliContext,
  o: { port: number; host: string; auth: boolean; workers?: number; create?: string; emulators?: boolean },
): Promise<void> {
  const home = sluiceHome(ctx.env, ctx.cwd);
  const token = o.auth ? ensureApiToken(home) : undefined;
  const { startLocalAwsStack } = await import('../../shared/runtime/aws-emulated/stack.ts');
  const env = { ...ctx.env };
  let emulators: { close(): Promise<void> } | undefined;
  if (o.emulators) {
    const { startLocalEmulators } = await import('../../shared/runtime/aws-emulated/emulators.ts');
    try {
      const started = await startLocalEmulators();
      emulators = started;
      Object.assign(env, started.env);
      // The SDK clients of the handlers read endpoints and credentials from process.env.
      Object.assign(process.env, started.env);
    } catch (err) {
      throw new CliError(`cannot start the AWS emulators: ${(err as Error).message}`);
    }
    ctx.stderr.write(
      `sluice: AWS emulators on 127.0.0.1 (DynamoDB ${started(env.AWS_ENDPOINT_URL_DYNAMODB)}, SQS ${started(env.AWS_ENDPOINT_URL_SQS)}, S3 ${started(env.AWS_ENDPOINT_URL_S3)}); their state ends with this process\n`,
    );
  }
  const create = o.create ?? (o.emulators ? 'sluice-local' : undefined);
  if (create) {
    const { provisionAwsResources } = await import('../../shared/runtime/aws-emulated/provision.ts');
    const p = await provisionAwsResources({ prefix: create, env });
    Object.assign(env, p.env);
    if (!o.emulators) {
      ctx.stderr.write(`sluice: resources ${create}-* ready; to reuse them:\n`);
      for (const [k, v] of Object.entries(p.env)) ctx.stderr.write(`  export ${k}='${v}'\n`);
    }
  }
  const dashboard = await ensureDashboard();
  if ('missing' in dashboard) ctx.stderr.write(`sluice: ${dashboard.missing}\n`);
  let stack: Awaited<ReturnType<typeof startLocalAwsStack>>;
  try {
    stack = await startLocalAwsStack({
      env,
      http: {
        port: o.port,
        host: o.host,
        guard: { boundHost: o.host, ...(token ? { token } : {}) },
        dashboard,
      },
      ...(o.workers ? { slots: o.workers } : {}),
      // The worker in its own process, as a deployment's container: it gets a core of its own.
      workerProcess: true,
    });
  } catch (err) {
    await emulators?.close();
    throw new CliError(`cannot start the AWS backend: ${(err as Error).message}`);
  }
  announce(ctx, {
    boundUrl: stack.boundUrl ?? (stack.url as string),
    host: o.host,
    home,
    token,
    backend: 'the AWS backend, handlers in-process',
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  ctx.stderr.write('sluice: stopping\n');
  await stack.close();
  await emulators?.close();
}

/** The port of an emulator's endpoint URL, for the banner. */
function started(url: string | undefined): string {
  return url ? new URL(url).port : '?';
}

/** What `serve` says about who can reach it, before the first request can arrive. */
function announce(
  ctx: CliContext,
  o: { boundUrl: string; host: string; home: string; token: string | undefined; backend: string },
): void {
  // One write: a reader of the first line sees the rest with it.
  const lines = [`sluice: serving ${o.boundUrl}/api/v1 (${o.backend}); Ctrl-C stops`];
  if (o.token) {
    lines.push(`sluice: dashboard: ${o.boundUrl}/#token=${o.token}`);
    lines.push(
      `sluice: API token in ${apiTokenPath(o.home)}; send it as "Authorization: Bearer <token>" (the sluice CLI does)`,
    );
  } else {
    lines.push(
      `sluice: --no-auth: no token is asked; any program or user that can connect to ${o.boundUrl} can run any command as this user. Use it only on a single-user machine`,
    );
  }
  if (!isLoopbackHost(o.host)) {
    lines.push(
      `sluice: warning: listening on ${o.host}, not only on this machine: whoever reaches port ${new URL(o.boundUrl).port}${o.token ? ' with the token' : ''} can run commands as this user, and plain HTTP shows the token to the network; put a TLS-terminating proxy in front (docs/serving.md)`,
    );
  }
  ctx.stderr.write(`${lines.join('\n')}\n`);
}

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the engine with the REST API (/api/v1) and cron triggers until interrupted')
    .option('-p, --port <port>', 'TCP port (0 = any free port)', '3000')
    .option(
      '--host <host>',
      'address to listen on; anything but loopback reaches the network (see docs/serving.md)',
      '127.0.0.1',
    )
    .option(
      '--no-auth',
      'serve without the API token: any local program or user can then run commands as you',
    )
    .option('-w, --workers <n>', 'worker processes (default: CPU count)')
    .option(
      '--backend <name>',
      'embedded (SQLite, local processes) or aws (the serverless path, in-process)',
      'embedded',
    )
    .option('--create <prefix>', 'with --backend aws: create tables, queues and buckets named <prefix>-*')
    .option(
      '--emulators',
      'with --backend aws: start AWS-protocol emulators (DynamoDB, SQS, S3 from npm) on 127.0.0.1 in this process and create the resources there (no account, no Docker)',
    )
    .option('--log-format <format>', 'text, or json (one JSON object per line) for machines', 'text')
    .option('-q, --quiet', 'log only errors (failed jobs, failed requests)')
    .addHelpText(
      'after',
      '\nState lives in $SLUICE_HOME (default ./.sluice). Jobs left unfinished by a crash continue.\n' +
        'Requests need "Authorization: Bearer <token>" with the token in $SLUICE_HOME/api-token\n' +
        '(created 0600 on first start; the sluice CLI sends it, the printed dashboard link carries it).\n' +
        'With --backend aws, state lives where the standard AWS variables point (AWS_ENDPOINT_URL for\n' +
        'LocalStack, or an account) and SLUICE_* names the tables and queues (README "AWS backend").\n' +
        'Examples:\n  sluice serve\n  sluice serve --port 8080 --workers 8\n' +
        '  sluice serve --backend aws --emulators         # the AWS path offline, on emulators\n' +
        '  AWS_ENDPOINT_URL=http://localhost:4566 sluice serve --backend aws --create sluice-dev\n',
    )
    .action(
      async (o: {
        port: string;
        host: string;
        workers?: string;
        backend: string;
        create?: string;
        emulators?: boolean;
        auth: boolean;
        logFormat: string;
        quiet?: boolean;
      }) => {
        if (o.logFormat !== 'text' && o.logFormat !== 'json')
          throw new UsageError(`--log-format must be text or json (got "${o.logFormat}")`);
        const log = serveLog(ctx, o.logFormat, o.quiet === true);
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new CliError(`--port must be 0-65535 (got "${o.port}")`);
        const workers = parseWorkers(o.workers);
        if (o.backend !== 'embedded' && o.backend !== 'aws')
          throw new CliError(`--backend must be embedded or aws (got "${o.backend}")`);
        if (o.create && o.backend !== 'aws') throw new CliError('--create needs --backend aws');
        if (o.emulators && o.backend !== 'aws') throw new CliError('--emulators needs --backend aws');
        if (o.backend === 'aws') {
          await serveAws(ctx, {
            port,
            host: o.host,
            auth: o.auth,
            ...(workers ? { workers } : {}),
            ...(o.create ? { create: o.create } : {}),
            ...(o.emulators ? { emulators: true } : {}),
          });
          return;
        }
        const dashboard = await ensureDashboard();
        if ('missing' in dashboard) ctx.stderr.write(`sluice: ${dashboard.missing}\n`);
        const host = await EngineHost.start({
          home: sluiceHome(ctx.env, ctx.cwd),
          port,
          host: o.host,
          cron: true,
          auth: o.auth,
          extraHandler: dashboardHandler(dashboard),
          ...(workers ? { workers } : {}),
          onWebhookFailed: (d) =>
            log.error('webhook', d, `webhook ${d.url} failed after ${d.attempts} attempts: ${d.error}`),
        });
        host.server.on('request', logRequestError(log));
        const unsubscribe = logJobTransitions(host.engine.feed, log);
        announce(ctx, {
          boundUrl: host.boundUrl,
          host: o.host,
          home: host.engine.home,
          token: host.token,
          backend: `state in ${host.engine.home}`,
        });
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        ctx.stderr.write('sluice: stopping\n');
        unsubscribe();
        await host.close();
      },
    );

  program
    .command('resume')
    .description('continue the jobs a crashed engine left unfinished, wait for them, and exit')
    .option('-w, --workers <n>', 'worker processes (default: CPU count)')
    .action(async (o: { workers?: string }) => {
      const workers = parseWorkers(o.workers);
      const host = await EngineHost.start({
        home: sluiceHome(ctx.env, ctx.cwd),
        ...(workers ? { workers } : {}),
      });
      const release = closeOnSignal(ctx, host);
      try {
        const jobs = await host.engine.jobs.unfinishedJobs();
        ctx.stderr.write(`sluice: resuming ${jobs.length} unfinished job(s)\n`);
        for (const j of jobs) {
          const s = await host.engine.waitForJob(j.jobId);
          ctx.stdout.write(`${s.jobId} ${s.status}${s.reason ? `: ${s.reason}` : ''}\n`);
          if (s.status !== 'completed') ctx.exitCode = 1;
        }
      } finally {
        release();
        await host.close();
      }
    });
}

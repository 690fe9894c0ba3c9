// `sluice dashboard --endpoint URL`: the web dashboard of a remote API that a browser cannot call
// by itself (AWS: SigV4 or an API key), through a proxy on this machine that adds this user's
// credentials to every request. The page and the API both come from the endpoint.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { createApiProxy } from '../../shared/runtime/api-proxy.ts';
import { readApiToken } from '../../shared/runtime/api-token.ts';
import { sluiceHome } from '../../shared/runtime/embedded/local-engine.ts';
import { isLoopbackHost } from '../../shared/runtime/http-guard.ts';
import { authorizedHeaders } from '../api-auth.ts';
import type { CliContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';

export function registerDashboard(program: Command, ctx: CliContext): void {
  program
    .command('dashboard')
    .description('open the dashboard of a remote API (AWS) through a signing proxy on this machine')
    .option('--endpoint <url>', 'Sluice API URL (default: $SLUICE_ENDPOINT)')
    .option('-p, --port <port>', 'TCP port of the proxy (0 = any free port)', '3000')
    .addHelpText(
      'after',
      '\nRequests from the browser need the token in the printed link; the proxy signs them with the\n' +
        'standard AWS credentials (or sends $SLUICE_API_KEY) as the sluice CLI does. It listens on\n' +
        '127.0.0.1 only. Example:\n' +
        '  sluice dashboard --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com/prod\n',
    )
    .action(async (o: { endpoint?: string; port: string }) => {
      const endpoint = o.endpoint ?? ctx.env.SLUICE_ENDPOINT;
      if (!endpoint) throw new UsageError('--endpoint (or $SLUICE_ENDPOINT) names the API to open');
      let target: URL;
      try {
        target = new URL(endpoint);
      } catch {
        throw new UsageError(
          `--endpoint must be a URL like https://abc.execute-api.eu-west-1.amazonaws.com/prod (got "${endpoint}")`,
        );
      }
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port must be 0-65535 (got "${o.port}")`);
      const token = randomBytes(32).toString('base64url');
      const host = '127.0.0.1';
      // The home's token goes only to a sluice serve on this machine, as with every command.
      const homeToken = isLoopbackHost(target.hostname)
        ? readApiToken(sluiceHome(ctx.env, ctx.cwd))
        : undefined;
      const server = createApiProxy({
        target: endpoint,
        guard: { token, boundHost: host },
        authHeaders: (method, url, body) =>
          authorizedHeaders(endpoint, ctx.env, homeToken, method, url, body),
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) =>
          reject(new CliError(`cannot listen on ${host}:${port}: ${err.message}`)),
        );
        server.listen(port, host, () => resolve());
      });
      const bound = `http://${host}:${(server.address() as AddressInfo).port}`;
      ctx.stderr.write(
        `sluice: dashboard of ${endpoint}: ${bound}/#token=${token}\n` +
          `sluice: requests are sent with this user's credentials; Ctrl-C stops\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
}

// Context options: defaults, string values from `-c key=value`, and clear errors for bad values.
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, readInfraConfig } from '../../infra/config.ts';

const read = (context: Record<string, unknown>) => readInfraConfig(new App({ context }).node);

describe('readInfraConfig', () => {
  it('defaults every option', () => {
    expect(read({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({
      apiAuth: 'iam',
      network: 'nat',
      removalPolicy: 'retain',
      minWorkers: 0,
      dispatchScalesWorkers: true,
    });
  });

  it('accepts -c strings and cdk.json numbers', () => {
    expect(read({ dispatchScalesWorkers: 'true' }).dispatchScalesWorkers).toBe(true);
    expect(read({ dispatchScalesWorkers: false }).dispatchScalesWorkers).toBe(false);
    expect(
      read({ maxWorkers: '25', workerCpu: 2048, network: 'endpoints', apiAuth: 'apiKey' }),
    ).toMatchObject({
      maxWorkers: 25,
      workerCpu: 2048,
      network: 'endpoints',
      apiAuth: 'apiKey',
    });
  });

  it.each([
    [{ maxWorkers: 'ten' }, /context maxWorkers must be an integer in \[1, 1000\] \(got "ten"\)/],
    [{ maxWorkers: 0 }, /maxWorkers must be an integer/],
    [{ network: 'vpn' }, /context network must be one of nat, endpoints, public \(got "vpn"\)/],
    [{ apiAuth: 'none' }, /context apiAuth must be one of iam, apiKey/],
    [{ removalPolicy: 'snapshot' }, /removalPolicy must be one of retain, destroy/],
    [{ prefix: 'Sluice_Prod' }, /context prefix must be lowercase letters/],
    [{ minWorkers: 5, maxWorkers: 2 }, /minWorkers \(5\) must not exceed maxWorkers \(2\)/],
    [{ workerCacheGiB: 191 }, /context workerCacheGiB must be an integer in \[0, 190\]/],
    [{ dispatchScalesWorkers: 'yes' }, /context dispatchScalesWorkers must be true or false \(got "yes"\)/],
    [{ gpuCapacityProvider: 'gpu fleet' }, /context gpuCapacityProvider must be a capacity provider name/],
  ])('rejects %j', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });
});

// Registry on DynamoDB: PIPELINE / <name> and ALGORITHM / <name> items of the registry table, and
// ALGVER#<name> / <version> items for the versions of algorithm definitions.
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../../errors.ts';
import type { AlgorithmDefinition, Pipeline } from '../../../pipeline/types.ts';
import type { AlgorithmVersion, PutMode, Registry } from '../../../ports/registry.ts';
import { isConditionFailure, queryAll } from './items.ts';

type Kind = 'PIPELINE' | 'ALGORITHM';

export class DynamoRegistry implements Registry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private async put(kind: Kind, name: string, body: unknown, mode: PutMode): Promise<void> {
    const label = kind === 'PIPELINE' ? 'pipeline' : 'algorithm';
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: kind, sk: name, body: JSON.stringify(body), updatedAt: Date.now() },
          ...(mode === 'create' ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
          ...(mode === 'update' ? { ConditionExpression: 'attribute_exists(pk)' } : {}),
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      if (mode === 'create') throw new ConflictError(`${label} "${name}" already exists`);
      throw new NotFoundError(`${label} "${name}" does not exist`);
    }
  }

  private async get<T>(kind: Kind, name: string): Promise<T | undefined> {
    const r = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: kind, sk: name }, ConsistentRead: true }),
    );
    return r.Item ? (JSON.parse(String(r.Item.body)) as T) : undefined;
  }

  private async list<T>(kind: Kind): Promise<T[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :k',
      ExpressionAttributeValues: { ':k': kind },
      ConsistentRead: true,
    });
    return items.map((i) => JSON.parse(String(i.body)) as T);
  }

  private async remove(kind: Kind, name: string): Promise<boolean> {
    const r = await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: kind, sk: name }, ReturnValues: 'ALL_OLD' }),
    );
    return r.Attributes !== undefined;
  }

  putPipeline(p: Pipeline, mode: PutMode): Promise<void> {
    return this.put('PIPELINE', p.name, p, mode);
  }
  getPipeline(name: string): Promise<Pipeline | undefined> {
    return this.get<Pipeline>('PIPELINE', name);
  }
  listPipelines(): Promise<Pipeline[]> {
    return this.list<Pipeline>('PIPELINE');
  }
  deletePipeline(name: string): Promise<boolean> {
    return this.remove('PIPELINE', name);
  }
  putAlgorithm(a: AlgorithmDefinition, mode: PutMode): Promise<void> {
    return this.put('ALGORITHM', a.name, a, mode);
  }
  getAlgorithm(name: string): Promise<AlgorithmDefinition | undefined> {
    return this.get<AlgorithmDefinition>('ALGORITHM', name);
  }
  listAlgorithms(): Promise<AlgorithmDefinition[]> {
    return this.list<AlgorithmDefinition>('ALGORITHM');
  }
  async deleteAlgorithm(name: string): Promise<boolean> {
    for (const v of await this.listAlgorithmVersions(name))
      await this.deleteAlgorithmVersion(name, v.version);
    return this.remove('ALGORITHM', name);
  }

  async putAlgorithmVersion(v: AlgorithmVersion): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: versionPk(v.name), sk: v.version, body: JSON.stringify(v), created: v.created },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      throw new ConflictError(`version ${v.version} of algorithm "${v.name}" already exists`);
    }
  }
  async getAlgorithmVersion(name: string, version: string): Promise<AlgorithmVersion | undefined> {
    const r = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: versionPk(name), sk: version },
        ConsistentRead: true,
      }),
    );
    return r.Item ? (JSON.parse(String(r.Item.body)) as AlgorithmVersion) : undefined;
  }
  async listAlgorithmVersions(name: string): Promise<AlgorithmVersion[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :k',
      ExpressionAttributeValues: { ':k': versionPk(name) },
      ConsistentRead: true,
    });
    const versions = items.map((i) => JSON.parse(String(i.body)) as AlgorithmVersion);
    return versions.sort((a, b) => b.created - a.created || semverOrder(b.semver, a.semver));
  }
  async deleteAlgorithmVersion(name: string, version: string): Promise<boolean> {
    const r = await this.client.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: versionPk(name), sk: version },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return r.Attributes !== undefined;
  }
}

const versionPk = (name: string) => `ALGVER#${name}`;

/** Orders versions made in the same millisecond. */
function semverOrder(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

// Registry on DynamoDB: PIPELINE / <name> and ALGORITHM / <name> items of the registry table.
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../../errors.ts';
import type { AlgorithmDefinition, Pipeline } from '../../../pipeline/types.ts';
import type { PutMode, Registry } from '../../../ports/registry.ts';
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
  deleteAlgorithm(name: string): Promise<boolean> {
    return this.remove('ALGORITHM', name);
  }
}

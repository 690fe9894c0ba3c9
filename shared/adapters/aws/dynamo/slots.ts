// SlotLimits on DynamoDB: per-algorithm `maxWorkers` across the whole worker fleet, as a counting
// semaphore on one registry item per capped algorithm (SLOTS / <algorithm>; uncapped algorithms
// never touch it). Conditional ADD, so it never exceeds the cap, whatever the number of workers
// claiming at once.
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SlotLimits } from '../../../ports/slots.ts';
import { isConditionFailure, queryAll } from './items.ts';

export class DynamoSlots implements SlotLimits {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquire(algorithm: string, cap: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'SLOTS', sk: algorithm },
          UpdateExpression: 'ADD active :one',
          ConditionExpression: 'attribute_not_exists(active) OR active < :cap',
          ExpressionAttributeValues: { ':one': 1, ':cap': cap },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async release(algorithm: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'SLOTS', sk: algorithm },
          UpdateExpression: 'ADD active :minus',
          ConditionExpression: 'active > :zero',
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async inUse(): Promise<Map<string, number>> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :k',
      ExpressionAttributeValues: { ':k': 'SLOTS' },
      ConsistentRead: true,
    });
    return new Map(items.map((i) => [String(i.sk), Number(i.active ?? 0)]));
  }
}

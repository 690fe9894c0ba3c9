// Debug sessions in the registry table (ports/debug-records.ts): DEBUG / <algorithm> is the
// algorithm's session, DEBUG#<algorithm> / <taskId> a task handed to it. Every change is a
// conditional write on the session id, the hand-over id and the task's state; a task's input and
// its reported outcome go to the blob store over INLINE_VALUE_LIMIT. Items carry `ttl`, so what a
// lost worker or client left behind goes away by itself.
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { loadValue, storeValue } from '../../../engine/stored-values.ts';
import type { BlobStore } from '../../../ports/blob-store.ts';
import type {
  DebugRecords,
  DebugSessionRecord,
  HandedExpectation,
  HandedState,
  HandedTask,
  HandedTaskSummary,
} from '../../../ports/debug-records.ts';
import type { DebugReport, DebugTask } from '../../../ports/debug-sessions.ts';
import { type Item, isConditionFailure, queryAll } from './items.ts';

const SESSIONS = 'DEBUG';
const tasksPk = (algorithmName: string) => `DEBUG#${algorithmName}`;
/** Leftovers (a client or worker gone without cleaning up) expire a day after they were written. */
const ttl = (at: number) => Math.floor(at / 1000) + 86_400;

const sessionOf = (i: Item): DebugSessionRecord => ({
  sessionId: String(i.sessionId),
  algorithmName: String(i.sk),
  attachedAt: Number(i.attachedAt),
  expiresAt: Number(i.expiresAt),
});

const summaryOf = (algorithmName: string, i: Item): HandedTaskSummary => ({
  algorithmName,
  taskId: String(i.sk),
  handId: String(i.handId),
  sessionId: String(i.sessionId),
  state: String(i.state) as HandedState,
  handedAt: Number(i.handedAt),
  heldUntil: Number(i.heldUntil),
});

/** The blob key of a handed task's input or outcome (never built from user-given names). */
const blobKey = (algorithmName: string, taskId: string, kind: string) =>
  `debug/${createHash('sha256').update(`${algorithmName}#${taskId}`).digest('hex').slice(0, 32)}-${randomBytes(4).toString('hex')}.${kind}.json`;

export class DynamoDebugRecords implements DebugRecords {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly blobs: BlobStore,
  ) {}

  async createSession(s: DebugSessionRecord, now: number): Promise<DebugSessionRecord | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: SESSIONS,
              sk: s.algorithmName,
              sessionId: s.sessionId,
              attachedAt: s.attachedAt,
              expiresAt: s.expiresAt,
              ttl: ttl(s.expiresAt),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return undefined;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const other = await this.getSession(s.algorithmName);
      if (other) return other; // else it ended meanwhile: try again
    }
    throw new Error(`could not attach a debug session to "${s.algorithmName}": it keeps changing`);
  }

  async getSession(algorithmName: string): Promise<DebugSessionRecord | undefined> {
    const r = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: SESSIONS, sk: algorithmName },
        ConsistentRead: true,
      }),
    );
    return r.Item ? sessionOf(r.Item) : undefined;
  }

  async listSessions(): Promise<DebugSessionRecord[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :k',
      ExpressionAttributeValues: { ':k': SESSIONS },
      ConsistentRead: true,
    });
    return items.map(sessionOf);
  }

  touchSession(algorithmName: string, sessionId: string, expiresAt: number, now: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: SESSIONS, sk: algorithmName },
        UpdateExpression: 'SET expiresAt = :e, #ttl = :t',
        ConditionExpression: 'sessionId = :id AND expiresAt > :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':e': expiresAt, ':t': ttl(expiresAt), ':id': sessionId, ':now': now },
      }),
    );
  }

  deleteSession(algorithmName: string, sessionId: string): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: SESSIONS, sk: algorithmName },
        ConditionExpression: 'sessionId = :id',
        ExpressionAttributeValues: { ':id': sessionId },
      }),
    );
  }

  async putTask(t: HandedTask, now: number): Promise<HandedTaskSummary | undefined> {
    const task = await storeValue(this.blobs, t.task, blobKey(t.algorithmName, t.taskId, 'task'));
    const put = new PutCommand({
      TableName: this.table,
      Item: {
        pk: tasksPk(t.algorithmName),
        sk: t.taskId,
        handId: t.handId,
        sessionId: t.sessionId,
        state: t.state,
        handedAt: t.handedAt,
        heldUntil: t.heldUntil,
        ...(task.text !== undefined ? { task: task.text } : { taskBlob: task.blob }),
        ttl: ttl(t.handedAt),
      },
      ConditionExpression: 'attribute_not_exists(pk) OR heldUntil < :now',
      ExpressionAttributeValues: { ':now': now },
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.conditional(put)) return undefined;
      const held = await this.getTask(t.algorithmName, t.taskId);
      if (held) return held; // else it went away meanwhile: try again
    }
    throw new Error(`could not hand task ${t.taskId} to a debug session: its record keeps changing`);
  }

  async getTask(
    algorithmName: string,
    taskId: string,
    withTask = false,
  ): Promise<(HandedTaskSummary & { task?: DebugTask; report?: DebugReport }) | undefined> {
    const r = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: tasksPk(algorithmName), sk: taskId },
        ConsistentRead: true,
      }),
    );
    if (!r.Item) return undefined;
    const report = (await loadValue(this.blobs, r.Item.report, r.Item.reportBlob)) as DebugReport | undefined;
    const task = withTask
      ? ((await loadValue(this.blobs, r.Item.task, r.Item.taskBlob)) as DebugTask | undefined)
      : undefined;
    return { ...summaryOf(algorithmName, r.Item), ...(task ? { task } : {}), ...(report ? { report } : {}) };
  }

  async listTasks(algorithmName: string): Promise<HandedTaskSummary[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :k',
      ExpressionAttributeValues: { ':k': tasksPk(algorithmName) },
      ConsistentRead: true,
    });
    return items.map((i) => summaryOf(algorithmName, i));
  }

  async updateTask(
    algorithmName: string,
    taskId: string,
    expect: HandedExpectation,
    set: { state?: HandedState; heldUntil?: number; report?: DebugReport },
  ): Promise<boolean> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = {};
    const conditions = [`#state IN (${expect.states.map((_, i) => `:s${i}`).join(', ')})`];
    expect.states.forEach((s, i) => {
      values[`:s${i}`] = s;
    });
    if (expect.handId !== undefined) {
      conditions.push('handId = :h');
      values[':h'] = expect.handId;
    }
    if (expect.sessionId !== undefined) {
      conditions.push('sessionId = :sid');
      values[':sid'] = expect.sessionId;
    }
    const sets: string[] = [];
    if (set.state !== undefined) {
      sets.push('#state = :ns');
      values[':ns'] = set.state;
    }
    if (set.heldUntil !== undefined) {
      sets.push('heldUntil = :held');
      values[':held'] = set.heldUntil;
    }
    if (set.report !== undefined) {
      const stored = await storeValue(this.blobs, set.report, blobKey(algorithmName, taskId, 'report'));
      sets.push(stored.text !== undefined ? '#report = :r' : '#reportBlob = :r');
      names[stored.text !== undefined ? '#report' : '#reportBlob'] =
        stored.text !== undefined ? 'report' : 'reportBlob';
      values[':r'] = stored.text ?? stored.blob;
    }
    if (sets.length === 0) return false;
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tasksPk(algorithmName), sk: taskId },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  deleteTask(algorithmName: string, taskId: string, handId: string, unless?: HandedState): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: tasksPk(algorithmName), sk: taskId },
        ConditionExpression: unless ? 'handId = :h AND #state <> :u' : 'handId = :h',
        ...(unless ? { ExpressionAttributeNames: { '#state': 'state' } } : {}),
        ExpressionAttributeValues: { ':h': handId, ...(unless ? { ':u': unless } : {}) },
      }),
    );
  }

  /** Sends a conditional write: true if it was made, false if its condition did not hold. */
  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.client.send(command as UpdateCommand);
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

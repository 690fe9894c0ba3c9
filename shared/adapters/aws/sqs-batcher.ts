// Coalesces single SQS sends and deletes into SendMessageBatch / DeleteMessageBatch calls (10
// entries, or whatever arrived within `windowMs`): a worker finishing many short tasks makes a
// tenth of the requests. Each caller's promise settles with its own entry's result.
import { DeleteMessageBatchCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

interface Entry {
  value: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SqsBatcher {
  private sends = new Map<string, Entry[]>();
  private deletes = new Map<string, Entry[]>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly windowMs = 5,
  ) {}

  send(queueUrl: string, body: string): Promise<void> {
    return this.add(this.sends, queueUrl, body, (url, entries) => this.flushSends(url, entries));
  }

  delete(queueUrl: string, receipt: string): Promise<void> {
    return this.add(this.deletes, queueUrl, receipt, (url, entries) => this.flushDeletes(url, entries));
  }

  private add(
    map: Map<string, Entry[]>,
    url: string,
    value: string,
    flush: (url: string, entries: Entry[]) => Promise<void>,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let list = map.get(url);
      if (!list) {
        list = [];
        map.set(url, list);
        const mine = list;
        setTimeout(() => {
          // Flushed already if it filled up (and was replaced in the map) before the window ended.
          if (map.get(url) !== mine) return;
          map.delete(url);
          void flush(url, mine);
        }, this.windowMs);
      }
      list.push({ value, resolve, reject });
      if (list.length === 10) {
        map.delete(url);
        void flush(url, list);
      }
    });
  }

  private async flushSends(url: string, entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      let pending = entries.map((e, i) => ({ id: String(i), e }));
      for (let attempt = 0; pending.length; attempt++) {
        const r = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: pending.map((p) => ({ Id: p.id, MessageBody: p.e.value })),
          }),
        );
        const failed = new Set((r.Failed ?? []).map((f) => f.Id));
        for (const p of pending) if (!failed.has(p.id)) p.e.resolve();
        pending = pending.filter((p) => failed.has(p.id));
        if (pending.length && attempt >= 5) throw new Error(`SQS refused ${pending.length} messages`);
        if (pending.length) await new Promise((res) => setTimeout(res, 50 * 2 ** attempt));
      }
    } catch (err) {
      for (const e of entries) e.reject(err);
    }
  }

  private async flushDeletes(url: string, entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.value })),
        }),
      );
      // A failed entry (expired receipt) means the message is visible again; the outcome it
      // carried is applied once per attempt whatever happens to it next.
      for (const e of entries) e.resolve();
    } catch (err) {
      for (const e of entries) e.reject(err);
    }
  }
}

// Webhook delivery (progress and result). Every delivery attempt is recorded and visible.

export interface WebhookDelivery {
  id: number;
  jobId: string;
  kind: 'progress' | 'result';
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  responseStatus?: number;
  error?: string;
  payload: unknown;
  createdAt: number;
  updatedAt: number;
}

export interface Notifier {
  /** Records a delivery and sends it (with retries) in the background. */
  notify(jobId: string, kind: 'progress' | 'result', url: string, payload: unknown): Promise<void>;
  deliveries(jobId: string, kind?: 'progress' | 'result'): Promise<WebhookDelivery[]>;
  /**
   * Sends again the deliveries a crashed process recorded but did not finish (recovery); returns
   * how many. A no-op where another live process could still be sending them.
   */
  resumePending(): Promise<number>;
  /** Resolves when nothing is in flight (tests, shutdown). */
  drain(): Promise<void>;
}

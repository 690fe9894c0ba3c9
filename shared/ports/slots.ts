// Per-algorithm `maxWorkers` where many claimers share one cap (the AWS worker fleet): a counting
// semaphore that never hands out a slot over the cap, whatever the number of claimers.

export interface SlotLimits {
  /** Takes one slot of `algorithm` if fewer than `cap` are taken; false otherwise. */
  acquire(algorithm: string, cap: number): Promise<boolean>;
  /** Gives one slot back (never below zero). */
  release(algorithm: string): Promise<void>;
  /** Slots taken per algorithm. */
  inUse(): Promise<Map<string, number>>;
}

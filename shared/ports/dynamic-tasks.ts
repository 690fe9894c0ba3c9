// The vocabulary of dynamic ("open") jobs, whose client adds tasks while they run and closes
// them (engine/dynamic-tasks.ts): what a client asks for and what it gets back.
import type { TaskStatus } from './job-state.ts';
import type { TaskRecord } from './tasks.ts';

export interface DynamicTaskRequest {
  /** The caller's name for the task: adding the same key again returns the task added first. */
  key: string;
  /** The task's input array (`args.input` of its algorithm). */
  input: unknown[];
}

export interface DynamicTaskRef {
  key: string;
  taskId: string;
  batchIndex: number;
  /** False when a task with this key existed already (nothing was added). */
  added: boolean;
}

export interface DynamicTaskState {
  taskId: string;
  status: TaskStatus;
  attempts: number;
  result?: unknown;
  error?: string;
  failure?: TaskRecord['failure'];
  startedAt?: number;
  finishedAt?: number;
}

// Defaults of the local worker pool; each is documented next to its option in types.ts.

export const DEFAULT_IO_TASKS_PER_HOST = 8;
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_MAX_LOG_LINES = 1000;
export const DEFAULT_MAX_LOG_BYTES = 256 * 1024;
export const DEFAULT_KILL_GRACE_MS = 2000;
/** A log line longer than this (say, binary output with no newline) is cut into pieces. */
export const MAX_LOG_LINE_LENGTH = 64 * 1024;
export const DEFAULT_MAX_COMMAND_OUTPUT_BYTES = 64 * 1024 * 1024;
/** Lines of stderr quoted in a failed task's error. */
export const ERROR_STDERR_TAIL_LINES = 20;
/** Lines of a traceback / stack quoted in a failed task's error. */
export const ERROR_TRACE_TAIL_LINES = 30;
/**
 * After a hot process answered, how long to wait for the end-of-task markers on its stdout/stderr
 * (they normally arrive within microseconds; only a process that closed its own stdout never sends them).
 */
export const MARKER_WAIT_MS = 2000;
/** After a process exited, how long to wait for its pipes to drain before reporting. */
export const PIPE_DRAIN_MS = 1000;

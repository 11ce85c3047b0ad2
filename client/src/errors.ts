import type { Task } from './types.ts';

/** The contract's error codes (CONTRACT.md §3). */
export const ErrorCode = {
  BadRequest: '014001001',
  VideoIdUnknown: '014001002',
  DownloadFailed: '014001101',
  UrlNotAllowed: '014001102',
  FileTooLarge: '014001103',
  BadContainer: '014001104',
  BadDuration: '014001105',
  BadResolution: '014001106',
  BadDimensions: '014001107',
  Unreadable: '014001108',
  SoundFileFormat: '014001109',
  SoundFileUnreadable: '014001110',
  SessionUnknown: '014001201',
  Cancelled: '014001301',
  RateLimited: '014001401',
  Internal: '014002095',
  ResultParsing: '014002096',
  DependencyHttpError: '014002097',
  SyncGeneration: '014002099',
} as const;

export type KnownErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface KirinErrorDetails {
  /** The HTTP status of the answer that carried the error, when one did. */
  status?: number;
  /** The task the error belongs to (a failed or cancelled task, a wait that timed out). */
  taskId?: string;
  /** The failed task itself. */
  task?: Task;
  /** Seconds to wait before trying again (from Retry-After: 429, 503, 507). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * Every failure the client reports: an HTTP error answer, a failed task, an unreadable result.
 * `code` is the contract's code (ErrorCode), so callers branch on it as the service documents.
 */
export class KirinError extends Error {
  readonly code: KnownErrorCode | (string & {});
  readonly status?: number;
  readonly taskId?: string;
  readonly task?: Task;
  readonly retryAfterSeconds?: number;

  constructor(code: string, message: string, details: KirinErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KirinError';
    this.code = code;
    this.status = details.status;
    this.taskId = details.taskId ?? details.task?.id;
    this.task = details.task;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /** The input broke a rule (014001xxx): retrying the same request gives the same answer. */
  get isInputError(): boolean {
    return this.code.startsWith('0140011') || this.code === ErrorCode.BadRequest || this.code === ErrorCode.VideoIdUnknown;
  }
}

/** A task that ended failed (its error's code, e.g. 014001105 for a duration out of range, 014001301 when cancelled). */
export class KirinTaskFailedError extends KirinError {
  constructor(task: Task) {
    super(task.error?.code ?? ErrorCode.Internal, `task ${task.id} failed: ${task.error?.error_message ?? 'no reason given'}`, { task });
    this.name = 'KirinTaskFailedError';
  }
}

/** Waiting for a task took longer than asked; the task goes on (poll it again by taskId). Code 014002099. */
export class KirinTimeoutError extends KirinError {
  constructor(taskId: string, waitedMs: number) {
    super(ErrorCode.SyncGeneration, `task ${taskId} did not finish within ${Math.round(waitedMs / 1000)} s; it goes on: poll it with getTask or waitForTask`, { taskId });
    this.name = 'KirinTimeoutError';
  }
}

export const isKirinError = (e: unknown): e is KirinError => e instanceof KirinError;

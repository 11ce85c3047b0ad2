import type { FastifyReply } from 'fastify';
import { ErrorCode, type ErrorCodeValue } from '../errors.js';

/** HTTP status for an error code answered directly (not through a task). */
export function httpStatusOf(code: string): number {
  switch (code) {
    case ErrorCode.FileTooLarge:
      return 413;
    case ErrorCode.SessionUnknown:
      return 404;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.Internal:
    case ErrorCode.ResultParsing:
    case ErrorCode.DependencyHttpError:
    case ErrorCode.SyncGeneration:
      return 500;
    default:
      return 400;
  }
}

export function sendError(reply: FastifyReply, status: number, code: ErrorCodeValue | string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, error_message: message } });
}

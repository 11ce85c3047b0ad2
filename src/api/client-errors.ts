import type { Socket } from 'node:net';
import { ErrorCode } from '../errors.js';

/**
 * Requests refused before any route runs: an over-long path parameter, a bad %-escape, header
 * lines over Node's limit, a malformed request line. They get the contract's error body (code
 * 014001001) like any other refusal, and never an echo of the input, which may be kilobytes long.
 */

/** Fastify's frameworkErrors codes, said in words that quote nothing from the request. */
const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_MAX_PARAM_LENGTH: 'the URL is too long: a path parameter is longer than 100 characters',
  FST_ERR_BAD_URL: 'the URL is not valid: it has a malformed %-escape',
};

/** The status and message for an error Fastify raised before routing. */
export function frameworkError(err: { code?: string; statusCode?: number }): { status: number; message: string } {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  return { status, message: FRAMEWORK_MESSAGES[err.code ?? ''] ?? 'the request could not be routed' };
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (no request object
 * exists), so the answer is written to the socket by hand, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let reason = 'Bad Request';
  let message = 'the request is malformed';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    reason = 'Request Header Fields Too Large';
    message = 'the request line and headers are too long (at most 16 KB in all)';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    reason = 'Request Timeout';
    message = 'the request was not received in time';
  }
  const body = JSON.stringify({ error: { code: ErrorCode.BadRequest, error_message: message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Logger options that keep secrets and stack traces out of the service log: request lines carry
 * the method, the path and the query with signatures and other credentials masked — never
 * headers (so no `Authorization`) — and logged errors carry their type and message but no stack.
 */

import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

const SECRET_QUERY_KEY = /sig|signature|token|key|secret|auth|password|credential/i;

/** The URL with the values of credential-like query parameters (`sig`, `token`, `api_key`, …) masked. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_QUERY_KEY.test(decodeSafe(name)) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

interface LoggedError {
  name?: string;
  message?: string;
  code?: unknown;
  statusCode?: unknown;
}

/** An error as logged: what it is, never where in the code it came from. */
export function briefError(err: LoggedError): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err?.name ?? typeof err, message: String(err?.message ?? err).split('\n')[0] };
  if (err?.code !== undefined) out.code = err.code;
  if (err?.statusCode !== undefined) out.statusCode = err.statusCode;
  return out;
}

/**
 * One line per request, written when it completes and naming the request, instead of Fastify's two
 * (received, completed): logging was a fifth of what a poll cost the service.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/** Fastify `logger` option: false stays false; true or pino options get the safe serializers and redaction. */
export function safeLoggerOptions(logger: boolean | object | undefined): false | Record<string, unknown> {
  if (!logger) return false;
  const base = (logger === true ? {} : logger) as Record<string, unknown>;
  return {
    ...base,
    // Belt and braces: should anything log headers, the credentials in them are masked.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'], censor: '[redacted]' },
    serializers: {
      ...((base.serializers as object) ?? {}),
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: redactUrl(req.url ?? ''),
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
      err: briefError,
    },
  };
}

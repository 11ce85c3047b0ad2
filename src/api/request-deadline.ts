import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../errors.js';
import { sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's answer deadline in ms, instead of the server's (e.g. the synchronous route's longer wait). */
    deadlineMs?: number;
    /** The deadline does not count the time the client takes to send the body (uploads). */
    deadlineAfterBody?: boolean;
  }
}

/** Seconds a client is told to wait before retrying an answer the service could not give. */
export const RETRY_AFTER_S = 5;

/**
 * Every route answers within `defaultMs` (KIRIN_REQUEST_TIMEOUT_MS), whatever a dependency does:
 * a request still unanswered then gets `503` 014002097 with `Retry-After`, and its connection is
 * closed. What the handler was doing goes on and its late answer is dropped. Routes set their own
 * deadline with `config.deadlineMs`; with `config.deadlineAfterBody` the clock stops while the
 * body is being received and restarts once it has been.
 */
export function boundAnswerTime(app: FastifyInstance, defaultMs: number): void {
  if (!(defaultMs > 0)) return;
  const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  const arm = (req: FastifyRequest, reply: FastifyReply) => {
    const ms = req.routeOptions.config?.deadlineMs ?? defaultMs;
    clearTimeout(timers.get(req));
    timers.set(req, setTimeout(() => {
      if (reply.sent) return;
      reply.header('retry-after', String(RETRY_AFTER_S)).header('connection', 'close');
      void sendError(reply, 503, ErrorCode.DependencyHttpError, `no answer within ${Math.round(ms / 100) / 10} s: a service this API depends on is slow or unavailable; retry later`);
    }, ms));
  };
  app.addHook('onRequest', async (req, reply) => arm(req, reply));
  app.addHook('preHandler', async (req, reply) => {
    if (!req.routeOptions.config?.deadlineAfterBody || req.raw.readableEnded) return;
    clearTimeout(timers.get(req));
    req.raw.once('end', () => {
      if (!reply.sent) arm(req, reply);
    });
  });
  app.addHook('onResponse', async (req) => clearTimeout(timers.get(req)));
}

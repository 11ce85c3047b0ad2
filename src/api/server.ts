import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { ErrorCode, isKirinError } from '../errors.js';
import { MODEL } from '../model.js';
import { DEFAULT_LIMITS } from '../media/validate.js';
import { authenticate } from '../storage/api-keys.js';
import type { BlobStore } from '../storage/blobs.js';
import type { Repositories } from '../storage/repositories/index.js';
import type { TaskService } from '../tasks/task-service.js';
import { httpStatusOf, sendError } from './errors.js';
import { clientErrorHandler, frameworkError } from './client-errors.js';
import { OneLinePerRequest, safeLoggerOptions } from './log-safety.js';
import type { Metrics } from './metrics.js';
import { errorBody, faceDataSchema, lipSyncCheckAnswer, rejectedFaceSchema, resultJson, sessionObject, taskObject, videoObject } from './schemas.js';
import type { UrlSigner } from './signed-urls.js';
import { keyRateLimits, type RateLimitStore } from './rate-limits.js';
import { RETRY_AFTER_S, boundAnswerTime } from './request-deadline.js';
import { isDatabaseUnavailable } from '../storage/db-availability.js';
import { TooManyRequests } from './too-many-requests.js';
import { diskRoom, sendDiskFull } from './disk-full.js';
import { fileRoutes } from './routes/files.js';
import { lipSyncCheckRoutes } from './routes/lip-sync-check.js';
import { sessionRoutes } from './routes/sessions.js';
import { taskRoutes } from './routes/tasks.js';
import { tracksRoutes } from './routes/tracks.js';
import { videoRoutes } from './routes/videos.js';
import { isDiskFull, type DiskSpace } from '../storage/disk-space.js';

export interface ApiDeps {
  config: ServiceConfig;
  repositories: Repositories;
  blobs: BlobStore;
  tasks: TaskService;
  signer: UrlSigner;
  clock: Clock;
  metrics: Metrics;
  ready: () => Promise<boolean>;
  logger?: boolean | object;
  /** Where rate-limit counters live (default: this process's memory). */
  rateLimitStore?: RateLimitStore;
  /** The data folder's free space: creates and uploads answer 507 while it is full. */
  disk?: DiskSpace;
}

declare module 'fastify' {
  interface FastifyRequest {
    owner: string;
  }
}

export async function buildServer(d: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: safeLoggerOptions(d.logger),
    logController: new OneLinePerRequest(),
    bodyLimit: d.config.limits.bodyBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    // errors raised before a route runs (a bad %-escape, an over-long URL, headers over Node's
    // limit) get the contract's body too, without an echo of the input
    frameworkErrors: (err, _req, reply) => {
      const { status, message } = frameworkError(err);
      void sendError(reply, status, ErrorCode.BadRequest, message);
    },
    clientErrorHandler,
  });
  app.decorateRequest('owner', '');
  boundAnswerTime(app, d.config.requestTimeoutMs);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `Kirin Face — ${MODEL}`,
        version: '1.0.0',
        description: 'Whether a video is usable for lip-sync, and which faces can be lip-synced when. See CONTRACT.md for the rules.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // components are named by their $id (Task, ResultJson, …), not def-0, def-1, …
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(multipart, { limits: { fileSize: DEFAULT_LIMITS.maxBytes, files: 1, fields: 5 } });
  for (const s of [errorBody, taskObject, faceDataSchema, rejectedFaceSchema, resultJson, videoObject, sessionObject, lipSyncCheckAnswer]) app.addSchema(s);
  const limits = await keyRateLimits(app, d.config.limits, d.rateLimitStore);

  // raw uploads: hand the body over as a stream, unread
  app.addContentTypeParser(['video/mp4', 'video/quicktime', 'application/octet-stream'], (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof TooManyRequests) {
      reply.header('retry-after', String(err.retryAfterSeconds));
      // an upload refused before it was read: close rather than read 100 MB only to drop it
      if (req.headers['transfer-encoding'] || Number(req.headers['content-length'] ?? 0) > 65_536) reply.header('connection', 'close');
    }
    // an upload cut at the size limit leaves its body unread: close rather than reuse the connection
    if (isKirinError(err) && err.code === ErrorCode.FileTooLarge) reply.header('connection', 'close');
    if (isKirinError(err)) return sendError(reply, httpStatusOf(err.code), err.code, err.message);
    if (isDiskFull(err)) {
      d.disk?.noteFull();
      req.log.warn({ err }, 'disk full');
      return sendDiskFull(reply, req.routeOptions.url === '/v1/videos' ? 'the upload' : 'the request');
    }
    if (isDatabaseUnavailable(err)) {
      // the outage is logged once, by the pool (DependencyHealth), not here per request
      reply.header('retry-after', String(RETRY_AFTER_S));
      return sendError(reply, 503, ErrorCode.DependencyHttpError, 'the database is unavailable; retry later');
    }
    const e = err as { validation?: unknown; statusCode?: number; message: string; code?: string };
    if (e.validation) return sendError(reply, 400, ErrorCode.BadRequest, `invalid request: ${e.message}`);
    if (e.code === 'FST_REQ_FILE_TOO_LARGE' || e.statusCode === 413) {
      reply.header('connection', 'close');
      // a video over the limit is 014001103; any other body over Fastify's limit is a bad request
      const code = e.code === 'FST_REQ_FILE_TOO_LARGE' ? ErrorCode.FileTooLarge : ErrorCode.BadRequest;
      return sendError(reply, 413, code, `request body too large: ${e.message}`);
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return sendError(reply, e.statusCode, ErrorCode.BadRequest, e.message);
    req.log.error({ err }, 'unhandled error'); // the logger's err serializer keeps type and message, no stack
    req.log.debug({ stack: (err as Error).stack }, 'unhandled error: stack');
    return sendError(reply, 500, ErrorCode.Internal, 'internal error');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, ErrorCode.BadRequest, `no route ${req.method} ${req.url.split('?')[0]}`));

  app.addHook('onResponse', async (req, reply) => {
    d.metrics.httpRequests.inc({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  const auth = async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const who = m ? await authenticate(d.repositories.apiKeys, m[1]) : undefined;
    if (!who) return sendError(reply, 401, ErrorCode.BadRequest, 'missing or unknown API key (Authorization: Bearer <key>)');
    req.owner = who.owner;
  };
  // creating tasks and uploading cost far more than reading: a second, tighter limit, and room on disk
  const createLimits = [limits.creates, diskRoom(d.disk)];

  // ---- the keyed routes: one plugin context whose onRequest hooks (before the body is read or
  // validated, so a stranger learns nothing but 401) check the API key, then count the request;
  // every route group registered in it is guarded, none can forget it (test/integration/service-openapi.test.ts)
  await app.register(async (keyed) => {
    keyed.addHook('onRequest', auth);
    keyed.addHook('onRequest', limits.requests);
    await keyed.register(taskRoutes, { deps: d, createLimits });
    // extension: where each face is over time (per task and per session), every frame with ?frames=all
    await keyed.register(tracksRoutes, { deps: d });
    await keyed.register(videoRoutes, { deps: d, createLimits });
    await keyed.register(sessionRoutes, { deps: d });
    await keyed.register(lipSyncCheckRoutes, { deps: d, limitFetches: limits.creates });
  });

  // ---- signed face pictures, no key needed
  await app.register(fileRoutes, { deps: d });

  // ---- operations
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => ((await d.ready()) ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' })));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.header('content-type', d.metrics.registry.contentType).send(await d.metrics.registry.metrics()));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // ---- the playground page (web/): public files; the API key stays in the browser
  const webRoot = fileURLToPath(new URL('../../web/', import.meta.url));
  await app.register(fastifyStatic, { root: webRoot, prefix: '/web/', decorateReply: false, schemaHide: true, index: false });
  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await readFile(`${webRoot}index.html`)));

  return app;
}

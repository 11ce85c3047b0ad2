import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { unixSeconds as sec, type Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { ErrorCode, KirinError, isKirinError } from '../errors.js';
import { MODEL } from '../model.js';
import { DEFAULT_LIMITS, validateVideoFile } from '../media/validate.js';
import { authenticate } from '../storage/api-keys.js';
import type { BlobStore } from '../storage/blobs.js';
import type { Db } from '../storage/database.js';
import { newId } from '../storage/ids.js';
import { findVideo } from '../storage/videos.js';
import type { TaskService } from '../tasks/task-service.js';
import { httpStatusOf, sendError } from './errors.js';
import { clientErrorHandler, frameworkError } from './client-errors.js';
import { OneLinePerRequest, safeLoggerOptions } from './log-safety.js';
import type { Metrics } from './metrics.js';
import { createTaskBody, errorBody, errorResponses, faceDataSchema, lipSyncCheckAnswer, listQuery, rejectedFaceSchema, resultJson, sessionObject, syncBody, taskObject, videoObject } from './schemas.js';
import type { UrlSigner } from './signed-urls.js';
import { keyRateLimits, type RateLimitStore } from './rate-limits.js';
import { RETRY_AFTER_S, boundAnswerTime } from './request-deadline.js';
import { isDatabaseUnavailable } from '../storage/db-availability.js';
import { TaskAdmission } from './task-admission.js';
import { TooManyRequests } from './too-many-requests.js';
import { receiveUpload } from './upload.js';
import { diskRoom, sendDiskFull } from './disk-full.js';
import { lipSyncCheckRoutes } from './routes/lip-sync-check.js';
import { tracksRoutes } from './routes/tracks.js';
import { isDiskFull, type DiskSpace } from '../storage/disk-space.js';

export interface ApiDeps {
  config: ServiceConfig;
  db: Db;
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
  const admission = new TaskAdmission(d.db, d.config.limits);

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
    const who = m ? await authenticate(d.db, m[1]) : undefined;
    if (!who) return sendError(reply, 401, ErrorCode.BadRequest, 'missing or unknown API key (Authorization: Bearer <key>)');
    req.owner = who.owner;
  };
  // creating tasks and uploading cost far more than reading: a second, tighter limit, and room on disk
  const createLimits = [limits.creates, diskRoom(d.disk)];
  const notFound = (reply: FastifyReply, what: string) => sendError(reply, 404, ErrorCode.BadRequest, `${what} not found`);

  // ---- the keyed routes: one plugin context whose onRequest hooks (before the body is read or
  // validated, so a stranger learns nothing but 401) check the API key, then count the request;
  // every route registered in it is guarded, none can forget it (test/integration/service-openapi.test.ts)
  await app.register(async (keyed) => {
    keyed.addHook('onRequest', auth);
    keyed.addHook('onRequest', limits.requests);

    // ---- tasks (CONTRACT.md §1)
    keyed.post('/model/v1/generation', {
      onRequest: createLimits,
      schema: { operationId: 'createTask', summary: 'Create an identify-face task', tags: ['tasks'], body: createTaskBody, response: { 200: { $ref: 'Task#' }, ...errorResponses } },
    }, async (req) => {
      const body = req.body as Record<string, unknown>;
      return admission.admit(req.owner, body.external_task_id, () => d.tasks.create(req.owner, body));
    });

    keyed.get('/model/v1/generation/:task_id', {
      schema: { operationId: 'getTask', summary: 'Poll a task', tags: ['tasks'], params: { type: 'object', properties: { task_id: { type: 'string' } } }, response: { 200: { $ref: 'Task#' }, ...errorResponses } },
    }, async (req, reply) => (await d.tasks.get(req.owner, (req.params as { task_id: string }).task_id)) ?? notFound(reply, 'task'));

    keyed.get('/model/v1/generation', {
      schema: {
        operationId: 'listTasks',
        summary: 'List tasks (newest first), e.g. by external_task_id',
        tags: ['tasks'],
        querystring: listQuery,
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: { $ref: 'Task#' } }, has_more: { type: 'boolean' } } }, ...errorResponses },
      },
    }, async (req) => {
      const q = req.query as { external_task_id?: string; limit: number; after?: string };
      return d.tasks.list(req.owner, { externalTaskId: q.external_task_id, limit: q.limit, after: q.after });
    });

    keyed.delete('/model/v1/generation/:task_id', {
      schema: { operationId: 'cancelTask', summary: 'Cancel a pending or processing task (it fails with 014001301)', tags: ['tasks'], params: { type: 'object', properties: { task_id: { type: 'string' } } }, response: { 200: { $ref: 'Task#' }, ...errorResponses } },
    }, async (req, reply) => (await d.tasks.cancel(req.owner, (req.params as { task_id: string }).task_id)) ?? notFound(reply, 'task'));

    // ---- extension: where each face is over time (per task and per session), every frame with ?frames=all
    await keyed.register(tracksRoutes, { deps: d, onRequest: [] });

    // ---- uploads (§4)
    /** The upload's bytes in a scratch file: multipart field "file", or a raw video body. */
    const readUpload = async (req: FastifyRequest, name: string): Promise<{ file: string; bytes: number; truncated: boolean }> => {
      let stream: Readable;
      if (req.isMultipart()) {
        const part = await req.file();
        if (!part || part.fieldname !== 'file') {
          part?.file.resume(); // drain it, or the connection stalls on the unread body
          throw new KirinError(ErrorCode.BadRequest, 'multipart upload needs one field named "file"');
        }
        stream = part.file;
      } else if (req.body && typeof (req.body as Readable).pipe === 'function') {
        stream = req.body as Readable;
      } else {
        throw new KirinError(ErrorCode.BadRequest, 'send the video as multipart field "file" or as a video/mp4 or video/quicktime body');
      }
      const got = await receiveUpload(stream, d.blobs.tempDir(), name, DEFAULT_LIMITS.maxBytes);
      return { ...got, truncated: Boolean((stream as { truncated?: boolean }).truncated) };
    };

    const videoJson = (v: { id: string; duration_ms: number; width: number; height: number; fps: number; format: string; size_bytes: number; expires_at: number }) => ({
      video_id: v.id, duration_ms: v.duration_ms, width: v.width, height: v.height, fps: v.fps, format: v.format, size_bytes: Number(v.size_bytes), expires_at: sec(v.expires_at),
    });

    keyed.post('/v1/videos', {
      onRequest: createLimits,
      config: { deadlineAfterBody: true },
      schema: {
        operationId: 'uploadVideo',
        summary: 'Upload a video (multipart field "file", or a raw video/mp4 or video/quicktime body); validated at once',
        tags: ['videos'],
        response: { 201: { $ref: 'Video#' }, 413: { $ref: 'Error#' }, ...errorResponses },
      },
    }, async (req, reply) => {
      const videoId = newId('vid');
      let upload: { file: string; bytes: number; truncated: boolean };
      try {
        upload = await readUpload(req, `${videoId}.upload`);
      } catch (e) {
        // a broken multipart body (busboy's errors carry no status) is the client's bad request;
        // file-system errors (they name a syscall) stay internal
        if (isKirinError(e) || (e as NodeJS.ErrnoException).syscall) throw e;
        throw new KirinError(ErrorCode.BadRequest, `malformed upload: ${(e as Error).message}`);
      }
      const { file, bytes } = upload;
      try {
        // multipart cuts a file at its size limit and marks it truncated instead of failing
        if (upload.truncated) {
          throw new KirinError(ErrorCode.FileTooLarge, `file larger than ${Math.round(DEFAULT_LIMITS.maxBytes / 1048576)} MB: stopped reading at the limit`);
        }
        const info = await validateVideoFile(file);
        const key = `uploads/${videoId}.video`;
        await d.blobs.putFile(key, file);
        const now = d.clock.now();
        const row = {
          id: videoId, owner: req.owner, blob_key: key, size_bytes: bytes, duration_ms: Math.round(info.durationMs),
          width: info.width, height: info.height, fps: Math.round(info.fps * 1000) / 1000, format: info.format,
          created_at: now, expires_at: now + d.config.retentionMs,
        };
        await d.db.insertInto('videos').values(row).execute();
        return reply.code(201).send(videoJson(row));
      } finally {
        await rm(file, { force: true });
      }
    });

    const ownedVideo = (owner: string, id: string) => findVideo(d.db, id, { owner, now: d.clock.now() });

    keyed.get('/v1/videos/:video_id', {
      schema: { operationId: 'getVideo', summary: 'An uploaded video', tags: ['videos'], params: { type: 'object', properties: { video_id: { type: 'string' } } }, response: { 200: { $ref: 'Video#' }, ...errorResponses } },
    }, async (req, reply) => {
      const v = await ownedVideo(req.owner, (req.params as { video_id: string }).video_id);
      return v ? videoJson(v) : sendError(reply, 404, ErrorCode.VideoIdUnknown, 'video_id is unknown or expired');
    });

    keyed.delete('/v1/videos/:video_id', {
      schema: { operationId: 'deleteVideo', summary: 'Delete an uploaded video now', tags: ['videos'], params: { type: 'object', properties: { video_id: { type: 'string' } } }, response: { 204: { type: 'null' }, ...errorResponses } },
    }, async (req, reply) => {
      const v = await ownedVideo(req.owner, (req.params as { video_id: string }).video_id);
      if (!v) return sendError(reply, 404, ErrorCode.VideoIdUnknown, 'video_id is unknown or expired');
      await d.blobs.delete(v.blob_key);
      await d.db.deleteFrom('videos').where('id', '=', v.id).execute();
      return reply.code(204).send();
    });

    // ---- the synchronous form (§4)
    keyed.post('/v1/videos/identify-face', {
      onRequest: createLimits,
      config: { deadlineMs: d.config.syncTimeoutMs + d.config.requestTimeoutMs },
      schema: {
        operationId: 'identifyFaceSync',
        summary: 'Identify faces and wait for the answer (the result JSON itself)',
        tags: ['tasks'],
        body: syncBody,
        response: { 200: { $ref: 'ResultJson#' }, 500: { $ref: 'Error#' }, 504: { $ref: 'Error#' }, ...errorResponses },
      },
    }, async (req, reply) => {
      const body = req.body as { video_id?: string; video_url?: string };
      const task = await admission.admit(req.owner, undefined, () => d.tasks.create(req.owner, { model: MODEL, video_id: body.video_id, video_url: body.video_url }));
      const done = await d.tasks.waitSettled(req.owner, task.id, d.config.syncTimeoutMs);
      if (done?.status === 'completed') return JSON.parse(done.output![0].content[0].text);
      if (done?.status === 'failed') {
        const code = done.error!.code;
        const inputError = code.startsWith('0140011');
        return inputError
          ? sendError(reply, 400, code, done.error!.error_message)
          : sendError(reply, 500, ErrorCode.SyncGeneration, `task ${task.id} failed: ${done.error!.code} ${done.error!.error_message}`);
      }
      return sendError(reply, 504, ErrorCode.SyncGeneration, `task ${task.id} did not finish within ${d.config.syncTimeoutMs / 1000} s; poll GET /model/v1/generation/${task.id}`);
    });

    // ---- sessions (§4)
    keyed.get('/v1/sessions/:session_id', {
      schema: { operationId: 'getSession', summary: 'A session: the faces of one analysed video, valid 24 h', tags: ['sessions'], params: { type: 'object', properties: { session_id: { type: 'string' } } }, response: { 200: { $ref: 'Session#' }, ...errorResponses } },
    }, async (req, reply) => {
      const id = (req.params as { session_id: string }).session_id;
      const s = await d.db.selectFrom('sessions').selectAll().where('id', '=', id).where('owner', '=', req.owner).executeTakeFirst();
      if (!s || s.expires_at <= d.clock.now()) return sendError(reply, 404, ErrorCode.SessionUnknown, `session ${id} is unknown or expired`);
      const data = JSON.parse(s.data) as { video: unknown; audio?: unknown; faces: { face_id: string; file_id: string; start_time: number; end_time: number; box: unknown; score: number; speaking?: unknown[] }[]; rejected_faces: unknown[] };
      return {
        session_id: s.id,
        task_id: s.task_id,
        created_at: sec(s.created_at),
        expires_at: sec(s.expires_at),
        video: data.video,
        face_data: data.faces.map(({ file_id, ...f }) => ({ ...f, face_image: d.signer.url(file_id, s.expires_at) })),
        rejected_faces: data.rejected_faces,
        audio: data.audio,
        tracks_url: `/v1/sessions/${encodeURIComponent(s.id)}/tracks?frames=all`,
      };
    });

    await keyed.register(lipSyncCheckRoutes, { deps: d, onRequest: [], limitFetches: limits.creates });
  });

  // ---- signed face pictures, no key needed
  app.get('/files/:name', {
    schema: {
      operationId: 'getFaceImage',
      summary: 'A face picture (signed URL from the result; no key needed)',
      tags: ['files'],
      security: [],
      params: { type: 'object', properties: { name: { type: 'string' } } },
      querystring: { type: 'object', properties: { exp: { type: 'integer' }, sig: { type: 'string' } } },
    },
  }, async (req, reply) => {
    const m = /^(file_[a-z0-9]{20})\.jpg$/.exec((req.params as { name: string }).name);
    const { exp, sig } = req.query as { exp?: number; sig?: string };
    if (!m || exp === undefined || !sig || !d.signer.verify(m[1], exp, sig, d.clock.now())) {
      return sendError(reply, 403, ErrorCode.BadRequest, 'invalid or expired signature');
    }
    const f = await d.db.selectFrom('files').selectAll().where('id', '=', m[1]).executeTakeFirst();
    if (!f || f.expires_at <= d.clock.now() || !(await d.blobs.exists(f.blob_key))) {
      return sendError(reply, 404, ErrorCode.SessionUnknown, 'the picture has expired with its session');
    }
    // S3 with KIRIN_S3_PRESIGN=1: the bytes come from the bucket, by a short-lived presigned URL
    const direct = await d.blobs.directUrl?.(f.blob_key, 300);
    if (direct) return reply.header('cache-control', 'no-store').redirect(direct, 302);
    return reply.header('content-type', f.content_type).header('cache-control', 'private, max-age=3600').send(await d.blobs.read(f.blob_key));
  });

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

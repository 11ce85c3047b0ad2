import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, type ErrorCodeValue } from '../../errors.js';
import { tracksDocument } from '../../pipeline/tracks-document.js';
import type { Session } from '../../storage/repositories/index.js';
import { frameTracksKey, gzipJson, putGzipped, readBlob, tracksKey, type StoredTracks } from '../../storage/session-tracks.js';
import { sendError } from '../errors.js';
import { errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';

const gunzipAsync = promisify(gunzip);

export interface TracksRouteOptions {
  deps: Pick<ApiDeps, 'repositories' | 'clock' | 'blobs'>;
}

const corners = { type: ['array', 'null'], items: { type: 'number' }, minItems: 4, maxItems: 4, description: '[x1, y1, x2, y2], or null where the face is absent' } as const;
const point = { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;
const perFrame = {
  boxes: { type: 'array', items: corners, description: 'one per frame: the box smoothed within each shot (zero-phase: it does not lag), inside the frame' },
  raw_boxes: { type: 'array', items: corners, description: 'one per frame: the box as measured, linear between analysed frames, inside the frame' },
  keypoints: {
    type: 'array',
    description: 'one per frame: 5 points — left eye, right eye, nose tip, left mouth corner, right mouth corner (left = the image\'s left) — or null',
    items: { type: ['array', 'null'], items: point, minItems: 5, maxItems: 5 },
  },
  mouth: {
    type: 'array',
    description: 'one per frame: the lip contour, 20 outer points then 20 inner ones, each from the left corner over the upper lip — or null',
    items: { type: ['array', 'null'], items: point },
  },
} as const;

/** The per-frame tracks document (OpenAPI). */
export const frameTracksSchema = {
  $id: 'FrameTracks',
  type: 'object',
  description:
    'Every face on every frame, in source pixels: frames_ms holds the time of every frame of the video (ms from the first displayed frame, frames the analysis skipped included), and each face\'s boxes, raw_boxes, keypoints and mouth hold one entry per frame of frames_ms — a value on every frame of its interval [start_time, end_time) and wherever else it was seen, null elsewhere. Values between analysed frames are interpolated, never across a hard cut.',
  properties: {
    task_id: { type: 'string' },
    session_id: { type: 'string' },
    video: {
      type: 'object',
      properties: { width: { type: 'integer' }, height: { type: 'integer' }, fps: { type: 'number' }, frame_count: { type: 'integer' }, duration_ms: { type: 'integer' } },
    },
    frames_ms: { type: 'array', items: { type: 'integer' } },
    faces: {
      type: 'array',
      items: { type: 'object', properties: { face_id: { type: 'string' }, person_id: { type: 'string' }, start_time: { type: 'integer' }, end_time: { type: 'integer' }, ...perFrame } },
    },
    rejected_faces: {
      type: 'array',
      description: 'faces seen but not usable: values where they were seen',
      items: { type: 'object', properties: { reason: { type: 'string' }, person_id: { type: 'string' }, start_time: { type: 'integer' }, end_time: { type: 'integer' }, ...perFrame } },
    },
  },
} as const;

/** The tracks summary, without frames (OpenAPI). */
export const tracksSchema = {
  $id: 'Tracks',
  type: 'object',
  description: 'Without frames: task_id, session_id, video, audio, faces[] and rejected_faces[] with track (spans and analysed samples) and speaking',
  properties: {
    task_id: { type: 'string' },
    session_id: { type: 'string' },
    video: { type: 'object', additionalProperties: true },
    audio: { type: 'object', additionalProperties: true },
    faces: { type: 'array', items: { type: 'object', additionalProperties: true } },
    rejected_faces: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
  additionalProperties: true,
} as const;

const framesQuery = {
  type: 'object',
  properties: { frames: { type: 'string', enum: ['all'], description: 'all: every face on every frame (the FrameTracks document) instead of the analysed samples' } },
  additionalProperties: false,
} as const;

const description =
  'Without frames: per face, its usable/unusable/unseen stretches (track.spans: [{ start_time, end_time, state, reason? }]) and its box at each analysed frame (track.samples: [{ t (ms), box (source pixels) }]), faces[].speaking ([{ start_time, end_time }], when that face\'s own voice is heard), the same for rejected_faces, and audio ({ present, speech }). ' +
  'With frames=all: the FrameTracks document — every face\'s box, 5 keypoints and lip contour on every frame of the video (made on the first request, then kept with the session). ' +
  'Answers are gzip-compressed (Content-Encoding: gzip) when the request accepts it (Accept-Encoding: gzip).';

/**
 * The tracks of a completed task, by task or by session: `GET /model/v1/generation/{task_id}/tracks`
 * and `GET /v1/sessions/{session_id}/tracks`, each with `?frames=all` for every frame of every
 * face. The tracks are a gzipped blob of the session (storage/session-tracks.ts); the per-frame
 * document is made from it the first time it is asked for and kept beside it.
 */
export async function tracksRoutes(app: FastifyInstance, opts: TracksRouteOptions): Promise<void> {
  const { repositories, clock, blobs } = opts.deps;
  app.addSchema(frameTracksSchema);
  app.addSchema(tracksSchema);
  const response = {
    200: {
      description: 'the tracks (see the description), or with frames=all the FrameTracks document',
      anyOf: [{ $ref: 'FrameTracks#' }, { $ref: 'Tracks#' }],
    },
    ...errorResponses,
  };

  /** One handler for both routes: they differ in how the session is found, and in what a miss says. */
  const tracksOf = (
    find: (req: FastifyRequest) => Promise<Session | undefined>,
    notFound: (req: FastifyRequest) => { code: ErrorCodeValue; message: string },
  ) => async (req: FastifyRequest, reply: FastifyReply) => {
    const s = await find(req);
    if (!s || s.expires_at <= clock.now()) {
      const { code, message } = notFound(req);
      return sendError(reply, 404, code, message);
    }
    return answer(req, reply, s);
  };

  app.get('/model/v1/generation/:task_id/tracks', {
    schema: {
      operationId: 'getTaskTracks',
      summary: 'Extension: where each face is over time in a completed task; ?frames=all: every face on every frame',
      description,
      tags: ['tasks'],
      params: { type: 'object', properties: { task_id: { type: 'string' } } },
      querystring: framesQuery,
      response,
    },
  }, tracksOf(
    (req) => repositories.sessions.findByTask((req.params as { task_id: string }).task_id, req.owner),
    () => ({ code: ErrorCode.BadRequest, message: 'tracks of a completed task not found' }),
  ));

  app.get('/v1/sessions/:session_id/tracks', {
    schema: {
      operationId: 'getSessionTracks',
      summary: 'The tracks of a session (as GET /model/v1/generation/{task_id}/tracks); ?frames=all: every face on every frame',
      description,
      tags: ['sessions'],
      params: { type: 'object', properties: { session_id: { type: 'string' } } },
      querystring: framesQuery,
      response,
    },
  }, tracksOf(
    (req) => repositories.sessions.find((req.params as { session_id: string }).session_id, req.owner),
    (req) => ({ code: ErrorCode.SessionUnknown, message: `session ${(req.params as { session_id: string }).session_id} is unknown or expired` }),
  ));

  async function answer(req: FastifyRequest, reply: FastifyReply, s: { id: string; task_id: string }): Promise<FastifyReply> {
    const { frames } = req.query as { frames?: 'all' };
    const ids = { task_id: s.task_id, session_id: s.id };
    if (frames === 'all') {
      const kept = await readBlob(blobs, frameTracksKey(s.id));
      if (kept) return sendGzipped(req, reply, kept);
    }
    const stored = await readBlob(blobs, tracksKey(s.id));
    if (!stored) return sendError(reply, 404, ErrorCode.SessionUnknown, `the tracks of session ${s.id} are not stored`);
    const tracks = JSON.parse((await gunzipAsync(stored)).toString('utf8')) as StoredTracks;
    if (frames !== 'all') {
      const { frame_source: _source, ...summary } = tracks;
      return sendGzipped(req, reply, await gzipJson({ ...ids, ...summary }));
    }
    if (!tracks.frame_source) return sendError(reply, 404, ErrorCode.SessionUnknown, `session ${s.id} was analysed without frame times: its per-frame tracks cannot be made`);
    const doc = await gzipJson({ ...ids, ...tracksDocument(tracks, tracks.frame_source) });
    await putGzipped(blobs, frameTracksKey(s.id), doc);
    return sendGzipped(req, reply, doc);
  }
}

/** JSON already gzipped: as it is when the client takes gzip, inflated otherwise. */
async function sendGzipped(req: FastifyRequest, reply: FastifyReply, gzipped: Buffer): Promise<FastifyReply> {
  reply.header('content-type', 'application/json; charset=utf-8').header('vary', 'accept-encoding');
  if (acceptsGzip(req.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(gzipped);
  return reply.send(await gunzipAsync(gzipped));
}

/** Whether an Accept-Encoding header takes gzip (by name or *, with a q above 0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header ?? '';
  return value.split(',').some((part) => {
    const [name, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return (name === 'gzip' || name === 'x-gzip' || name === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

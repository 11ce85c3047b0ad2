import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { unixSeconds as sec } from '../../clock.js';
import { ErrorCode, KirinError, isKirinError } from '../../errors.js';
import { DEFAULT_LIMITS, validateVideoFile } from '../../media/validate.js';
import { newId } from '../../storage/ids.js';
import type { Video } from '../../storage/repositories/index.js';
import { sendError } from '../errors.js';
import { errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { receiveUpload } from '../upload.js';

export interface VideoRouteOptions {
  deps: Pick<ApiDeps, 'config' | 'repositories' | 'blobs' | 'clock'>;
  /** The upload's own hooks: the tighter creates limit, room on disk. */
  createLimits: onRequestHookHandler[];
}

const videoJson = (v: Video) => ({
  video_id: v.id, duration_ms: v.duration_ms, width: v.width, height: v.height, fps: v.fps, format: v.format, size_bytes: Number(v.size_bytes), expires_at: sec(v.expires_at),
});

/** Uploads (CONTRACT.md §4): a video is validated at once, then kept until it expires or is deleted. */
export async function videoRoutes(app: FastifyInstance, opts: VideoRouteOptions): Promise<void> {
  const { config, repositories, blobs, clock } = opts.deps;

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
    const got = await receiveUpload(stream, blobs.tempDir(), name, DEFAULT_LIMITS.maxBytes);
    return { ...got, truncated: Boolean((stream as { truncated?: boolean }).truncated) };
  };

  app.post('/v1/videos', {
    onRequest: opts.createLimits,
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
      await blobs.putFile(key, file);
      const now = clock.now();
      const video: Video = {
        id: videoId, owner: req.owner, blob_key: key, size_bytes: bytes, duration_ms: Math.round(info.durationMs),
        width: info.width, height: info.height, fps: Math.round(info.fps * 1000) / 1000, format: info.format,
        created_at: now, expires_at: now + config.retentionMs,
      };
      await repositories.videos.insert(video);
      return reply.code(201).send(videoJson(video));
    } finally {
      await rm(file, { force: true });
    }
  });

  const ownedVideo = (owner: string, id: string) => repositories.videos.find(id, { owner, now: clock.now() });

  app.get('/v1/videos/:video_id', {
    schema: { operationId: 'getVideo', summary: 'An uploaded video', tags: ['videos'], params: { type: 'object', properties: { video_id: { type: 'string' } } }, response: { 200: { $ref: 'Video#' }, ...errorResponses } },
  }, async (req, reply) => {
    const v = await ownedVideo(req.owner, (req.params as { video_id: string }).video_id);
    return v ? videoJson(v) : sendError(reply, 404, ErrorCode.VideoIdUnknown, 'video_id is unknown or expired');
  });

  app.delete('/v1/videos/:video_id', {
    schema: { operationId: 'deleteVideo', summary: 'Delete an uploaded video now', tags: ['videos'], params: { type: 'object', properties: { video_id: { type: 'string' } } }, response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (req, reply) => {
    const v = await ownedVideo(req.owner, (req.params as { video_id: string }).video_id);
    if (!v) return sendError(reply, 404, ErrorCode.VideoIdUnknown, 'video_id is unknown or expired');
    await blobs.delete(v.blob_key);
    await repositories.videos.delete(v.id);
    return reply.code(204).send();
  });
}

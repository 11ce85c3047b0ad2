import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../errors.js';
import { sendError } from '../errors.js';
import type { ApiDeps } from '../server.js';

export interface FileRouteOptions {
  deps: Pick<ApiDeps, 'repositories' | 'blobs' | 'clock' | 'signer'>;
}

/** Face pictures by signed URL (the result's face_image): no key needed, the signature is the key. */
export async function fileRoutes(app: FastifyInstance, opts: FileRouteOptions): Promise<void> {
  const { repositories, blobs, clock, signer } = opts.deps;

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
    if (!m || exp === undefined || !sig || !signer.verify(m[1], exp, sig, clock.now())) {
      return sendError(reply, 403, ErrorCode.BadRequest, 'invalid or expired signature');
    }
    const f = await repositories.files.find(m[1]);
    if (!f || f.expires_at <= clock.now() || !(await blobs.exists(f.blob_key))) {
      return sendError(reply, 404, ErrorCode.SessionUnknown, 'the picture has expired with its session');
    }
    // S3 with KIRIN_S3_PRESIGN=1: the bytes come from the bucket, by a short-lived presigned URL
    const direct = await blobs.directUrl?.(f.blob_key, 300);
    if (direct) return reply.header('cache-control', 'no-store').redirect(direct, 302);
    return reply.header('content-type', f.content_type).header('cache-control', 'private, max-age=3600').send(await blobs.read(f.blob_key));
  });
}

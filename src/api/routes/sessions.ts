import type { FastifyInstance } from 'fastify';
import { unixSeconds as sec } from '../../clock.js';
import { ErrorCode } from '../../errors.js';
import { sendError } from '../errors.js';
import { errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import type { SessionDocument } from '../../pipeline/result-json.js';

export interface SessionRouteOptions {
  deps: Pick<ApiDeps, 'repositories' | 'clock' | 'signer'>;
}

/** A session (CONTRACT.md §4): the faces of one analysed video, with fresh signed picture URLs. */
export async function sessionRoutes(app: FastifyInstance, opts: SessionRouteOptions): Promise<void> {
  const { repositories, clock, signer } = opts.deps;

  app.get('/v1/sessions/:session_id', {
    schema: { operationId: 'getSession', summary: 'A session: the faces of one analysed video, valid 24 h', tags: ['sessions'], params: { type: 'object', properties: { session_id: { type: 'string' } } }, response: { 200: { $ref: 'Session#' }, ...errorResponses } },
  }, async (req, reply) => {
    const id = (req.params as { session_id: string }).session_id;
    const s = await repositories.sessions.find(id, req.owner);
    if (!s || s.expires_at <= clock.now()) return sendError(reply, 404, ErrorCode.SessionUnknown, `session ${id} is unknown or expired`);
    const data = JSON.parse(s.data) as SessionDocument;
    return {
      session_id: s.id,
      task_id: s.task_id,
      created_at: sec(s.created_at),
      expires_at: sec(s.expires_at),
      video: data.video,
      face_data: data.faces.map(({ file_id, ...f }) => ({ ...f, face_image: signer.url(file_id, s.expires_at) })),
      rejected_faces: data.rejected_faces,
      audio: data.audio,
      tracks_url: `/v1/sessions/${encodeURIComponent(s.id)}/tracks?frames=all`,
    };
  });
}

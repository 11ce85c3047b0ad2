import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkPlan, type FaceChoice } from '../../analysis/plan-check.js';
import { ErrorCode, KirinError, isKirinError } from '../../errors.js';
import { fetchSoundFile, type SoundFileInfo } from '../../media/sound-file.js';
import { newRequestId } from '../../pipeline/result-json.js';
import type { ApiDeps } from '../server.js';
import { sendError } from '../errors.js';
import type { LimitHook } from '../rate-limits.js';
import type { SessionDocument } from '../../pipeline/result-json.js';
import { errorResponses, lipSyncCheckBody } from '../schemas.js';

export interface LipSyncCheckRouteOptions {
  deps: Pick<ApiDeps, 'repositories' | 'clock' | 'blobs' | 'config'>;
  /** Counted once per check that fetches a sound_file (the creates limit: a fetch costs like a create). */
  limitFetches: LimitHook;
}

interface AudioSource {
  audio_duration_ms?: number;
  sound_file?: string;
}
type ChoiceBody = FaceChoice & AudioSource;
interface CheckBody extends AudioSource {
  face_choose: ChoiceBody[];
}

/** Distinct sound files one check may fetch (each up to 5 MB). */
const MAX_SOUND_FILES = 3;

/**
 * `POST /v1/sessions/{session_id}/lip-sync-check`: would the lip-sync step accept this
 * `face_choose`? Rules in analysis/plan-check.ts; a `sound_file` is fetched and measured by
 * media/sound-file.ts. A broken rule is not an error: the answer is 200 with `accepted: false`
 * and each choice's coded problems. Errors are the request's own: 400 (malformed, an unusable
 * sound_file), 404 014001201 (session unknown or expired).
 */
export async function lipSyncCheckRoutes(app: FastifyInstance, opts: LipSyncCheckRouteOptions): Promise<void> {
  const { repositories, clock, blobs, config } = opts.deps;

  app.post('/v1/sessions/:session_id/lip-sync-check', {
    schema: {
      operationId: 'checkLipSyncPlan',
      summary: 'Check a lip-sync plan (Kling advanced lip-sync face_choose) against a session before paying for generation',
      description:
        'Answers whether the lip-sync step would accept the plan, with a coded problem for each rule a choice breaks (audio 2–60 s, cropped audio ≥ 2 s, sound_end_time within the audio, the inserted span inside the video, overlapping the face\'s interval by ≥ 2 s, a known face_id), and the nearest valid sound_insert_time. A broken rule is still a 200 answer with accepted: false. A sound_file that cannot be used fails the request: 400 with 014001001 (malformed URL), 014001101 (download failed), 014001102 (URL not allowed), 014001103 (over 5 MB), 014001109 (not MP3, WAV or M4A), 014001110 (unreadable audio).',
      tags: ['sessions'],
      params: { type: 'object', properties: { session_id: { type: 'string' } } },
      body: lipSyncCheckBody,
      response: { 200: { $ref: 'LipSyncCheck#' }, 500: { $ref: 'Error#' }, ...errorResponses },
    },
  }, async (req, reply) => {
    const sessionId = (req.params as { session_id: string }).session_id;
    const body = req.body as CheckBody;
    const sources = body.face_choose.map((c, i) => audioSourceOf(c, body, i));

    const s = await repositories.sessions.find(sessionId, req.owner);
    if (!s || s.expires_at <= clock.now()) return sendError(reply, 404, ErrorCode.SessionUnknown, `session ${sessionId} is unknown or expired`);
    const data = JSON.parse(s.data) as SessionDocument;

    let files: Map<string, SoundFileInfo>;
    try {
      files = await measureSoundFiles(req, reply, sources, opts);
    } catch (e) {
      // a sound file that breaks an input rule is the client's: 400 with the rule's code, 014001103
      // included (413 is for request bodies, and this one was small)
      if (isKirinError(e) && e.code.startsWith('0140011')) return sendError(reply, 400, e.code, e.message);
      throw e;
    }
    const audio = sources.map((src) =>
      'durationMs' in src ? { source: 'audio_duration_ms' as const, duration_ms: src.durationMs } : soundFileAudio(files.get(src.url)!),
    );
    const plan = checkPlan(
      body.face_choose.map((c, i) => ({ choice: c, audioDurationMs: audio[i]!.duration_ms })),
      { videoDurationMs: data.video.duration_ms, faces: data.faces },
    );
    return {
      code: 0,
      message: 'SUCCEED',
      request_id: newRequestId(),
      data: {
        session_id: s.id,
        accepted: plan.accepted,
        video: { duration_ms: data.video.duration_ms },
        checks: plan.checks.map(({ audio_duration_ms: _d, ...c }, index) => ({ index, ...c, audio: audio[index] })),
      },
    };
  });

  /** Each distinct sound_file fetched once, in order. */
  async function measureSoundFiles(req: FastifyRequest, reply: FastifyReply, sources: ReturnType<typeof audioSourceOf>[], o: LipSyncCheckRouteOptions): Promise<Map<string, SoundFileInfo>> {
    const urls = [...new Set(sources.flatMap((src) => ('url' in src ? [src.url] : [])))];
    const out = new Map<string, SoundFileInfo>();
    if (urls.length === 0) return out;
    if (urls.length > MAX_SOUND_FILES) throw new KirinError(ErrorCode.BadRequest, `${urls.length} different sound_file URLs in one check, more than the ${MAX_SOUND_FILES} allowed`);
    await o.limitFetches(req);
    const stop = new AbortController();
    // the connection closed before an answer was sent: stop fetching for nobody
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) stop.abort(new KirinError(ErrorCode.BadRequest, 'the client went away'));
    });
    for (const url of urls) {
      out.set(url, await fetchSoundFile(url, { allowPrivate: config.allowPrivateUrls, scratchDir: blobs.tempDir(), signal: stop.signal }));
    }
    return out;
  }
}

/** Where choice `i` takes its audio from: its own audio_duration_ms or sound_file, else the top level's. Exactly one per level. */
function audioSourceOf(choice: AudioSource, top: AudioSource, i: number): { durationMs: number } | { url: string } {
  const pick = (level: AudioSource, where: string) => {
    const hasDuration = level.audio_duration_ms !== undefined;
    const hasFile = level.sound_file !== undefined;
    if (hasDuration && hasFile) throw new KirinError(ErrorCode.BadRequest, `${where} has both audio_duration_ms and sound_file: give one`);
    if (hasDuration) return { durationMs: level.audio_duration_ms! };
    if (hasFile) return { url: level.sound_file! };
    return undefined;
  };
  const own = pick(choice, `face_choose[${i}]`);
  const shared = pick(top, 'the request');
  const src = own ?? shared;
  if (!src) throw new KirinError(ErrorCode.BadRequest, `face_choose[${i}] has no audio: give audio_duration_ms or sound_file, in the entry or at the top level`);
  return src;
}

function soundFileAudio(f: SoundFileInfo) {
  return { source: 'sound_file' as const, duration_ms: f.durationMs, format: f.format, codec: f.codec, size_bytes: f.sizeBytes };
}

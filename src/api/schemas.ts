/** JSON schemas of the API: Fastify validates requests with them and @fastify/swagger builds OpenAPI from them. */
import { MODEL } from '../model.js';

export const errorBody = {
  $id: 'Error',
  type: 'object',
  examples: [{ error: { code: '014001105', error_message: 'the video is shorter than 2 s' } }],
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'error_message'],
      properties: { code: { type: 'string', examples: ['014001105'] }, error_message: { type: 'string' } },
    },
  },
} as const;

const videoMeta = {
  type: 'object',
  properties: {
    duration_ms: { type: 'integer' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    fps: { type: 'number' },
    format: { type: 'string', enum: ['mp4', 'mov'] },
  },
} as const;

export const taskObject = {
  $id: 'Task',
  type: 'object',
  examples: [
    {
      id: 'task_…',
      model: MODEL,
      status: 'completed',
      progress: 1,
      created_at: 1767225600,
      completed_at: 1767225607,
      external_task_id: null,
      output: [{ content: [{ type: 'text', text: '{"code":0,"message":"SUCCEED","request_id":"req_…","data":{"session_id":"sess_…","face_data":[…]}}' }] }],
      usage: { cost: '0.0100', discount: 0 },
      metadata: { queue_ms: 12, processing_ms: 6900, video: { duration_ms: 5200, width: 1280, height: 720, fps: 25, format: 'mp4' } },
    },
  ],
  required: ['id', 'model', 'status', 'progress', 'created_at'],
  properties: {
    id: { type: 'string', examples: ['task_…'] },
    model: { type: 'string', const: MODEL },
    status: { type: 'string', enum: ['pending', 'processing', 'completed', 'failed'] },
    progress: { type: 'number', minimum: 0, maximum: 1 },
    created_at: { type: 'integer', description: 'Unix seconds' },
    completed_at: { type: ['integer', 'null'], description: 'Unix seconds, when completed or failed' },
    external_task_id: { type: ['string', 'null'] },
    error: {
      type: 'object',
      description: 'Only when failed',
      properties: { code: { type: 'string' }, error_message: { type: 'string' } },
    },
    output: {
      type: 'array',
      description: 'Only when completed. content[0].text is the result JSON as a string (see ResultJson).',
      items: {
        type: 'object',
        properties: {
          content: {
            type: 'array',
            items: { type: 'object', properties: { type: { type: 'string' }, text: { type: 'string' }, url: { type: 'string' } } },
          },
        },
      },
    },
    usage: {
      type: 'object',
      description: 'Only when completed',
      properties: { cost: { type: 'string', examples: ['0.0100'] }, discount: { type: 'number' } },
    },
    metadata: {
      type: 'object',
      properties: { queue_ms: { type: ['integer', 'null'] }, processing_ms: { type: ['integer', 'null'] }, video: videoMeta },
    },
  },
} as const;

const box = {
  type: 'object',
  description: 'Extension: face box in source pixels on the frame the picture was cut from',
  properties: { x: { type: 'integer' }, y: { type: 'integer' }, width: { type: 'integer' }, height: { type: 'integer' } },
} as const;

const timeSpans = (description: string) =>
  ({
    type: 'array',
    description,
    items: {
      type: 'object',
      required: ['start_time', 'end_time'],
      properties: { start_time: { type: 'integer', description: 'ms from the first displayed frame' }, end_time: { type: 'integer', description: 'ms, exclusive' } },
    },
  }) as const;

const speaking = timeSpans(
  "Extension: when this face's own voice is heard, matched to its lip movement; [] when never (a listener, a muted talker, a face under an off-screen narrator) and always [] when the video has no audio stream",
);

const audio = {
  type: 'object',
  description: 'Extension: the soundtrack',
  required: ['present', 'speech'],
  properties: {
    present: { type: 'boolean', description: 'whether the video has an audio stream' },
    speech: timeSpans('when any voice is heard, whoever it belongs to (on screen or not); [] without an audio stream'),
  },
} as const;

/** One usable face of the result (component FaceData). */
export const faceDataSchema = {
  $id: 'FaceData',
  type: 'object',
  required: ['face_id', 'face_image', 'start_time', 'end_time'],
  examples: [
    {
      face_id: '0',
      person_id: 'person_0',
      face_image: 'https://kirin.example.com/files/file_0123456789abcdefghij.jpg?exp=1767312000&sig=…',
      start_time: 0,
      end_time: 5200,
      box: { x: 412, y: 96, width: 188, height: 240 },
      score: 0.97,
      speaking: [{ start_time: 400, end_time: 2900 }],
    },
  ],
  properties: {
    face_id: { type: 'string', description: '"0", "1", … in order of start_time (ties: left to right)' },
    person_id: {
      type: 'string',
      description: 'Extension: the same for every face of one person (after gaps of more than 1 s, across cuts), judged by appearance; "person_0", … in order of first appearance, shared with rejected_faces',
    },
    face_image: { type: 'string', description: 'Signed URL of a JPEG crop of the face, valid as long as the session' },
    start_time: { type: 'integer', description: 'ms from the first displayed frame' },
    end_time: { type: 'integer', description: 'ms; the end of the usable interval' },
    box,
    score: { type: 'number', description: 'Extension: the face mesh\'s confidence (0..1) on the frame the picture was cut from' },
    speaking,
  },
} as const;

const faceData = { type: 'array', items: { $ref: 'FaceData#' } } as const;

/** A face seen but not usable, with why (component RejectedFace). */
export const rejectedFaceSchema = {
  $id: 'RejectedFace',
  type: 'object',
  description: 'Extension: a face seen but not usable, with why',
  examples: [{ reason: 'turned_away', person_id: 'person_1', start_time: 1200, end_time: 3100, speaking: [] }],
  properties: {
    reason: { type: 'string', enum: ['too_small', 'turned_away', 'mouth_out_of_frame', 'mouth_hidden', 'blurry', 'too_short'] },
    person_id: { type: 'string', description: 'as in face_data' },
    start_time: { type: 'integer' },
    end_time: { type: 'integer' },
    speaking,
  },
} as const;

/**
 * The success answer `{ code: 0, message: 'SUCCEED', request_id, data }` around `data`'s schema
 * (the result JSON, the lip-sync check). `required`: all four fields are required.
 */
function successEnvelope<const D extends object>(o: { $id: string; description?: string; examples?: readonly unknown[]; required?: true; data: D }) {
  return {
    $id: o.$id,
    type: 'object',
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(o.examples !== undefined ? { examples: o.examples } : {}),
    ...(o.required ? { required: ['code', 'message', 'request_id', 'data'] } : {}),
    properties: {
      code: { type: 'integer', const: 0 },
      message: { type: 'string', const: 'SUCCEED' },
      request_id: { type: 'string' },
      data: o.data,
    },
  } as const;
}

const rejectedFaces = { type: 'array', description: 'Extension: faces seen but not usable, with why', items: { $ref: 'RejectedFace#' } } as const;

export const resultJson = successEnvelope({
  $id: 'ResultJson',
  description: "The result: the answer of POST /v1/videos/identify-face, and the JSON inside a completed task's output[0].content[0].text (parse that string to get this object)",
  examples: [
    {
      code: 0,
      message: 'SUCCEED',
      request_id: 'req_…',
      data: {
        session_id: 'sess_…',
        final_unit_deduction: '0.0100',
        face_data: [{ face_id: '0', person_id: 'person_0', face_image: 'https://kirin.example.com/files/file_….jpg?exp=…&sig=…', start_time: 0, end_time: 5200, box: { x: 412, y: 96, width: 188, height: 240 }, score: 0.97, speaking: [{ start_time: 400, end_time: 2900 }] }],
        video: { duration_ms: 5200, width: 1280, height: 720, fps: 25, format: 'mp4' },
        rejected_faces: [],
        audio: { present: true, speech: [{ start_time: 400, end_time: 2900 }] },
      },
    },
  ],
  data: {
    type: 'object',
    properties: {
      session_id: { type: 'string' },
      final_unit_deduction: { type: 'string' },
      face_data: faceData,
      video: { ...videoMeta, description: 'Extension: what was measured of the video' },
      rejected_faces: rejectedFaces,
      audio,
    },
  },
});

export const videoObject = {
  $id: 'Video',
  type: 'object',
  examples: [{ video_id: 'vid_…', duration_ms: 5200, width: 1280, height: 720, fps: 25, format: 'mp4', size_bytes: 1843200, expires_at: 1767312000 }],
  properties: {
    video_id: { type: 'string' },
    duration_ms: { type: 'integer' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    fps: { type: 'number' },
    format: { type: 'string' },
    size_bytes: { type: 'integer' },
    expires_at: { type: 'integer', description: 'Unix seconds' },
  },
} as const;

export const sessionObject = {
  $id: 'Session',
  type: 'object',
  examples: [
    {
      session_id: 'sess_…',
      task_id: 'task_…',
      created_at: 1767225607,
      expires_at: 1767312007,
      video: { duration_ms: 5200, width: 1280, height: 720, fps: 25, format: 'mp4' },
      face_data: [{ face_id: '0', person_id: 'person_0', face_image: 'https://kirin.example.com/files/file_….jpg?exp=…&sig=…', start_time: 0, end_time: 5200 }],
      rejected_faces: [],
      audio: { present: true, speech: [{ start_time: 400, end_time: 2900 }] },
      tracks_url: '/v1/sessions/sess_…/tracks?frames=all',
    },
  ],
  properties: {
    session_id: { type: 'string' },
    task_id: { type: 'string' },
    created_at: { type: 'integer' },
    expires_at: { type: 'integer' },
    video: videoMeta,
    face_data: faceData,
    rejected_faces: rejectedFaces,
    audio,
    tracks_url: {
      type: 'string',
      description: 'Extension: where this session\'s per-frame tracks are (a path on this service, with the API key): every face\'s box, 5 keypoints and lip contour on every frame',
      examples: ['/v1/sessions/sess_…/tracks?frames=all'],
    },
  },
} as const;

export const createTaskBody = {
  type: 'object',
  required: ['model'],
  properties: {
    model: { type: 'string', enum: [MODEL] },
    video_id: { type: 'string', maxLength: 100 },
    video_url: { type: 'string', maxLength: 8192 },
    callback_url: { type: 'string', maxLength: 2048 },
    external_task_id: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

export const syncBody = {
  type: 'object',
  properties: {
    video_id: { type: 'string', maxLength: 100 },
    video_url: { type: 'string', maxLength: 8192 },
  },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    external_task_id: { type: 'string' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    after: { type: 'string', description: 'a task id: list the tasks created before it' },
  },
} as const;

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  429: { description: 'Rate, concurrency or queue limit (014001401); the Retry-After header says how many seconds to wait', $ref: 'Error#' },
} as const;

// ---- the lip-sync plan check (POST /v1/sessions/{session_id}/lip-sync-check)

const msTime = (description: string, minimum = 0) => ({ type: 'integer', minimum, maximum: 2_147_483_647, description }) as const;

const audioSource = {
  audio_duration_ms: msTime('the audio\'s length in ms, when you know it (instead of sound_file)'),
  sound_file: {
    type: 'string',
    maxLength: 8192,
    description: 'URL of the audio (instead of audio_duration_ms): fetched under the same rules as video_url (http/https, public addresses only unless KIRIN_ALLOW_PRIVATE_URLS=1, ports 80/443 or KIRIN_URL_PORTS), at most 5 MB, MP3, WAV or M4A judged from the bytes; its length is measured with ffprobe',
  },
} as const;

export const lipSyncCheckBody = {
  type: 'object',
  required: ['face_choose'],
  description: 'Kling\'s advanced lip-sync face_choose, and the audio it crops from: audio_duration_ms or sound_file, at the top level for every entry or in an entry for that entry alone (exactly one at each level used). Other fields of an entry (sound_volume, original_audio_volume, …) are accepted and ignored.',
  properties: {
    face_choose: {
      type: 'array',
      minItems: 1,
      maxItems: 10,
      items: {
        type: 'object',
        required: ['face_id', 'sound_start_time', 'sound_end_time', 'sound_insert_time'],
        properties: {
          face_id: { type: 'string', maxLength: 100, description: 'a face_id of the session' },
          sound_start_time: msTime('where the crop starts, ms on the audio\'s clock'),
          sound_end_time: msTime('where the crop ends, ms on the audio\'s clock'),
          sound_insert_time: msTime('where the crop is inserted, ms on the video\'s clock (from its first displayed frame)'),
          ...audioSource,
        },
      },
    },
    ...audioSource,
  },
} as const;

const span = {
  type: 'object',
  required: ['start_time', 'end_time'],
  properties: { start_time: { type: 'integer' }, end_time: { type: 'integer' } },
} as const;

export const lipSyncCheckAnswer = successEnvelope({
  $id: 'LipSyncCheck',
  required: true,
  data: {
    type: 'object',
    required: ['session_id', 'accepted', 'video', 'checks'],
    properties: {
      session_id: { type: 'string' },
      accepted: { type: 'boolean', description: 'true when every face choice is accepted: the lip-sync step would take this plan' },
      video: { type: 'object', properties: { duration_ms: { type: 'integer' } } },
      checks: {
        type: 'array',
        description: 'one per face_choose entry, in order',
        items: {
          type: 'object',
          required: ['index', 'face_id', 'accepted', 'audio', 'cropped_ms', 'inserted', 'face', 'overlap_ms', 'problems', 'insert_time_range', 'nearest_insert_time'],
          properties: {
            index: { type: 'integer', description: 'the entry\'s index in face_choose' },
            face_id: { type: 'string' },
            accepted: { type: 'boolean', description: 'true when problems is empty' },
            audio: {
              type: 'object',
              required: ['source', 'duration_ms'],
              properties: {
                source: { type: 'string', enum: ['audio_duration_ms', 'sound_file'] },
                duration_ms: { type: 'integer' },
                format: { type: 'string', enum: ['mp3', 'wav', 'm4a'], description: 'sound_file only, judged from the bytes' },
                codec: { type: 'string', description: 'sound_file only, e.g. pcm_s16le, mp3, aac' },
                size_bytes: { type: 'integer', description: 'sound_file only' },
              },
            },
            cropped_ms: { type: 'integer', description: 'sound_end_time - sound_start_time' },
            inserted: { ...span, description: 'where the crop lands in the video: sound_insert_time to sound_insert_time + cropped_ms' },
            face: { type: ['object', 'null'], required: ['start_time', 'end_time'], properties: span.properties, description: 'the face\'s usable interval in the session; null for an unknown face_id' },
            overlap_ms: { type: ['integer', 'null'], description: 'how long the inserted span overlaps the face\'s interval; null for an unknown face_id' },
            problems: {
              type: 'array',
              description: 'every rule this choice breaks; [] when accepted',
              items: {
                type: 'object',
                required: ['code', 'rule', 'message'],
                properties: {
                  code: { type: 'string', enum: ['014001501', '014001502', '014001503', '014001504', '014001505', '014001506'] },
                  rule: {
                    type: 'string',
                    enum: ['audio_duration_out_of_range', 'cropped_audio_too_short', 'crop_past_audio_end', 'insert_outside_video', 'face_overlap_too_short', 'face_id_unknown'],
                    description: '014001501 audio_duration_out_of_range: the audio is not 2–60 s long; 014001502 cropped_audio_too_short: sound_end_time - sound_start_time < 2 s; 014001503 crop_past_audio_end: sound_end_time is later than the audio\'s end; 014001504 insert_outside_video: the inserted span starts before 0 or ends after the video; 014001505 face_overlap_too_short: it overlaps the face\'s interval by less than 2 s; 014001506 face_id_unknown: no such face in the session',
                  },
                  message: { type: 'string', description: 'names the measured value and the limit' },
                },
              },
            },
            insert_time_range: {
              type: ['object', 'null'],
              required: ['earliest', 'latest'],
              properties: { earliest: { type: 'integer' }, latest: { type: 'integer' } },
              description: 'every sound_insert_time (inclusive) at which this crop lies inside the video and overlaps the face by at least 2 s; null when none does (crop under 2 s, face interval under 2 s, crop longer than the room, unknown face)',
            },
            nearest_insert_time: {
              type: ['integer', 'null'],
              description: 'the valid sound_insert_time nearest to the one asked (itself when valid); null when insert_time_range is null. Moving the insert fixes only 014001504/014001505',
            },
          },
        },
      },
    },
  },
});

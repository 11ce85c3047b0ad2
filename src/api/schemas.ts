/** JSON schemas of the API: Fastify validates requests with them and @fastify/swagger builds OpenAPI from them. */

export const errorBody = {
  $id: 'Error',
  type: 'object',
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
  required: ['id', 'model', 'status', 'progress', 'created_at'],
  properties: {
    id: { type: 'string', examples: ['task_…'] },
    model: { type: 'string', const: 'kirin_identify_face' },
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

const faceData = {
  type: 'array',
  items: {
    type: 'object',
    required: ['face_id', 'face_image', 'start_time', 'end_time'],
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
      score: { type: 'number', description: 'Extension: detector confidence 0..1' },
      speaking,
    },
  },
} as const;

const rejectedFaces = {
  type: 'array',
  description: 'Extension: faces seen but not usable, with why',
  items: {
    type: 'object',
    properties: {
      reason: { type: 'string', enum: ['too_small', 'turned_away', 'mouth_out_of_frame', 'mouth_hidden', 'blurry', 'too_short'] },
      person_id: { type: 'string', description: 'as in face_data' },
      start_time: { type: 'integer' },
      end_time: { type: 'integer' },
      speaking,
    },
  },
} as const;

export const resultJson = {
  $id: 'ResultJson',
  type: 'object',
  properties: {
    code: { type: 'integer', const: 0 },
    message: { type: 'string', const: 'SUCCEED' },
    request_id: { type: 'string' },
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
  },
} as const;

export const videoObject = {
  $id: 'Video',
  type: 'object',
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
  properties: {
    session_id: { type: 'string' },
    task_id: { type: 'string' },
    created_at: { type: 'integer' },
    expires_at: { type: 'integer' },
    video: videoMeta,
    face_data: faceData,
    rejected_faces: rejectedFaces,
    audio,
  },
} as const;

export const createTaskBody = {
  type: 'object',
  required: ['model'],
  properties: {
    model: { type: 'string', enum: ['kirin_identify_face'] },
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

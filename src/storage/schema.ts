import type { Generated } from 'kysely';

/** Times are Unix milliseconds unless a name says otherwise. */
export interface ApiKeyTable {
  id: string;
  owner: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface VideoTable {
  id: string;
  owner: string;
  /** Blob key of the uploaded file. */
  blob_key: string;
  size_bytes: number;
  duration_ms: number;
  width: number;
  height: number;
  fps: number;
  format: string;
  created_at: number;
  expires_at: number;
}

export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed';

export interface TaskTable {
  id: string;
  owner: string;
  model: string;
  external_task_id: string | null;
  status: TaskStatus;
  progress: number;
  video_id: string | null;
  video_url: string | null;
  callback_url: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  error_code: string | null;
  error_message: string | null;
  /** The result JSON text (output[0].content[0].text). */
  result_text: string | null;
  cost_usd: string | null;
  /** JSON of what was measured of the video. */
  video_meta: string | null;
  attempts: Generated<number>;
  /** host:pid of the process that claimed it last. */
  worker: Generated<string | null>;
}

export interface SessionTable {
  id: string;
  owner: string;
  task_id: string;
  /** JSON: { video, faces: [{face_id, file_id, start_time, end_time, box, score}], rejected_faces }. */
  data: string;
  created_at: number;
  expires_at: number;
}

export interface FileTable {
  id: string;
  session_id: string;
  blob_key: string;
  content_type: string;
  created_at: number;
  expires_at: number;
}

export interface CallbackTable {
  id: string;
  task_id: string;
  url: string;
  body: string;
  /** refused: the URL broke the outbound URL rules at delivery (last_error says how); never sent. */
  status: 'pending' | 'delivered' | 'failed' | 'refused';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
}

export interface FetchedVideoTable {
  blob_key: string;
  task_id: string;
  expires_at: number;
}

export interface SecretTable {
  name: string;
  value: string;
}

export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface Database {
  api_keys: ApiKeyTable;
  videos: VideoTable;
  tasks: TaskTable;
  sessions: SessionTable;
  files: FileTable;
  callbacks: CallbackTable;
  fetched_videos: FetchedVideoTable;
  secrets: SecretTable;
  leases: LeaseTable;
}

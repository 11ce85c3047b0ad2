import { unixSeconds } from '../clock.js';
import type { TaskTable } from '../storage/schema.js';

/** The task object of CONTRACT.md §1, as clients see it. */
export interface TaskObject {
  id: string;
  model: string;
  status: TaskTable['status'];
  progress: number;
  created_at: number;
  completed_at: number | null;
  external_task_id: string | null;
  error?: { code: string; error_message: string };
  output?: { content: { type: 'text'; text: string; url: string }[] }[];
  usage?: { cost: string; discount: number };
  metadata: {
    queue_ms: number | null;
    processing_ms: number | null;
    video?: { duration_ms: number; width: number; height: number; fps: number; format: string };
  };
}

const sec = (ms: number | null) => (ms === null ? null : unixSeconds(ms));

export function toTaskObject(t: Omit<TaskTable, 'attempts' | 'worker'>): TaskObject {
  const obj: TaskObject = {
    id: t.id,
    model: t.model,
    status: t.status,
    progress: t.status === 'completed' ? 1 : Math.round(t.progress * 100) / 100,
    created_at: sec(t.created_at)!,
    completed_at: sec(t.completed_at),
    external_task_id: t.external_task_id,
    metadata: {
      queue_ms: t.started_at === null ? null : t.started_at - t.created_at,
      processing_ms: t.started_at === null || t.completed_at === null ? null : t.completed_at - t.started_at,
      ...(t.video_meta ? { video: JSON.parse(t.video_meta) } : {}),
    },
  };
  if (t.status === 'failed') obj.error = { code: t.error_code ?? '014002095', error_message: t.error_message ?? 'internal error' };
  if (t.status === 'completed' && t.result_text !== null) {
    obj.output = [{ content: [{ type: 'text', text: t.result_text, url: '' }] }];
    obj.usage = { cost: t.cost_usd ?? '0.0000', discount: 0 };
  }
  return obj;
}

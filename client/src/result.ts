import { ErrorCode, KirinError, KirinTaskFailedError } from './errors.ts';
import type { ResultJson, Task } from './types.ts';

/**
 * The result JSON of a completed task: `output[0].content[0].text`, parsed. A failed task throws
 * KirinTaskFailedError with its code; a task not settled yet, or a text that is not the result
 * JSON, throws KirinError 014002096 (result parsing).
 */
export function parseResult(task: Task): ResultJson {
  if (task.status === 'failed') throw new KirinTaskFailedError(task);
  if (task.status !== 'completed') throw new KirinError(ErrorCode.ResultParsing, `task ${task.id} is ${task.status}, not completed: it has no result yet`, { taskId: task.id });
  const text = task.output?.[0]?.content?.[0]?.text;
  if (typeof text !== 'string') throw new KirinError(ErrorCode.ResultParsing, `task ${task.id} is completed but has no output text`, { taskId: task.id });
  let result: ResultJson;
  try {
    result = JSON.parse(text) as ResultJson;
  } catch (e) {
    throw new KirinError(ErrorCode.ResultParsing, `task ${task.id}: the output text is not JSON: ${(e as Error).message}`, { taskId: task.id, cause: e });
  }
  if (!result || typeof result !== 'object' || !result.data || !Array.isArray(result.data.face_data)) {
    throw new KirinError(ErrorCode.ResultParsing, `task ${task.id}: the output text is not a result JSON (no data.face_data)`, { taskId: task.id });
  }
  return result;
}

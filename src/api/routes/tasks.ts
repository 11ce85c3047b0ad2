import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import { ErrorCode } from '../../errors.js';
import { MODEL } from '../../model.js';
import { sendError } from '../errors.js';
import { createTaskBody, errorResponses, listQuery, syncBody } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { TaskAdmission } from '../task-admission.js';

export interface TaskRouteOptions {
  deps: Pick<ApiDeps, 'config' | 'repositories' | 'tasks'>;
  /** The creates' own hooks: the tighter creates limit, room on disk. */
  createLimits: onRequestHookHandler[];
}

/**
 * The tasks (CONTRACT.md §1): create, poll, list, cancel; and the synchronous form (§4), which
 * creates one and waits for its answer. Both creates pass the same admission (limits per owner, queue).
 */
export async function taskRoutes(app: FastifyInstance, opts: TaskRouteOptions): Promise<void> {
  const { config, repositories, tasks } = opts.deps;
  const admission = new TaskAdmission(repositories, config.limits);
  const notFound = (reply: FastifyReply) => sendError(reply, 404, ErrorCode.BadRequest, 'task not found');

  app.post('/model/v1/generation', {
    onRequest: opts.createLimits,
    schema: { operationId: 'createTask', summary: 'Create an identify-face task', tags: ['tasks'], body: createTaskBody, response: { 200: { $ref: 'Task#' }, ...errorResponses } },
  }, async (req) => {
    const body = req.body as Record<string, unknown>;
    return admission.admit(req.owner, body.external_task_id, () => tasks.create(req.owner, body));
  });

  app.get('/model/v1/generation/:task_id', {
    schema: { operationId: 'getTask', summary: 'Poll a task', tags: ['tasks'], params: { type: 'object', properties: { task_id: { type: 'string' } } }, response: { 200: { $ref: 'Task#' }, ...errorResponses } },
  }, async (req, reply) => (await tasks.get(req.owner, (req.params as { task_id: string }).task_id)) ?? notFound(reply));

  app.get('/model/v1/generation', {
    schema: {
      operationId: 'listTasks',
      summary: 'List tasks (newest first), e.g. by external_task_id',
      tags: ['tasks'],
      querystring: listQuery,
      response: { 200: { type: 'object', properties: { data: { type: 'array', items: { $ref: 'Task#' } }, has_more: { type: 'boolean' } } }, ...errorResponses },
    },
  }, async (req) => {
    const q = req.query as { external_task_id?: string; limit: number; after?: string };
    return tasks.list(req.owner, { externalTaskId: q.external_task_id, limit: q.limit, after: q.after });
  });

  app.delete('/model/v1/generation/:task_id', {
    schema: { operationId: 'cancelTask', summary: 'Cancel a pending or processing task (it fails with 014001301)', tags: ['tasks'], params: { type: 'object', properties: { task_id: { type: 'string' } } }, response: { 200: { $ref: 'Task#' }, ...errorResponses } },
  }, async (req, reply) => (await tasks.cancel(req.owner, (req.params as { task_id: string }).task_id)) ?? notFound(reply));

  app.post('/v1/videos/identify-face', {
    onRequest: opts.createLimits,
    config: { deadlineMs: config.syncTimeoutMs + config.requestTimeoutMs },
    schema: {
      operationId: 'identifyFaceSync',
      summary: 'Identify faces and wait for the answer (the result JSON itself)',
      tags: ['tasks'],
      body: syncBody,
      response: { 200: { $ref: 'ResultJson#' }, 500: { $ref: 'Error#' }, 504: { $ref: 'Error#' }, ...errorResponses },
    },
  }, async (req, reply) => {
    const body = req.body as { video_id?: string; video_url?: string };
    const task = await admission.admit(req.owner, undefined, () => tasks.create(req.owner, { model: MODEL, video_id: body.video_id, video_url: body.video_url }));
    const done = await tasks.waitSettled(req.owner, task.id, config.syncTimeoutMs);
    if (done?.status === 'completed') return JSON.parse(done.output![0].content[0].text);
    if (done?.status === 'failed') {
      const code = done.error!.code;
      const inputError = code.startsWith('0140011');
      return inputError
        ? sendError(reply, 400, code, done.error!.error_message)
        : sendError(reply, 500, ErrorCode.SyncGeneration, `task ${task.id} failed: ${done.error!.code} ${done.error!.error_message}`);
    }
    return sendError(reply, 504, ErrorCode.SyncGeneration, `task ${task.id} did not finish within ${config.syncTimeoutMs / 1000} s; poll GET /model/v1/generation/${task.id}`);
  });
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../errors.js';
import type { DiskSpace } from '../storage/disk-space.js';
import { sendError } from './errors.js';

/** A full disk frees up when an operator acts: clients come back after this long. */
const RETRY_AFTER_S = 30;

/** `507` `014002097` (the storage, a dependency, answered with an error), `Retry-After`. */
export function sendDiskFull(reply: FastifyReply, what: string): FastifyReply {
  reply.header('retry-after', String(RETRY_AFTER_S));
  // the request's body may be unread (an upload): do not reuse the connection
  reply.header('connection', 'close');
  return sendError(reply, 507, ErrorCode.DependencyHttpError, `the service's disk is full: ${what} could not be stored; retry later`);
}

/** onRequest hook of the routes that store something: refused at once while the disk is known to be full. */
export function diskRoom(disk: DiskSpace | undefined) {
  return async (_req: FastifyRequest, reply: FastifyReply) => {
    if (disk && (await disk.full())) return sendDiskFull(reply, 'the request');
  };
}

/**
 * Writes by identity: on a server that verifies client certificates, a request with an
 * unsafe method (PUT, POST, PATCH, DELETE) passes only when the client certificate names
 * one of the allowed writers; reads pass for every client the handshake admitted. The
 * rule goes by method rather than by route, so a write route added later is guarded
 * without anyone remembering to. A refusal is a /v1/ error body with status 403.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IdentityForbiddenError } from '../api/api-errors.js';
import { errorResponse } from '../api/error-body.js';
import { identityMatches, peerIdentity } from './peer-identity.js';

const WRITES = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);

/** An `onRequest` hook that answers 403 to writes from clients not among `writers`. */
export function createWriteGuard(
  writers: readonly string[],
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const allowed = new Set(writers);
  return async (request, reply) => {
    if (!WRITES.has(request.method)) return undefined;
    const identity = peerIdentity(request);
    if (identityMatches(identity, allowed)) return undefined;
    const { statusCode, body } = errorResponse(new IdentityForbiddenError(identity?.names));
    request.log.debug(
      { method: request.method, url: request.url, identity: identity?.names },
      'write refused',
    );
    // Answered here: returning the reply ends the request before any handler runs.
    return reply.code(statusCode).send(body);
  };
}

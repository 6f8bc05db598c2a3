/**
 * What a registry request needs to be allowed, and the hook that decides it. The plugin
 * derives the access from the endpoint and method (as the distribution registry does)
 * and asks the `authorize` hook before any handler runs; the hook throws
 * UnauthorizedError (401, with its challenge) or DeniedError (403) to refuse.
 */
import type { FastifyRequest } from 'fastify';
import type { RegistryEndpoint } from '../request/registry-path.js';

export type RegistryAction = 'pull' | 'push' | 'delete';

export interface RepositoryAccess {
  readonly repo: string;
  readonly actions: readonly RegistryAction[];
}

export type RegistryAccess =
  /** `GET /v2/` (and paths that name no endpoint): who is calling, nothing more. */
  | { readonly kind: 'base' }
  /** `GET /v2/_catalog`: the names of every repository. */
  | { readonly kind: 'catalog' }
  /** Actions on repositories; more than one when a blob is mounted from another repository. */
  | { readonly kind: 'repositories'; readonly repositories: readonly RepositoryAccess[] };

/** Resolves when the request may go on; throws UnauthorizedError or DeniedError otherwise. */
export type RegistryAuthorizer = (request: FastifyRequest, access: RegistryAccess) => Promise<void>;

const PULL: readonly RegistryAction[] = ['pull'];
const PUSH: readonly RegistryAction[] = ['pull', 'push'];
const DELETE: readonly RegistryAction[] = ['delete'];

/**
 * The access a request needs. Writes need pull and push (a pusher reads back what it
 * wrote); every request on an upload session is part of a push; a DELETE of a manifest or
 * blob needs delete alone. The `from` repository of a mount is checked by the upload
 * route itself: a mount the caller may not read from falls back to an ordinary upload.
 */
export function requiredAccess(endpoint: RegistryEndpoint, method: string): RegistryAccess {
  switch (endpoint.kind) {
    case 'base':
    case 'unknown':
      return { kind: 'base' };
    case 'catalog':
      return { kind: 'catalog' };
    case 'tags':
    case 'referrers':
      return repositoryAccess(endpoint.repo, PULL);
    case 'manifest':
    case 'blob':
      if (method === 'GET' || method === 'HEAD') return repositoryAccess(endpoint.repo, PULL);
      return repositoryAccess(endpoint.repo, method === 'DELETE' ? DELETE : PUSH);
    case 'uploads':
    case 'upload':
      return repositoryAccess(endpoint.repo, PUSH);
  }
}

export function repositoryAccess(repo: string, actions: readonly RegistryAction[]): RegistryAccess {
  return { kind: 'repositories', repositories: [{ repo, actions }] };
}

/**
 * Repository names and tags as the OCI distribution spec defines them. They are
 * validated here, once, before anything derives a storage key from them, so that no
 * name can reach the backend with a '..' segment, a separator or a control character.
 */
import { InvalidRepositoryNameError, InvalidTagError } from './errors.js';

/** Longest repository name accepted (the distribution spec's recommended limit). */
export const MAX_REPOSITORY_NAME_LENGTH = 255;

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
/** The spec's grammar of repository names (their length is limited apart). */
export const REPOSITORY_NAME_PATTERN = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
/** The spec's grammar of tags. */
export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Returns the name when it is a valid repository name; throws InvalidRepositoryNameError otherwise. */
export function parseRepositoryName(input: string): string {
  if (typeof input !== 'string' || input.length === 0)
    throw new InvalidRepositoryNameError('repository name is missing');
  if (input.length > MAX_REPOSITORY_NAME_LENGTH) {
    throw new InvalidRepositoryNameError(`repository name exceeds ${MAX_REPOSITORY_NAME_LENGTH} characters`);
  }
  if (!REPOSITORY_NAME_PATTERN.test(input))
    throw new InvalidRepositoryNameError(`invalid repository name "${truncate(input)}"`);
  return input;
}

/** Returns the tag when it is valid; throws InvalidTagError otherwise. */
export function parseTag(input: string): string {
  if (typeof input !== 'string' || !TAG_PATTERN.test(input))
    throw new InvalidTagError(`invalid tag "${truncate(String(input))}"`);
  return input;
}

export function isRepositoryName(input: string): boolean {
  return (
    typeof input === 'string' &&
    input.length <= MAX_REPOSITORY_NAME_LENGTH &&
    REPOSITORY_NAME_PATTERN.test(input)
  );
}

export function isTag(input: string): boolean {
  return typeof input === 'string' && TAG_PATTERN.test(input);
}

// A registry host as image references name it: DNS labels (lower case, as containerd
// normalises them), an optional port. `docker.io`, `ghcr.io`, `registry.local:5000`.
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const REGISTRY_HOST = new RegExp(`^${LABEL}(?:\\.${LABEL})*(?::[0-9]{1,5})?$`);
const MAX_REGISTRY_HOST_LENGTH = 253;

/** Whether `input` is a registry host name (with an optional port), e.g. `docker.io`. */
export function isRegistryHost(input: string): boolean {
  return typeof input === 'string' && input.length <= MAX_REGISTRY_HOST_LENGTH && REGISTRY_HOST.test(input);
}

function truncate(s: string): string {
  // Names end up in error messages and logs; keep them short and printable.
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 80 ? `${printable.slice(0, 77)}...` : printable;
}

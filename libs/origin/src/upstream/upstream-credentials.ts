/**
 * Credentials of an upstream registry from a file (a mounted Secret): JSON
 * `{"username": "...", "password": "..."}`. Errors name the file and the key at fault,
 * never a value.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { RegistryCredentials } from '@kraken/storage-backends';
import { UpstreamCredentialsError } from '../errors.js';

const credentialsSchema = z.object({ username: z.string().min(1), password: z.string().min(1) }).strict();

const MAX_FILE_BYTES = 64 * 1024;

export function readUpstreamCredentials(file: string): RegistryCredentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UpstreamCredentialsError(
      file,
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (text.length > MAX_FILE_BYTES) throw new UpstreamCredentialsError(file, 'is larger than 64 KiB');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UpstreamCredentialsError(file, 'is not JSON');
  }
  const parsed = credentialsSchema.safeParse(json);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    throw new UpstreamCredentialsError(
      file,
      `needs string keys "username" and "password" (bad: ${keys.join(', ')})`,
    );
  }
  return parsed.data;
}

/**
 * Small JSON documents kept as objects in the build-index's storage backend (tag values,
 * manifest records, tombstones, replication rules): read whole, bounded, parsed and
 * checked against their schema, so a damaged object is one typed error and never an
 * unbounded buffer.
 */
import { Readable } from 'node:stream';
import { readBounded } from '@kraken/foundation';
import { ObjectNotFoundError, type StorageBackend } from '@kraken/storage-backends';
import type { z } from 'zod';
import { CorruptIndexStateError } from '../errors.js';

export interface StoredJsonOptions<T> {
  readonly schema: z.ZodType<T>;
  readonly maxBytes: number;
  /** Why an object that is not JSON is unreadable (default "not JSON"). */
  readonly notJson?: string;
  /** Why JSON of the wrong shape is unreadable (default "unexpected shape"). */
  readonly badShape?: string;
}

/** The document under `key`; undefined when there is none. Throws CorruptIndexStateError. */
export async function readStoredJson<T>(
  backend: Pick<StorageBackend, 'read'>,
  key: string,
  options: StoredJsonOptions<T>,
): Promise<T | undefined> {
  let body: Readable;
  try {
    body = await backend.read(key);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  const { bytes } = await readBounded(body, options.maxBytes);
  if (bytes === undefined) throw new CorruptIndexStateError(key, `larger than ${options.maxBytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CorruptIndexStateError(key, options.notJson ?? 'not JSON');
  }
  const parsed = options.schema.safeParse(json);
  if (!parsed.success) throw new CorruptIndexStateError(key, options.badShape ?? 'unexpected shape');
  return parsed.data;
}

/** Writes `value` as the document under `key`. */
export async function writeStoredJson(
  backend: Pick<StorageBackend, 'write'>,
  key: string,
  value: unknown,
): Promise<void> {
  await backend.write(key, Readable.from([Buffer.from(JSON.stringify(value))]));
}

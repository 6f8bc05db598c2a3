/**
 * Read-only backend over plain HTTP: objects are fetched from a URL template such as
 * `https://mirror.example/blobs/{digest}`. stat is a HEAD (size from Content-Length),
 * read a GET with Range, 404 is ObjectNotFoundError. Plain HTTP has no listing, so list
 * returns an empty page; write and delete reject with ReadOnlyBackendError.
 *
 * Placeholders: `{key}` (the whole key, '/' kept), and for blob keys
 * (`blobs/<alg>/<2 hex>/<hex>`) `{digest}` (`sha256:<hex>`), `{algorithm}` and `{hex}`.
 * A valid key the template cannot express (a non-blob key for `{digest}`) is simply
 * not held here: stat gives undefined, read ObjectNotFoundError.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  InvalidRangeError,
  ObjectNotFoundError,
  ReadOnlyBackendError,
  StorageUnavailableError,
  UpstreamResponseError,
} from '../../errors.js';
import { isWellFormedRange, rangeHeader } from '../byte-range.js';
import { rangedBody } from './http-range.js';
import { contentLength, createHttpTransport, lastModified } from './http-transport.js';
import { digestOfKey } from '../../keys/blob-key.js';
import { validateKeyPrefix, validateObjectKey } from '../../keys/object-key.js';
import { PLACEHOLDER, urlTemplateProblem, type Placeholder } from './url-template.js';
import type { ByteRange, ObjectStat, StorageBackend } from '../../storage-backend.js';

export interface HttpBackendOptions {
  readonly blobUrl: string;
  readonly name?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** undici dispatcher; by default the backend owns a keep-alive Agent. */
  readonly dispatcher?: Dispatcher;
}

export function createHttpBackend(options: HttpBackendOptions): StorageBackend {
  const problem = urlTemplateProblem(options.blobUrl);
  if (problem !== undefined) throw new TypeError(`invalid blobUrl "${options.blobUrl}": ${problem}`);
  const template = options.blobUrl;
  const origin = new URL(template.replace(PLACEHOLDER, 'x')).origin;
  const name = options.name ?? `http:${origin}`;
  const headers = { ...options.headers };
  const transport = createHttpTransport({
    backend: name,
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });

  /** The object's URL, or undefined when the template cannot name this key. */
  function urlOf(key: string): URL | undefined {
    validateObjectKey(key);
    const digest = digestOfKey(key);
    const values: Record<Placeholder, string | undefined> = {
      key: key.split('/').map(encodeURIComponent).join('/'),
      digest: digest === undefined ? undefined : encodeURIComponent(digest.value),
      algorithm: digest?.algorithm,
      hex: digest?.hex,
    };
    let missing = false;
    const url = template.replace(PLACEHOLDER, (_, p: Placeholder) => {
      const value = values[p];
      if (value === undefined) missing = true;
      return value ?? '';
    });
    return missing ? undefined : new URL(url);
  }

  const backend: StorageBackend = {
    name,

    async stat(key: string): Promise<ObjectStat | undefined> {
      const url = urlOf(key);
      if (url === undefined) return undefined;
      const res = await transport.send({ method: 'HEAD', url, headers });
      await res.body.dump();
      if (res.status === 404) return undefined;
      if (res.status !== 200)
        throw new UpstreamResponseError(name, `unexpected status ${res.status} for HEAD of ${key}`, {
          status: res.status,
        });
      const size = contentLength(res.headers);
      if (size === undefined) throw new UpstreamResponseError(name, `HEAD of ${key} gave no Content-Length`);
      return { size, modifiedAt: lastModified(res.headers) };
    },

    async read(key: string, range?: ByteRange): Promise<Readable> {
      const url = urlOf(key);
      if (url === undefined) throw new ObjectNotFoundError(key);
      if (range !== undefined && !isWellFormedRange(range)) {
        const s = await backend.stat(key);
        if (s === undefined) throw new ObjectNotFoundError(key);
        throw new InvalidRangeError(key, range, s.size);
      }
      const res = await transport.send({
        method: 'GET',
        url,
        headers: range === undefined ? headers : { ...headers, range: rangeHeader(range) },
      });
      return rangedBody({ backend: name, key, range, response: res });
    },

    async write(key: string): Promise<ObjectStat> {
      validateObjectKey(key);
      throw new ReadOnlyBackendError(name, 'write');
    },

    async list(listOptions = {}) {
      // Plain HTTP has no listing: this backend holds nothing that can be enumerated.
      validateKeyPrefix(listOptions.prefix ?? '');
      return { keys: [], continuationToken: undefined };
    },

    async delete(key: string): Promise<boolean> {
      validateObjectKey(key);
      throw new ReadOnlyBackendError(name, 'delete');
    },

    async check(signal?: AbortSignal): Promise<void> {
      // Any answer below 500 means the server is up; the root itself need not exist.
      try {
        const res = await transport.send({
          method: 'HEAD',
          url: new URL('/', origin),
          headers,
          ...(signal === undefined ? {} : { signal }),
        });
        await res.body.dump();
        if (res.status >= 500)
          throw new UpstreamResponseError(name, `status ${res.status}`, { status: res.status });
      } catch (err) {
        throw err instanceof StorageUnavailableError ? err : new StorageUnavailableError(name, err);
      }
    },

    close: () => transport.close(),
  };
  return backend;
}

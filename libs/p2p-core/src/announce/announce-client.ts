/**
 * The client of a tracker's /v1/ API, over a keep-alive HTTP pool (`createHttpPool`): announces
 * (one blob, or a batch) and metainfo lookups. Answers are read with a size cap and validated against the same
 * schemas the tracker uses. Announces ask for the binary answer (announce-binary.ts) and
 * read JSON as well, from a tracker that does not offer it. Errors follow the /v1/
 * conventions of @kraken/service-kit: an error answer becomes a RemoteApiError carrying
 * the tracker's code, and a failure to reach it a ServiceUnreachableError.
 */
import type { z } from 'zod';
import { createHttpPool, type HttpRequest, type HttpResponse } from '@kraken/service-kit';
import { readBounded } from '@kraken/foundation';
import { parseDigest, type Digest } from '@kraken/oci-content';
import {
  InvalidRequestError,
  ServiceUnreachableError,
  errorFromResponse,
  invalidResponse,
  readJsonResponse,
  type ClientTlsContext,
} from '@kraken/service-kit';
import {
  ANNOUNCE_BATCH_BINARY_TYPE,
  ANNOUNCE_BINARY_TYPE,
  decodeAnnounceAnswer,
  decodeAnnounceBatchAnswer,
} from './announce-binary.js';
import {
  announceBatchRequestSchema,
  announceBatchResponseSchema,
  announceRequestSchema,
  announceResponseSchema,
  type AnnounceBatchRequest,
  type AnnounceBatchResponse,
  type AnnounceRequest,
  type AnnounceResponse,
} from './announce-protocol.js';
import { MAX_METAINFO_BYTES, parseMetainfo, type Metainfo } from '../metainfo/metainfo.js';

export interface AnnounceClientOptions {
  /** Base URL of the tracker, e.g. http://127.0.0.1:15003. */
  readonly url: string;
  /** Keep-alive connections to the tracker (default 4). */
  readonly connections?: number;
  /** Time allowed for an answer to start, and for each pause in its body (ms, default 30 s). */
  readonly timeoutMs?: number;
  /** TLS for https:// URLs: the client files (`createClientTls`); the system CAs when absent. */
  readonly tls?: ClientTlsContext | undefined;
}

export interface AnnounceClient {
  /** Announces one blob; rejects with InvalidRequestError before sending a bad request. */
  announce(request: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse>;
  /**
   * Announces many blobs of one peer in one request (`POST /v1/announce/batch`); the answers
   * come in the request's order. A tracker without the route rejects with a RemoteApiError
   * of status 404.
   */
  announceBatch(request: AnnounceBatchRequest, signal?: AbortSignal): Promise<AnnounceBatchResponse>;
  /** The blob's metainfo as the tracker serves it; undefined when no origin holds it. */
  getMetainfo(digest: Digest | string, signal?: AbortSignal): Promise<Metainfo | undefined>;
  close(): Promise<void>;
}

/** 1,000 peers of ~150 bytes of JSON each, with room to spare. */
const MAX_ANNOUNCE_RESPONSE_BYTES = 512 * 1024;
/**
 * A batch's answers hold at most 50 peers per blob by default (some 1.8 KB in binary):
 * 64 MiB leaves room for a tracker configured for more, and still bounds a hostile one.
 */
const MAX_BATCH_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Each answer in binary first, JSON from a tracker without it. */
const SINGLE_ANSWER = {
  binaryType: ANNOUNCE_BINARY_TYPE,
  decode: decodeAnnounceAnswer,
  schema: announceResponseSchema,
  maxBytes: MAX_ANNOUNCE_RESPONSE_BYTES,
};
const BATCH_ANSWER = {
  binaryType: ANNOUNCE_BATCH_BINARY_TYPE,
  decode: decodeAnnounceBatchAnswer,
  schema: announceBatchResponseSchema,
  maxBytes: MAX_BATCH_RESPONSE_BYTES,
};

function invalidAnnounce(what: string, error: z.ZodError): InvalidRequestError {
  const issue = error.issues[0];
  return new InvalidRequestError(
    `invalid ${what}: ${issue?.path.join('.') ?? 'body'} ${issue?.message ?? 'is invalid'}`,
  );
}

export function createAnnounceClient(options: AnnounceClientOptions): AnnounceClient {
  const base = new URL(options.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const timeout = options.timeoutMs ?? 30_000;
  const pool = createHttpPool(base.origin, {
    connections: options.connections ?? 4,
    headersTimeoutMs: timeout,
    bodyTimeoutMs: timeout,
    tls: options.tls,
  });

  const send = async (
    request: Pick<HttpRequest, 'method' | 'headers' | 'body'> & { path: string },
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> => {
    try {
      return await pool.request({ ...request, path: prefix + request.path, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ServiceUnreachableError(`${request.method} ${base.origin}${prefix}${request.path}`, err);
    }
  };

  /**
   * POSTs a checked announce body to `path` and reads the answer: binary when the tracker
   * answers with `form.binaryType`, JSON (against `form.schema`) otherwise, both size-capped.
   */
  const post = async <T>(
    path: string,
    body: unknown,
    form: {
      readonly binaryType: string;
      readonly decode: (bytes: Uint8Array) => { ok: true; value: T } | { ok: false; reason: string };
      readonly schema: z.ZodType<T>;
      readonly maxBytes: number;
    },
    signal: AbortSignal | undefined,
  ): Promise<T> => {
    const what = `POST ${path}`;
    const accept = `${form.binaryType}, application/json;q=0.5`;
    const response = await send(
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify(body),
      },
      signal,
    );
    if (response.statusCode !== 200) throw await errorFromResponse(response.statusCode, response.body);
    const type = response.headers['content-type'];
    if (typeof type === 'string' && type.toLowerCase().startsWith(form.binaryType)) {
      const { bytes } = await readBounded(response.body, form.maxBytes);
      if (bytes === undefined) throw invalidResponse(what, `larger than ${form.maxBytes} bytes`);
      const decoded = form.decode(bytes);
      if (!decoded.ok) throw invalidResponse(what, decoded.reason);
      return decoded.value;
    }
    return readJsonResponse(response.body, { schema: form.schema, what, maxBytes: form.maxBytes });
  };

  return {
    async announce(request, signal) {
      const checked = announceRequestSchema.safeParse(request);
      if (!checked.success) throw invalidAnnounce('announce', checked.error);
      return post('/v1/announce', checked.data, SINGLE_ANSWER, signal);
    },

    async announceBatch(request, signal) {
      const checked = announceBatchRequestSchema.safeParse(request);
      if (!checked.success) throw invalidAnnounce('batch announce', checked.error);
      const answer = await post('/v1/announce/batch', checked.data, BATCH_ANSWER, signal);
      const sent = checked.data.blobs.length;
      if (answer.answers.length !== sent) {
        throw invalidResponse(
          'POST /v1/announce/batch',
          `${answer.answers.length} answers for ${sent} blobs`,
        );
      }
      return answer;
    },

    async getMetainfo(digest, signal) {
      const value = typeof digest === 'string' ? parseDigest(digest).value : digest.value;
      const path = `/v1/blobs/${encodeURIComponent(value)}/metainfo`;
      const response = await send({ method: 'GET', path }, signal);
      if (response.statusCode === 404) {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) throw await errorFromResponse(response.statusCode, response.body);
      const { bytes } = await readBounded(response.body, MAX_METAINFO_BYTES);
      if (bytes === undefined)
        throw invalidResponse(`GET ${path}`, `larger than ${MAX_METAINFO_BYTES} bytes`);
      const metainfo = parseMetainfo(bytes.toString('utf8'));
      if (metainfo.digest !== value)
        throw invalidResponse(`GET ${path}`, `metainfo is for ${metainfo.digest}`);
      return metainfo;
    },

    async close() {
      if (!pool.closed) await pool.close();
    },
  };
}

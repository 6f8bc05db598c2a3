/**
 * The client of a tracker's /v1/ API, over an undici keep-alive pool: announces and
 * metainfo lookups. Answers are read with a size cap and validated against the same
 * schemas the tracker uses; an error answer becomes a TrackerRequestError carrying
 * the tracker's code, and a failure to reach it a TrackerUnreachableError.
 */
import { Pool, type Dispatcher } from 'undici';
import { z } from 'zod';
import { parseDigest, type Digest } from '@kraken/oci-content';
import {
  announceRequestSchema,
  announceResponseSchema,
  type AnnounceRequest,
  type AnnounceResponse,
} from './announce-protocol.js';
import { MAX_METAINFO_BYTES, parseMetainfo, type Metainfo } from './metainfo.js';
import { InvalidAnnounceError, TrackerRequestError, TrackerUnreachableError } from './tracker-errors.js';

export interface AnnounceClientOptions {
  /** Base URL of the tracker, e.g. http://127.0.0.1:15003. */
  readonly url: string;
  /** Keep-alive connections to the tracker (default 4). */
  readonly connections?: number;
  /** Time allowed for an answer to start, and for each pause in its body (ms, default 30 s). */
  readonly timeoutMs?: number;
}

export interface AnnounceClient {
  /** Announces one blob; rejects with InvalidAnnounceError before sending a bad request. */
  announce(request: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse>;
  /** The blob's metainfo as the tracker serves it; undefined when no origin holds it. */
  getMetainfo(digest: Digest | string, signal?: AbortSignal): Promise<Metainfo | undefined>;
  close(): Promise<void>;
}

/** 1,000 peers of ~150 bytes of JSON each, with room to spare. */
const MAX_ANNOUNCE_RESPONSE_BYTES = 512 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), detail: z.unknown().optional() }),
});

export function createAnnounceClient(options: AnnounceClientOptions): AnnounceClient {
  const base = new URL(options.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const timeout = options.timeoutMs ?? 30_000;
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 4,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });

  const send = async (
    request: Pick<Dispatcher.RequestOptions, 'method' | 'headers' | 'body'> & { path: string },
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> => {
    try {
      return await pool.request({ ...request, path: prefix + request.path, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new TrackerUnreachableError(`${request.method} ${base.origin}${prefix}${request.path}`, err);
    }
  };

  return {
    async announce(request, signal) {
      const checked = announceRequestSchema.safeParse(request);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new InvalidAnnounceError(
          `invalid announce: ${issue?.path.join('.') ?? 'body'} ${issue?.message ?? 'is invalid'}`,
        );
      }
      const what = 'POST /v1/announce';
      const response = await send(
        {
          method: 'POST',
          path: '/v1/announce',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(checked.data),
        },
        signal,
      );
      if (response.statusCode !== 200) throw await errorOf(response);
      const text = await readBounded(response.body, MAX_ANNOUNCE_RESPONSE_BYTES, what);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw invalidAnswer(what, 'not JSON');
      }
      const parsed = announceResponseSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw invalidAnswer(what, `${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
      }
      return parsed.data;
    },

    async getMetainfo(digest, signal) {
      const value = typeof digest === 'string' ? parseDigest(digest).value : digest.value;
      const path = `/v1/blobs/${encodeURIComponent(value)}/metainfo`;
      const response = await send({ method: 'GET', path }, signal);
      if (response.statusCode === 404) {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) throw await errorOf(response);
      const metainfo = parseMetainfo(await readBounded(response.body, MAX_METAINFO_BYTES, `GET ${path}`));
      if (metainfo.digest !== value) throw invalidAnswer(`GET ${path}`, `metainfo is for ${metainfo.digest}`);
      return metainfo;
    },

    async close() {
      if (!pool.closed) await pool.close();
    },
  };
}

function invalidAnswer(what: string, reason: string): TrackerRequestError {
  return new TrackerRequestError('KRAKEN_INVALID_RESPONSE', `${what}: invalid response: ${reason}`, {
    statusCode: 502,
  });
}

async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number, what: string) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      body.destroy();
      throw invalidAnswer(what, `larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

async function errorOf(response: Dispatcher.ResponseData): Promise<TrackerRequestError> {
  const { statusCode } = response;
  let text = '';
  try {
    text = await readBounded(response.body, MAX_ERROR_BYTES, 'error');
  } catch {
    // An oversized or broken error body still leaves the status to report.
  }
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      const { code, message, detail } = parsed.data.error;
      return new TrackerRequestError(code, message, { statusCode, detail });
    }
  } catch {
    // Not JSON: fall through to the generic error.
  }
  return new TrackerRequestError(`KRAKEN_HTTP_${statusCode}`, `tracker answered HTTP ${statusCode}`, {
    statusCode,
  });
}

/**
 * A bare HTTPS client for the control plane's own checks: health endpoints and the few API
 * calls the harness makes while starting (creating nodes, polling readiness). It presents a
 * client certificate and trusts only the test CA. Spawning kubectl for these would add a
 * tenth of a second per call.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import type { KeyPair } from './pki.js';

export interface ApiResponse {
  readonly status: number;
  readonly body: string;
}

export interface ApiClient {
  /** Any status resolves; a connection error rejects. */
  request(method: string, url: string, body?: unknown): Promise<ApiResponse>;
  /** GET of a JSON document; undefined on 404, rejects on any other status but 200. */
  getJson<T>(url: string): Promise<T | undefined>;
  close(): void;
}

export async function createApiClient(options: { caFile: string; client: KeyPair }): Promise<ApiClient> {
  const [ca, cert, key] = await Promise.all([
    readFile(options.caFile),
    readFile(options.client.cert),
    readFile(options.client.key),
  ]);
  const agent = new Agent({ ca, cert, key, keepAlive: true, maxSockets: 4 });

  const send = (method: string, url: string, body?: unknown): Promise<ApiResponse> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        url,
        {
          method,
          agent,
          timeout: 5000,
          headers: {
            accept: 'application/json',
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in 5 s`)));
      req.on('error', reject);
      req.end(payload);
    });

  return {
    request: send,
    async getJson<T>(url: string): Promise<T | undefined> {
      const res = await send('GET', url);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 500)}`);
      return JSON.parse(res.body) as T;
    },
    close: () => agent.destroy(),
  };
}

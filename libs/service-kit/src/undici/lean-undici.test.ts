import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as lean from './lean-undici.js';

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** A dispatcher that records what request() hands it and fails the request. */
function recordingDispatcher(): { dispatcher: undici.Dispatcher; seen: object[] } {
  const seen: object[] = [];
  const dispatcher = {
    dispatch(opts: object) {
      seen.push(opts);
      throw new Error('recorded');
    },
  } as unknown as undici.Dispatcher;
  return { dispatcher, seen };
}

describe('lean undici', () => {
  it('exports the names the libs use, as undici itself does', () => {
    expect(Object.keys(lean).sort()).toEqual(['Agent', 'Pool', 'buildConnector', 'request']);
    expect(lean.Pool).toBe(undici.Pool);
    expect(lean.Agent).toBe(undici.Agent);
    expect(lean.buildConnector).toBe(undici.buildConnector);
    expect(lean.request).toBeTypeOf('function');
  });

  it('sends through a Pool', async () => {
    const pool = new lean.Pool(origin);
    try {
      const res = await pool.request({ method: 'GET', path: '/v2/?n=1' });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('GET /v2/?n=1');
    } finally {
      await pool.close();
    }
  });

  it('sends request(url, { dispatcher }) through that dispatcher', async () => {
    const agent = new lean.Agent({ connect: { timeout: 1000 } });
    const dispatch = vi.spyOn(agent, 'dispatch');
    try {
      const res = await lean.request(`${origin}/health?x=1`, { dispatcher: agent, method: 'HEAD' });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      expect(dispatch).toHaveBeenCalledOnce();
    } finally {
      await agent.close();
    }
  });

  it('sends request(url) through the global dispatcher', async () => {
    const previous = undici.getGlobalDispatcher();
    const agent = new lean.Agent();
    const dispatch = vi.spyOn(agent, 'dispatch');
    undici.setGlobalDispatcher(agent);
    try {
      const res = await lean.request(new URL('/blobs/a', origin));
      expect(await res.body.text()).toBe('GET /blobs/a');
      expect(dispatch).toHaveBeenCalledOnce();
    } finally {
      undici.setGlobalDispatcher(previous);
      await agent.close();
    }
  });

  it("hands the dispatcher what undici's request() does", async () => {
    const calls: [string | URL | object, object?][] = [
      [`${origin}/a/b?c=d`],
      [new URL(`${origin}/x`), { method: 'DELETE' }],
      [origin, { path: 'no-slash?q=1' }],
      [origin, { path: '/p', body: 'x' }],
      [{ origin, path: '/from-object' }],
    ];
    for (const [url, opts] of calls) {
      const ours = recordingDispatcher();
      const theirs = recordingDispatcher();
      await expect(lean.request(url, { ...opts, dispatcher: ours.dispatcher })).rejects.toThrow('recorded');
      await expect(undici.request(url, { ...opts, dispatcher: theirs.dispatcher })).rejects.toThrow(
        'recorded',
      );
      expect(ours.seen).toEqual([{ ...theirs.seen[0], dispatcher: ours.dispatcher }]);
    }
  });

  it("refuses what undici's request() refuses, with its errors", () => {
    const bad: [unknown, unknown][] = [
      [42, {}],
      [origin, 'opts'],
      [origin, { path: 7 }],
      [origin, { agent: {} }],
      ['ftp://example.com/', {}],
    ];
    /** What request(url, opts) throws synchronously (undici validates before sending). */
    const thrown = (request: typeof undici.request, url: unknown, opts: unknown): unknown => {
      try {
        void request(url as string, opts as object);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    for (const [url, opts] of bad) {
      const theirs = thrown(undici.request, url, opts);
      const ours = thrown(lean.request, url, opts);
      expect(theirs).toBeInstanceOf(undici.errors.InvalidArgumentError);
      expect(ours).toBeInstanceOf(undici.errors.InvalidArgumentError);
      expect((ours as Error).message).toBe((theirs as Error).message);
    }
  });

  it("loads neither undici's index nor the undici inside Node.js", async () => {
    // A fresh process: what this one loaded (vitest, undici's index above) is no evidence.
    const probe = (entry: string) => `
      import { createRequire } from 'node:module';
      const { Pool } = await import(${JSON.stringify(entry)});
      const pool = new Pool(${JSON.stringify(origin)});
      const res = await pool.request({ method: 'GET', path: '/child' });
      const body = await res.body.text();
      await pool.close();
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        body,
        nodeUndici: process.moduleLoadList.some((m) => m.includes('internal/deps/undici/undici')),
        undiciIndex: cache.some((path) => path.endsWith('/node_modules/undici/index.js')),
      }));`;
    const run = async (entry: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--input-type=module',
        '-e',
        probe(entry),
      ]);
      return JSON.parse(stdout) as { body: string; nodeUndici: boolean; undiciIndex: boolean };
    };
    const [ours, theirs] = await Promise.all([
      run(new URL('./lean-undici.ts', import.meta.url).href),
      run('undici'),
    ]);
    expect(ours).toEqual({ body: 'GET /child', nodeUndici: false, undiciIndex: false });
    // The probe does see both when undici's index is loaded.
    expect(theirs).toEqual({ body: 'GET /child', nodeUndici: true, undiciIndex: true });
  });
});

// Our target: origin, build-index and proxy, each `node apps/<app>/dist/main.js --config <yaml>`
// on a free loopback port with its own throwaway directories. The benchmark talks to the proxy.
//
// The YAML is deliberately minimal (listen address, storage directories, upstream URLs, log
// level): every other key keeps the app's default, so the bench keeps working as configs grow.
// If an app rejects a key here, its zod error (naming the key) is printed with its log tail.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess } from './child-processes.mjs';
import { freePort, waitHttpOk } from './net-helpers.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Turns nested plain objects of strings, numbers and booleans into YAML. */
export function toYaml(value, indent = '') {
  return Object.entries(value)
    .map(([key, v]) =>
      v !== null && typeof v === 'object'
        ? `${indent}${key}:\n${toYaml(v, `${indent}  `)}`
        : `${indent}${key}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}\n`,
    )
    .join('');
}

const listen = (port) => ({ host: '127.0.0.1', port });
// Logging at warn on every component, as the docker-registry runs with access logs off.
const logging = { level: 'warn' };

const configs = {
  origin: ({ port, dir }) => ({
    listen: listen(port),
    storage: { type: 'filesystem', root: join(dir, 'storage') },
    uploads: { dir: join(dir, 'uploads') },
    // A ring of one: this origin owns every blob and has nobody to copy to.
    origins: { nodes: [`127.0.0.1:${port}`] },
    logging,
  }),
  'build-index': ({ port, dir, originUrl }) => ({
    listen: listen(port),
    storage: { type: 'filesystem', root: join(dir, 'storage') },
    origins: { nodes: [originUrl] },
    logging,
  }),
  proxy: ({ port, dir, originUrl, buildIndexUrl }) => ({
    listen: listen(port),
    registry: { uploads: { dir: join(dir, 'uploads') } },
    cache: { blobDir: join(dir, 'blob-cache') },
    origins: { nodes: [originUrl] },
    buildIndex: { nodes: [buildIndexUrl] },
    logging,
  }),
  agent: ({ port, dir, originUrl, buildIndexUrl }) => ({
    listen: listen(port),
    cache: { dir: join(dir, 'cache') },
    origins: { nodes: [originUrl] },
    buildIndex: { nodes: [buildIndexUrl] },
    logging,
  }),
};

async function startApp({ app, dir, ...links }) {
  const main = join(ROOT, 'apps', app, 'dist', 'main.js');
  try {
    await access(main);
  } catch {
    throw new Error(`${main} is missing; build the apps first (npm run bench:registry does)`);
  }
  const appDir = join(dir, app);
  await mkdir(appDir, { recursive: true });
  const port = await freePort();
  const configFile = join(appDir, 'config.yaml');
  await writeFile(configFile, toYaml(configs[app]({ port, dir: appDir, ...links })));
  const proc = startProcess({
    name: app,
    command: process.execPath,
    args: [main, '--config', configFile],
    cwd: ROOT,
    logFile: join(appDir, `${app}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk({ url: `${url}/readiness`, proc });
  return { url, proc };
}

/**
 * Starts origin, then build-index, then proxy and one agent (each waits for its upstreams
 * to be ready). The proxy is the measured target; the agent is the pull path, measured
 * on the side.
 */
export async function startKrakenStack({ dir }) {
  const origin = await startApp({ app: 'origin', dir });
  const buildIndex = await startApp({ app: 'build-index', dir, originUrl: origin.url });
  const links = { originUrl: origin.url, buildIndexUrl: buildIndex.url };
  const proxy = await startApp({ app: 'proxy', dir, ...links });
  const agent = await startApp({ app: 'agent', dir, ...links });
  return {
    name: 'proxy',
    url: proxy.url,
    agentUrl: agent.url,
    processes: [origin.proc, buildIndex.proc, proxy.proc, agent.proc],
  };
}

// The reference target: Debian's docker-registry (distribution 2.8) on a loopback port, with
// filesystem storage in a throwaway directory and the in-memory blob descriptor cache that its
// packaged default config enables.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess } from './child-processes.mjs';
import { freePort, waitHttpOk } from './net-helpers.mjs';

export async function startDockerRegistry({ dir }) {
  await mkdir(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const configFile = join(dir, 'config.yml');
  await writeFile(
    configFile,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  cache:',
      '    blobdescriptor: inmemory',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(join(dir, 'data'))}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const proc = startProcess({
    name: 'docker-registry',
    command: 'docker-registry',
    args: ['serve', configFile],
    logFile: join(dir, 'docker-registry.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk({ url: `${url}/v2/`, proc });
  return { name: 'docker-registry', url, processes: [proc] };
}

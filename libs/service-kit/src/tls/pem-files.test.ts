import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '@kraken/foundation/testing';
import { createTestPki, type TestPki } from '../testing/index.js';
import { ConfigError } from '../errors.js';
import { createServerTls } from './server-tls.js';
import { createClientTls } from './client-tls.js';
import { serverTlsSchema } from './tls-config.js';
import type { DirectoryWatch } from './pem-files.js';

const noWatch: DirectoryWatch = () => ({ close() {} });
const fingerprintOf = (pem: unknown) => new X509Certificate(pem as Buffer).fingerprint256;

let dir: string;
let pki: TestPki;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kraken-pem-'));
  pki = createTestPki(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('TLS files at start', () => {
  it('name the config key and the file that is missing, not PEM, or not a key', () => {
    const server = pki.issue('origin');
    const missing = configError(() =>
      createServerTls(serverTlsSchema.parse({ certFile: join(dir, 'gone.crt'), keyFile: server.keyFile })),
    );
    expect(missing.message).toBe(`tls.server.certFile "${join(dir, 'gone.crt')}" cannot be read (ENOENT)`);
    expect(missing.code).toBe('KRAKEN_CONFIG_INVALID');

    const notPem = join(dir, 'not-pem.crt');
    writeFileSync(notPem, 'secret-looking text that must not be echoed');
    const bad = configError(() =>
      createServerTls(serverTlsSchema.parse({ certFile: notPem, keyFile: server.keyFile })),
    );
    expect(bad.message).toBe(`tls.server.certFile "${notPem}" holds no PEM certificate`);

    const notKey = configError(() =>
      createServerTls(serverTlsSchema.parse({ certFile: server.certFile, keyFile: server.certFile })),
    );
    expect(notKey.message).toBe(`tls.server.keyFile "${server.certFile}" holds no PEM private key`);

    const caMissing = configError(() =>
      createClientTls({ caFile: join(dir, 'nope', 'ca.crt'), reloadIntervalMs: 30_000 }),
    );
    expect(caMissing.message).toContain(`tls.client.caFile "${join(dir, 'nope', 'ca.crt')}"`);
  });

  it('refuse a key that does not match the certificate, naming both files and no content', () => {
    const a = pki.issue('a');
    const b = pki.issue('b');
    const err = configError(() =>
      createServerTls(serverTlsSchema.parse({ certFile: a.certFile, keyFile: b.keyFile })),
    );
    expect(err.message).toMatch(
      /^tls\.server: certFile ".*a\.crt", keyFile ".*b\.key" cannot be used together \(.+\)$/,
    );
    expect(err.message).not.toContain('BEGIN');
    expect(err.message).not.toContain(readFileSync(b.keyFile, 'utf8').split('\n')[1]!);
  });
});

describe('TLS files that change on disk', () => {
  it('are reloaded by the periodic check, and only then', async () => {
    const clock = createManualClock();
    const first = pki.issue('origin');
    const next = pki.issue('origin', { file: 'origin-next' });
    const tls = createServerTls(
      serverTlsSchema.parse({ certFile: first.certFile, keyFile: first.keyFile, reloadIntervalMs: 10_000 }),
      { timers: clock, watchDirectory: noWatch },
    );
    const applied: string[] = [];
    tls.attach({ setSecureContext: (options) => applied.push(fingerprintOf(options.cert)) });
    expect(fingerprintOf(tls.serverOptions.cert)).toBe(first.fingerprint256);

    renameSync(next.certFile, first.certFile);
    renameSync(next.keyFile, first.keyFile);
    await clock.advance(9_000);
    expect(applied).toEqual([]);

    const reloaded = new Promise<void>((resolve) => tls.attach({ setSecureContext: () => resolve() }));
    await clock.advance(1_000);
    await reloaded;
    expect(applied).toEqual([next.fingerprint256]);
    expect(fingerprintOf(tls.current().cert)).toBe(next.fingerprint256);
    tls.close();
    expect(clock.pending()).toBe(0);
  });

  it('keep the previous files while a rotation is half done, and say so once', async () => {
    const clock = createManualClock();
    const first = pki.issue('origin');
    const next = pki.issue('origin', { file: 'origin-next' });
    const warnings: string[] = [];
    const logger = { info() {}, warn: (_fields: unknown, message: string) => warnings.push(message) };
    const tls = createServerTls(
      serverTlsSchema.parse({ certFile: first.certFile, keyFile: first.keyFile, reloadIntervalMs: 1_000 }),
      { timers: clock, watchDirectory: noWatch, logger: logger as never },
    );
    // The certificate is new, its key not yet.
    copyFileSync(next.certFile, first.certFile);
    expect(await tls.check()).toBe(false);
    await clock.advance(3_000);
    expect(warnings).toEqual(['tls.server: changed files cannot be used yet; the previous ones stay']);
    expect(fingerprintOf(tls.current().cert)).toBe(first.fingerprint256);

    copyFileSync(next.keyFile, first.keyFile);
    expect(await tls.check()).toBe(true);
    expect(fingerprintOf(tls.current().cert)).toBe(next.fingerprint256);
    tls.close();
  });

  it('are reloaded when a Secret volume swaps its data symlink, through the directory watch', async () => {
    // The kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/.
    const mount = join(dir, 'mount');
    const first = pki.issue('origin');
    const next = pki.issue('origin', { file: 'origin-next' });
    for (const [version, cert] of [
      ['..v1', first],
      ['..v2', next],
    ] as const) {
      mkdirSync(join(mount, version), { recursive: true });
      copyFileSync(cert.certFile, join(mount, version, 'tls.crt'));
      copyFileSync(cert.keyFile, join(mount, version, 'tls.key'));
    }
    symlinkSync('..v1', join(mount, '..data'));
    symlinkSync('..data/tls.crt', join(mount, 'tls.crt'));
    symlinkSync('..data/tls.key', join(mount, 'tls.key'));
    // The periodic check is an hour away: only the watch can see the swap.
    const tls = createServerTls(
      serverTlsSchema.parse({
        certFile: join(mount, 'tls.crt'),
        keyFile: join(mount, 'tls.key'),
        reloadIntervalMs: 3_600_000,
      }),
    );
    expect(fingerprintOf(tls.current().cert)).toBe(first.fingerprint256);
    const reloaded = new Promise<string>((resolve) =>
      tls.attach({ setSecureContext: (options) => resolve(fingerprintOf(options.cert)) }),
    );
    symlinkSync('..v2', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    expect(await reloaded).toBe(next.fingerprint256);
    tls.close();
  });
});

/**
 * SHA-256 that can stop at a 64-byte boundary and go on from there in another place:
 * the chaining value (the eight state words after a prefix of the blob) is what a
 * chained metainfo lists per piece (metainfo.ts), so a piece is checked by one hash run
 * from the previous piece's value, and all pieces checked means the whole blob hashes
 * to its digest. Node's hashes cannot start from a given state, so this calls
 * OpenSSL's SHA256_Update through koffi: the same code node's createHash runs (SHA
 * extensions where the CPU has them), from the node binary itself, which exports it
 * (or from the libcrypto it links).
 * The layout of OpenSSL's SHA256_CTX is public and has not changed since 0.9.8; a
 * self-test on first use still proves it against createHash before any piece is trusted.
 */
import { createHash } from 'node:crypto';
import { PieceHashUnavailableError } from '../errors.js';

/** The chaining value before any byte: SHA-256's initial state, as hex. */
export const SHA256_INITIAL_CHAIN = '6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19';

const BLOCK_BYTES = 64;
/** sizeof(SHA256_CTX): h[8], Nl, Nh, data[16], num, md_len, all 32-bit. */
const CTX_BYTES = 112;
const NL_OFFSET = 32;
const NH_OFFSET = 36;
const NUM_OFFSET = 104;
const CHAIN_HEX = /^[a-f0-9]{64}$/;

interface OpenSslSha256 {
  init(ctx: Buffer): number;
  update(ctx: Buffer, data: Uint8Array, length: number): number;
  final(md: Buffer, ctx: Buffer): number;
}

let binding: OpenSslSha256 | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the binding, once; chained runs need it loaded. Loaded on first need, not at
 * start-up: the FFI costs about 3 MiB of memory that a node pulling nothing large never
 * needs. Rejects with PieceHashUnavailableError on a node that cannot run chained sha256.
 */
export function loadSha256Chain(): Promise<void> {
  loading ??= (async () => {
    try {
      const { default: koffi } = await import('koffi');
      const self = koffi.load(null);
      const loaded: OpenSslSha256 = {
        init: self.func('int SHA256_Init(void *ctx)') as OpenSslSha256['init'],
        update: self.func(
          'int SHA256_Update(void *ctx, const void *data, size_t len)',
        ) as OpenSslSha256['update'],
        final: self.func('int SHA256_Final(uint8_t *md, void *ctx)') as OpenSslSha256['final'],
      };
      selfTest(loaded);
      binding = loaded;
    } catch (cause) {
      throw new PieceHashUnavailableError(cause);
    }
  })();
  return loading;
}

function openSsl(): OpenSslSha256 {
  if (binding === undefined) throw new Error('chained sha256 is not loaded: await loadSha256Chain() first');
  return binding;
}

/** A split run must give node's own sha256, at a boundary past 2^32 bits too. */
function selfTest(ssl: OpenSslSha256): void {
  const data = Buffer.alloc(3 * BLOCK_BYTES + 17);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
  const expected = createHash('sha256').update(data).digest('hex');
  const head = run(ssl, undefined, 0, data.subarray(0, 2 * BLOCK_BYTES));
  const tail = run(ssl, readChain(head), 2 * BLOCK_BYTES, data.subarray(2 * BLOCK_BYTES));
  if (finish(ssl, tail) !== expected) throw new Error('SHA256_CTX layout self-test failed');
  // The bit count's high word: resumed at 2^29 bytes, the padding must carry it.
  const far = run(ssl, SHA256_INITIAL_CHAIN, 2 ** 29, data.subarray(0, BLOCK_BYTES));
  if (far.readUInt32LE(NL_OFFSET) !== 512 || far.readUInt32LE(NH_OFFSET) !== 1) {
    throw new Error('SHA256_CTX length self-test failed');
  }
}

function run(ssl: OpenSslSha256, chain: string | undefined, before: number, data: Uint8Array): Buffer {
  const ctx = Buffer.alloc(CTX_BYTES);
  ssl.init(ctx);
  if (chain !== undefined) writeChain(ctx, chain, before);
  if (data.byteLength > 0) ssl.update(ctx, data, data.byteLength);
  return ctx;
}

function writeChain(ctx: Buffer, chain: string, before: number): void {
  const words = Buffer.from(chain, 'hex');
  for (let i = 0; i < 8; i++) ctx.writeUInt32LE(words.readUInt32BE(4 * i), 4 * i);
  const bits = before * 8;
  ctx.writeUInt32LE(bits % 2 ** 32, NL_OFFSET);
  ctx.writeUInt32LE(Math.floor(bits / 2 ** 32), NH_OFFSET);
}

function readChain(ctx: Buffer): string {
  const words = Buffer.allocUnsafe(32);
  for (let i = 0; i < 8; i++) words.writeUInt32BE(ctx.readUInt32LE(4 * i), 4 * i);
  return words.toString('hex');
}

function finish(ssl: OpenSslSha256, ctx: Buffer): string {
  const md = Buffer.alloc(32);
  ssl.final(md, ctx);
  return md.toString('hex');
}

/** One SHA-256 run over part of a blob. */
export interface Sha256Chain {
  update(data: Uint8Array): this;
  /** The chaining value after the bytes so far, which must end on a 64-byte boundary. */
  chainValue(): string;
  /** The sha256 (hex) of the whole blob, when these bytes are its end; the run is over. */
  digest(): string;
  /** Bytes of the blob covered so far, counting those before the start. */
  readonly bytes: number;
}

/**
 * A run from a chaining value (`SHA256_INITIAL_CHAIN` with `before` 0 for the start of a
 * blob) that `before` bytes of the blob led to; `before` is a multiple of 64. Throws
 * unless loadSha256Chain() has resolved.
 */
export function resumeSha256(chain: string, before: number): Sha256Chain {
  if (!CHAIN_HEX.test(chain)) throw new RangeError('a chaining value is 64 lowercase hex characters');
  if (!Number.isSafeInteger(before) || before < 0 || before % BLOCK_BYTES !== 0) {
    throw new RangeError(`a chain resumes at a multiple of ${BLOCK_BYTES} bytes, not ${before}`);
  }
  const ssl = openSsl();
  const ctx = run(ssl, chain, before, new Uint8Array(0));
  let bytes = before;
  let done = false;
  const open = () => {
    if (done) throw new Error('the sha256 run is finished');
  };
  return {
    update(data) {
      open();
      if (data.byteLength > 0) ssl.update(ctx, data, data.byteLength);
      bytes += data.byteLength;
      return this;
    },
    chainValue() {
      open();
      if (ctx.readUInt32LE(NUM_OFFSET) !== 0) {
        throw new RangeError(`no chaining value at ${bytes} bytes, not a multiple of ${BLOCK_BYTES}`);
      }
      return readChain(ctx);
    },
    digest() {
      open();
      done = true;
      return finish(ssl, ctx);
    },
    get bytes() {
      return bytes;
    },
  };
}

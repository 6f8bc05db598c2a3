/**
 * The persisted bitfield of a partial download, and the atomic file write that keeps
 * it trustworthy across crashes.
 *
 * Layout: magic "KPB1" | metainfo id (32 bytes) | piece count (u32 BE) | packed bits |
 * crc32 of everything before it (u32 BE). The metainfo id ties the bits to one piece
 * layout: a file written for another piece length of the same digest, a truncated
 * write or a flipped bit all decode as "no bitfield", and the download restarts
 * rather than trusting pieces it never verified.
 */
import type * as fsPromises from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { bitfieldByteLength, bitfieldFromBuffer, type Bitfield } from './bitfield.js';
import { metainfoId, type Metainfo } from '../metainfo/metainfo.js';

/** The file system calls the piece store makes; node:fs/promises by default. */
export type PieceStoreFileSystem = Pick<
  typeof fsPromises,
  'open' | 'readFile' | 'readdir' | 'rename' | 'rm' | 'mkdir'
>;

const MAGIC = Buffer.from('KPB1', 'latin1');
const ID_BYTES = 32;
const HEADER_BYTES = MAGIC.byteLength + ID_BYTES + 4;

export function encodeBitfieldFile(metainfo: Metainfo, bitfield: Bitfield): Buffer {
  const bits = bitfield.toBuffer();
  const out = Buffer.alloc(HEADER_BYTES + bits.byteLength + 4);
  MAGIC.copy(out, 0);
  out.write(metainfoId(metainfo), MAGIC.byteLength, ID_BYTES, 'hex');
  out.writeUInt32BE(bitfield.length, MAGIC.byteLength + ID_BYTES);
  out.set(bits, HEADER_BYTES);
  out.writeUInt32BE(crc32(out.subarray(0, out.byteLength - 4)), out.byteLength - 4);
  return out;
}

/** The bitfield stored in `bytes`, or undefined when it is corrupt or for another layout. */
export function decodeBitfieldFile(metainfo: Metainfo, bytes: Buffer): Bitfield | undefined {
  const count = metainfo.pieceHashes.length;
  const expectedLength = HEADER_BYTES + bitfieldByteLength(count) + 4;
  if (bytes.byteLength !== expectedLength) return undefined;
  if (!bytes.subarray(0, MAGIC.byteLength).equals(MAGIC)) return undefined;
  if (bytes.readUInt32BE(expectedLength - 4) !== crc32(bytes.subarray(0, expectedLength - 4)))
    return undefined;
  if (bytes.toString('hex', MAGIC.byteLength, MAGIC.byteLength + ID_BYTES) !== metainfoId(metainfo))
    return undefined;
  if (bytes.readUInt32BE(MAGIC.byteLength + ID_BYTES) !== count) return undefined;
  try {
    return bitfieldFromBuffer(count, bytes.subarray(HEADER_BYTES, expectedLength - 4));
  } catch {
    return undefined;
  }
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new
 * content: write a sibling temp file, fsync it, rename it over, fsync the directory.
 * The temp name is fixed per target; callers serialise writes to one target.
 */
export async function writeFileAtomic(
  fs: PieceStoreFileSystem,
  options: { path: string; dir: string; data: Uint8Array },
): Promise<void> {
  const temp = `${options.path}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(options.data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, options.path);
  await fsyncDirectory(fs, options.dir);
}

export async function fsyncDirectory(fs: PieceStoreFileSystem, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems cannot fsync a directory; the rename itself still happened.
  } finally {
    await handle.close();
  }
}

/** The file's bytes, or undefined when it does not exist. */
export async function readOptionalFile(fs: PieceStoreFileSystem, path: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

/**
 * The persisted bitfield of a partial download, and the atomic file write that keeps
 * it whole across crashes.
 *
 * Layout: magic "KPB2" | boot id (16 bytes, zeros when unknown) | metainfo id (32 bytes) |
 * piece count (u32 BE) | packed bits | crc32 of everything before it (u32 BE). The
 * metainfo id ties the bits to one piece layout: a file written for another piece length
 * of the same digest, a truncated write or a flipped bit all decode as "no bitfield", and
 * the download restarts rather than trusting pieces it never verified. The boot id says
 * which boot of the machine wrote it: pieces are not synced as they are written, so the
 * bits hold as they stand only within that boot (boot-id.ts). "KPB1" files, written by
 * versions that synced every piece before claiming it, hold in any boot.
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

const MAGIC = Buffer.from('KPB2', 'latin1');
const SYNCED_MAGIC = Buffer.from('KPB1', 'latin1');
const BOOT_ID_BYTES = 16;
const ID_BYTES = 32;
const HEADER_BYTES = MAGIC.byteLength + BOOT_ID_BYTES + ID_BYTES + 4;
const SYNCED_HEADER_BYTES = SYNCED_MAGIC.byteLength + ID_BYTES + 4;
const UNKNOWN_BOOT = '0'.repeat(2 * BOOT_ID_BYTES);

/** A decoded bitfield file. */
export interface StoredBitfield {
  readonly bits: Bitfield;
  /**
   * Whether the bits may be trusted without hashing the pieces again in the boot
   * `bootId` (undefined: unknown, never trusted unless the file claims synced pieces).
   */
  holdsIn(bootId: string | undefined): boolean;
}

/** `bootId`: 32 hex digits (boot-id.ts), or undefined when unknown. */
export function encodeBitfieldFile(
  metainfo: Metainfo,
  bitfield: Bitfield,
  bootId: string | undefined,
): Buffer {
  const bits = bitfield.toBuffer();
  const out = Buffer.alloc(HEADER_BYTES + bits.byteLength + 4);
  MAGIC.copy(out, 0);
  out.write(bootId ?? UNKNOWN_BOOT, MAGIC.byteLength, BOOT_ID_BYTES, 'hex');
  out.write(metainfoId(metainfo), MAGIC.byteLength + BOOT_ID_BYTES, ID_BYTES, 'hex');
  out.writeUInt32BE(bitfield.length, HEADER_BYTES - 4);
  out.set(bits, HEADER_BYTES);
  out.writeUInt32BE(crc32(out.subarray(0, out.byteLength - 4)), out.byteLength - 4);
  return out;
}

/** The bitfield stored in `bytes`, or undefined when it is corrupt or for another layout. */
export function decodeBitfieldFile(metainfo: Metainfo, bytes: Buffer): StoredBitfield | undefined {
  const synced = bytes.subarray(0, SYNCED_MAGIC.byteLength).equals(SYNCED_MAGIC);
  if (!synced && !bytes.subarray(0, MAGIC.byteLength).equals(MAGIC)) return undefined;
  const header = synced ? SYNCED_HEADER_BYTES : HEADER_BYTES;
  const count = metainfo.pieceHashes.length;
  const expectedLength = header + bitfieldByteLength(count) + 4;
  if (bytes.byteLength !== expectedLength) return undefined;
  if (bytes.readUInt32BE(expectedLength - 4) !== crc32(bytes.subarray(0, expectedLength - 4)))
    return undefined;
  const idAt = synced ? SYNCED_MAGIC.byteLength : MAGIC.byteLength + BOOT_ID_BYTES;
  if (bytes.toString('hex', idAt, idAt + ID_BYTES) !== metainfoId(metainfo)) return undefined;
  if (bytes.readUInt32BE(header - 4) !== count) return undefined;
  let bits: Bitfield;
  try {
    bits = bitfieldFromBuffer(count, bytes.subarray(header, expectedLength - 4));
  } catch {
    return undefined;
  }
  const writtenIn = synced
    ? undefined
    : bytes.toString('hex', MAGIC.byteLength, MAGIC.byteLength + BOOT_ID_BYTES);
  return {
    bits,
    holdsIn: (bootId) =>
      synced || (bootId !== undefined && writtenIn !== UNKNOWN_BOOT && writtenIn === bootId),
  };
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new
 * content: write a sibling temp file, rename it over. `durable` also fsyncs the temp
 * file before the rename and the directory after it, so that the new content survives
 * a crash of the machine too; without it a crash of the process cannot tear the file,
 * and the page cache writes it back in its own time.
 * The temp name is fixed per target; callers serialise writes to one target.
 */
export async function writeFileAtomic(
  fs: PieceStoreFileSystem,
  options: { path: string; dir: string; data: Uint8Array; durable?: boolean | undefined },
): Promise<void> {
  const durable = options.durable ?? true;
  const temp = `${options.path}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(options.data);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, options.path);
  if (durable) await fsyncDirectory(fs, options.dir);
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

/**
 * Reading a metainfo answer on the client side: capped at MAX_METAINFO_BYTES, parsed
 * and validated by p2p-core, and checked to be the metainfo of the blob asked for.
 * Anything else is one typed error (502 KRAKEN_INVALID_RESPONSE).
 */
import { readBounded, type ByteSource } from '@kraken/foundation';
import type { Digest } from '@kraken/oci-content';
import { MAX_METAINFO_BYTES, parseMetainfo, type Metainfo } from '@kraken/p2p-core';
import { invalidResponse } from '@kraken/service-kit';

export async function readMetainfoResponse(
  body: ByteSource,
  options: { digest: Digest; what: string },
): Promise<Metainfo> {
  const { digest, what } = options;
  const { bytes } = await readBounded(body, MAX_METAINFO_BYTES);
  if (bytes === undefined) throw invalidResponse(what, `larger than ${MAX_METAINFO_BYTES} bytes`);
  let metainfo: Metainfo;
  try {
    metainfo = parseMetainfo(bytes);
  } catch (err) {
    throw invalidResponse(what, (err as Error).message);
  }
  if (metainfo.digest !== digest.value) throw invalidResponse(what, `metainfo is for ${metainfo.digest}`);
  return metainfo;
}

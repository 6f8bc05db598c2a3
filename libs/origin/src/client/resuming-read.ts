/**
 * A blob read that survives the loss of the origin sending it: when the body breaks
 * off, the rest is requested as a byte range from another origin holding the blob,
 * and the bytes carry on in the same stream. The consumer sees one stream and still
 * verifies the digest of the whole, so a stitched read is as safe as a plain one.
 */
import { Readable } from 'node:stream';
import { isRetryableOriginError } from './owner-walk.js';

export interface ResumingReadOptions {
  /** The first body, from the node `nodeId`. */
  readonly first: Readable;
  readonly nodeId: string;
  /** Offset in the blob where `first` starts. */
  readonly start: number;
  /**
   * Opens the blob from `offset` on, at a node not in `exclude`; undefined when no
   * other node has it. Rejects when none could be reached.
   */
  readonly reopen: (
    offset: number,
    exclude: ReadonlySet<string>,
  ) => Promise<{ body: Readable; nodeId: string } | undefined>;
  /** Told about every break that is resumed elsewhere. */
  readonly onResume?: (event: { nodeId: string; offset: number; error: unknown }) => void;
  /** Breaks resumed at most (default 3). */
  readonly maxResumes?: number;
  readonly signal?: AbortSignal | undefined;
}

export function createResumingRead(options: ResumingReadOptions): Readable {
  const maxResumes = options.maxResumes ?? 3;
  async function* bytes(): AsyncGenerator<Buffer> {
    let source = options.first;
    let offset = options.start;
    const failed = new Set<string>([options.nodeId]);
    let nodeId = options.nodeId;
    for (let resumes = 0; ; resumes++) {
      try {
        for await (const chunk of source) {
          const buffer = chunk as Buffer;
          offset += buffer.length;
          yield buffer;
        }
        return;
      } catch (error) {
        source.destroy();
        if (options.signal?.aborted === true || resumes >= maxResumes || !isRetryableOriginError(error)) {
          throw error;
        }
        failed.add(nodeId);
        options.onResume?.({ nodeId, offset, error });
        const next = await options.reopen(offset, failed);
        if (next === undefined) throw error;
        source = next.body;
        nodeId = next.nodeId;
      }
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}

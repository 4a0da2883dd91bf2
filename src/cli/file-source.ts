import { open, stat, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename } from 'node:path';
import { ScanError } from '../core/errors.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';

/** What says a file is still the one that was opened: a file rewritten in place changes its size or its modified time. */
interface FileState {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

const stateOf = (s: BigIntStats): FileState => ({ ino: s.ino, size: s.size, mtimeNs: s.mtimeNs });
const sameState = (a: FileState, b: FileState) => a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;

function describe(s: FileState): string {
  return `${s.size} bytes, modified ${new Date(Number(s.mtimeNs / 1_000_000n)).toISOString()}`;
}

/** A file on disk as a ByteSource, that can say whether the file at its path is still the one it opened. */
export interface FileByteSource extends ByteSource {
  /** what a worker opens to read this very file: its path and the state it had here (see fileSourceOfRef) */
  readonly ref: string;
  /** rejects with FILE_CHANGED when the file at the path was rewritten, replaced or removed since this source was made */
  checkUnchanged(): Promise<void>;
}

/**
 * A Node file as a ByteSource: positional reads, so only the asked-for bytes are ever in memory.
 * The file's size and modified time are checked after each read against those it had when the source
 * was made: a file rewritten in place during a scan (a trainer saving over its checkpoint) fails the
 * read with FILE_CHANGED instead of handing on a mix of two files' bytes.
 */
export async function fileSource(path: string, expected?: FileState): Promise<FileByteSource> {
  const name = basename(path);
  // a worker compares against the state the header was read from, not the one it finds when it opens
  const opened = expected ?? stateOf(await stat(path, { bigint: true }));
  const size = Number(opened.size);
  let handle: FileHandle | undefined;
  const checkUnchanged = async (h?: FileHandle) => {
    const now = stateOf(await (h ? h.stat({ bigint: true }) : stat(path, { bigint: true })));
    if (!sameState(opened, now)) {
      throw new ScanError(
        'FILE_CHANGED',
        name,
        undefined,
        `changed on disk during the scan (${describe(opened)} when opened, now ${describe(now)}): scan it again once it is written`,
      );
    }
  };
  return {
    name,
    size,
    ref: `${path}\0${opened.ino}:${opened.size}:${opened.mtimeNs}`,
    async read(offset, length, into) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new RangeError(`read of ${length} bytes at ${offset} is beyond the end of ${name} (${size} bytes)`);
      }
      handle ??= await open(path, 'r');
      const h = handle;
      const out = into && into.byteLength >= length ? into.subarray(0, length) : new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await h.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          await checkUnchanged(h); // cut short because it is being rewritten: say so
          throw new RangeError(`${name} ended after ${offset + done} bytes`);
        }
        done += bytesRead;
      }
      await checkUnchanged(h);
      return out;
    },
    async checkUnchanged() {
      await checkUnchanged().catch((e: unknown) => {
        if (e instanceof ScanError) throw e;
        throw new ScanError(
          'FILE_CHANGED',
          name,
          undefined,
          `is gone since the scan opened it (${e instanceof Error ? e.message : String(e)})`,
        );
      });
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
}

/**
 * The source a worker opens for a ref made by `fileSource(...).ref`: a file rewritten between the
 * header's read and the worker's first read fails that read with FILE_CHANGED, as one rewritten later
 * does. A bare path (no state) is opened as it is now.
 */
export function fileSourceOfRef(ref: string): Promise<FileByteSource> {
  const cut = ref.indexOf('\0');
  if (cut < 0) return fileSource(ref);
  const [ino, size, mtimeNs] = ref
    .slice(cut + 1)
    .split(':')
    .map((x) => BigInt(x));
  return fileSource(ref.slice(0, cut), { ino, size, mtimeNs });
}

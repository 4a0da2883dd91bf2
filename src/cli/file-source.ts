import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ByteSource } from '../core/formats/byte-source.ts';

/** A Node file as a ByteSource: positional reads, so only the asked-for bytes are ever in memory. */
export async function fileSource(path: string): Promise<ByteSource> {
  const { size } = await stat(path);
  let handle: FileHandle | undefined;
  return {
    name: basename(path),
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new RangeError(`read of ${length} bytes at ${offset} is beyond the end of ${basename(path)} (${size} bytes)`);
      }
      handle ??= await open(path, 'r');
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new RangeError(`${basename(path)} ended after ${offset + done} bytes`);
        done += bytesRead;
      }
      return out;
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
}

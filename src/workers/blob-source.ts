import { ScanError } from '../core/errors.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';

/**
 * A browser File or Blob as a ByteSource: each read slices the blob, so only that slice is loaded.
 * A File that changed on disk after it was picked cannot be read any more (Chromium rejects with
 * NotReadableError): that read fails with FILE_CHANGED, which names the tensor, like the CLI's.
 */
export function blobSource(blob: Blob, name = blob instanceof File ? blob.name : 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > blob.size) {
        throw new RangeError(`read of ${length} bytes at ${offset} is beyond the end of ${name} (${blob.size} bytes)`);
      }
      try {
        return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      } catch (e) {
        if (e instanceof Error && e.name === 'NotReadableError') {
          throw new ScanError(
            'FILE_CHANGED',
            name,
            undefined,
            'changed on disk (or was moved) since it was opened, so the browser no longer reads it (NotReadableError): open it again',
          );
        }
        throw e;
      }
    },
  };
}

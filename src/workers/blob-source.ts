import type { ByteSource } from '../core/formats/byte-source.ts';

/** A browser File or Blob as a ByteSource: each read slices the blob, so only that slice is loaded. */
export function blobSource(blob: Blob, name = blob instanceof File ? blob.name : 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > blob.size) {
        throw new RangeError(`read of ${length} bytes at ${offset} is beyond the end of ${name} (${blob.size} bytes)`);
      }
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

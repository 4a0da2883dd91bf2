/**
 * Everything that reads a checkpoint reads through a ByteSource: the Node file, browser File/Blob
 * and in-memory adapters live at the edges (cli/, workers/, tests), so parsers run anywhere.
 */
export interface ByteSource {
  /** the file's name as the user knows it (used in every message) */
  readonly name: string;
  readonly size: number;
  /**
   * exactly `length` bytes from `offset`; rejects when the source is shorter. `into`: an array the caller gives
   * up until it has used the bytes, which a source may read into (a view of its first `length` bytes) to spare a
   * fresh allocation; a source that cannot (a Blob, memory) returns its own bytes.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** The largest slice any reader asks for at once: 64 MiB, whatever the tensor (docs/architecture.md). */
export const MAX_READ_SLICE = 64 * 1024 * 1024;

export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new RangeError(`read of ${length} bytes at ${offset} is beyond the end (${bytes.byteLength} bytes)`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}

import { ScanError, throwIfAborted } from '../errors.ts';
import { MAX_READ_SLICE, type ByteSource } from './byte-source.ts';
import { SpareArrays } from './spare-arrays.ts';
import { elementCount, type TensorInfo } from './tensor-info.ts';

/** The largest tensor we decode at once: 2^31 f32 elements is beyond any typed array we can allocate. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

export interface ReadProgress {
  (bytesRead: number): void;
}

export interface TensorReadOptions {
  signal?: AbortSignal;
  onBytes?: ReadProgress;
  /** a smaller slice than MAX_READ_SLICE (tests); never a larger one */
  sliceBytes?: number;
  /** readTensorAsF32: where to decode (its first `count` values, returned as a view), when it is long enough */
  into?: Float32Array;
}

/** The tensor's element count, refused (typed, before any read) beyond what one f32 array can hold. */
export function decodableCount(info: TensorInfo): number {
  const count = elementCount(info.shape);
  if (count > MAX_TENSOR_ELEMENTS)
    throw new ScanError('TOO_LARGE', info.file, info.name, `${count} elements exceed the limit of ${MAX_TENSOR_ELEMENTS}`);
  return count;
}

/** The raw bytes of the slices being read, kept from one slice (and one tensor) to the next. */
const rawBuffers = new SpareArrays<Uint8Array>((count) => new Uint8Array(count));

/**
 * Read a tensor's byte range in slices of at most MAX_READ_SLICE bytes, each a whole number of
 * `unit`s (an element, or a quantization block), handing each to `decode` as it arrives, so that the
 * raw bytes of one slice only are held at a time. `decode` has the bytes for the call only: their buffer is
 * read into again for the next slice or tensor (a copy is the caller's to make). A failed or short read is a typed error naming
 * the file and the tensor.
 */
export async function readInSlices(
  source: ByteSource,
  info: TensorInfo,
  unit: number,
  opts: TensorReadOptions,
  decode: (bytes: Uint8Array) => void,
): Promise<void> {
  const slice = Math.max(1, Math.floor(Math.min(opts.sliceBytes ?? MAX_READ_SLICE, MAX_READ_SLICE) / unit)) * unit;
  for (let pos = 0; pos < info.byteLength; pos += slice) {
    throwIfAborted(opts.signal);
    const length = Math.min(slice, info.byteLength - pos);
    let bytes: Uint8Array;
    const buffer = rawBuffers.take(length);
    try {
      bytes = await source.read(info.begin + pos, length, buffer);
    } catch (e) {
      // a file that changed on disk since it was opened: its own code, so that the tensor is not read as a mix of two files
      if (e instanceof ScanError && e.code === 'FILE_CHANGED') throw new ScanError('FILE_CHANGED', info.file, info.name, e.detail);
      const why = e instanceof Error ? e.message : String(e);
      throw new ScanError(
        'READ_FAILED',
        info.file,
        info.name,
        `could not read bytes ${info.begin + pos}–${info.begin + pos + length}: ${why}`,
      );
    }
    if (bytes.byteLength !== length) {
      throw new ScanError(
        'TRUNCATED',
        info.file,
        info.name,
        `read ${bytes.byteLength} of ${length} bytes at ${info.begin + pos}: the file is truncated`,
      );
    }
    decode(bytes);
    // decoded: the raw bytes are not needed any more (a failed read above lets the buffer go with its error)
    rawBuffers.give(buffer);
    opts.onBytes?.(length);
  }
}

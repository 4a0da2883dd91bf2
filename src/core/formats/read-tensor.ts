import { ScanError, throwIfAborted } from '../errors.ts';
import { MAX_READ_SLICE, type ByteSource } from './byte-source.ts';
import { BYTES_PER_ELEMENT, decodeInto, isFloatDType } from './dtype.ts';
import { isQuantizedDType } from './gguf-types.ts';
import { readQuantizedAsF32 } from './read-quantized.ts';
import { elementCount, type TensorInfo } from './tensor-info.ts';

/** The largest tensor we decode at once: 2^31 f32 elements is beyond any typed array we can allocate. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

export interface ReadProgress {
  (bytesRead: number): void;
}

/**
 * Read one tensor by its byte range in slices of at most MAX_READ_SLICE bytes, decoding each slice
 * into f32 as it arrives, so that the raw bytes of only one slice are held at a time.
 */
export async function readTensorAsF32(
  source: ByteSource,
  info: TensorInfo,
  opts: { signal?: AbortSignal; onBytes?: ReadProgress; sliceBytes?: number } = {},
): Promise<Float32Array> {
  // GGUF's block-quantized types are dequantized by whole blocks (read-quantized.ts)
  if (isQuantizedDType(info.dtype)) return readQuantizedAsF32(source, info, opts);
  if (!isFloatDType(info.dtype)) throw new ScanError('UNKNOWN_DTYPE', info.file, info.name, `dtype ${info.dtype} is not a floating-point weight`);
  const count = elementCount(info.shape);
  if (count > MAX_TENSOR_ELEMENTS) throw new ScanError('TOO_LARGE', info.file, info.name, `${count} elements exceed the limit of ${MAX_TENSOR_ELEMENTS}`);
  const width = BYTES_PER_ELEMENT[info.dtype];
  // The output is sized by the shape and filled from the byte range: they must agree, or a reader
  // that made this TensorInfo (any format) would have us write past the end or leave zeros behind.
  if (count * width !== info.byteLength) {
    throw new ScanError('SHAPE_BYTE_MISMATCH', info.file, info.name, `shape [${info.shape.join(', ')}] of ${info.dtype} needs ${count * width} bytes but its byte range holds ${info.byteLength}`);
  }
  const out = new Float32Array(count);
  const slice = Math.max(width, Math.floor(Math.min(opts.sliceBytes ?? MAX_READ_SLICE, MAX_READ_SLICE) / width) * width);
  let done = 0;
  for (let pos = 0; pos < info.byteLength; pos += slice) {
    throwIfAborted(opts.signal);
    const length = Math.min(slice, info.byteLength - pos);
    let bytes: Uint8Array;
    try {
      bytes = await source.read(info.begin + pos, length);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ScanError('READ_FAILED', info.file, info.name, `could not read bytes ${info.begin + pos}–${info.begin + pos + length}: ${why}`);
    }
    if (bytes.byteLength !== length) {
      throw new ScanError('TRUNCATED', info.file, info.name, `read ${bytes.byteLength} of ${length} bytes at ${info.begin + pos}: the file is truncated`);
    }
    done += decodeInto(info.dtype, bytes, out, done);
    opts.onBytes?.(length);
  }
  return out;
}

/** How many elements are NaN or ±Infinity: such a matrix is reported, not analysed. */
export function countNonFinite(values: Float32Array): number {
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is NaN exactly for NaN and ±Infinity; cheaper than Number.isFinite per element.
    if (v - v !== 0) k++;
  }
  return k;
}

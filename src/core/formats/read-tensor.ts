import { ScanError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { BYTES_PER_ELEMENT, decodeInto, isFloatDType } from './dtype.ts';
import { isQuantizedDType } from './gguf-types.ts';
import { readQuantizedAsF32 } from './read-quantized.ts';
import type { TensorInfo } from './tensor-info.ts';
import { decodableCount, readInSlices, type TensorReadOptions } from './tensor-slices.ts';

export { MAX_TENSOR_ELEMENTS, type ReadProgress } from './tensor-slices.ts';

/**
 * Read one tensor by its byte range in slices of at most MAX_READ_SLICE bytes (tensor-slices.ts),
 * decoding each slice into f32 as it arrives.
 */
export async function readTensorAsF32(source: ByteSource, info: TensorInfo, opts: TensorReadOptions = {}): Promise<Float32Array> {
  // GGUF's block-quantized types are dequantized by whole blocks (read-quantized.ts)
  if (isQuantizedDType(info.dtype)) return readQuantizedAsF32(source, info, opts);
  const dtype = info.dtype;
  if (!isFloatDType(dtype)) throw new ScanError('UNKNOWN_DTYPE', info.file, info.name, `dtype ${dtype} is not a floating-point weight`);
  const count = decodableCount(info);
  const width = BYTES_PER_ELEMENT[dtype];
  // The output is sized by the shape and filled from the byte range: they must agree, or a reader
  // that made this TensorInfo (any format) would have us write past the end or leave zeros behind.
  if (count * width !== info.byteLength) {
    throw new ScanError(
      'SHAPE_BYTE_MISMATCH',
      info.file,
      info.name,
      `shape [${info.shape.join(', ')}] of ${info.dtype} needs ${count * width} bytes but its byte range holds ${info.byteLength}`,
    );
  }
  const out = opts.into && opts.into.length >= count ? opts.into.subarray(0, count) : new Float32Array(count);
  let done = 0;
  await readInSlices(source, info, width, opts, (bytes) => {
    done += decodeInto(dtype, bytes, out, done);
  });
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

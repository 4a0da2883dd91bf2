import { ScanError, throwIfAborted } from '../errors.ts';
import { MAX_READ_SLICE, type ByteSource } from './byte-source.ts';
import { DEQUANTIZERS } from './gguf-quants.ts';
import { GGML_TYPE_BY_NAME } from './gguf-types.ts';
import type { ReadProgress } from './read-tensor.ts';
import { elementCount, type TensorInfo } from './tensor-info.ts';

/** The largest tensor we decode at once (as read-tensor.ts): 2^31 f32 elements. */
const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Read a GGUF tensor of a block-quantized type by its byte range in slices of whole blocks (at most
 * MAX_READ_SLICE bytes each), dequantizing each slice into f32 as it arrives, as safetensors' are decoded.
 */
export async function readQuantizedAsF32(
  source: ByteSource,
  info: TensorInfo,
  opts: { signal?: AbortSignal; onBytes?: ReadProgress; sliceBytes?: number } = {},
): Promise<Float32Array> {
  const type = GGML_TYPE_BY_NAME.get(info.dtype);
  const dequantize = DEQUANTIZERS[info.dtype];
  if (!type || !dequantize) throw new ScanError('UNKNOWN_DTYPE', info.file, info.name, `GGUF type ${info.dtype} is not dequantized here`);
  const count = elementCount(info.shape);
  if (count > MAX_ELEMENTS) throw new ScanError('TOO_LARGE', info.file, info.name, `${count} elements exceed the limit of ${MAX_ELEMENTS}`);
  if (count % type.blockSize !== 0 || (count / type.blockSize) * type.blockBytes !== info.byteLength) {
    throw new ScanError('SHAPE_BYTE_MISMATCH', info.file, info.name, `shape [${info.shape.join(', ')}] of ${info.dtype} needs ${(count / type.blockSize) * type.blockBytes} bytes but its byte range holds ${info.byteLength}`);
  }
  const out = new Float32Array(count);
  const sliceBlocks = Math.max(1, Math.floor(Math.min(opts.sliceBytes ?? MAX_READ_SLICE, MAX_READ_SLICE) / type.blockBytes));
  const slice = sliceBlocks * type.blockBytes;
  for (let pos = 0, at = 0; pos < info.byteLength; pos += slice) {
    throwIfAborted(opts.signal);
    const length = Math.min(slice, info.byteLength - pos);
    let bytes: Uint8Array;
    try {
      bytes = await source.read(info.begin + pos, length);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ScanError('READ_FAILED', info.file, info.name, `could not read bytes ${info.begin + pos}–${info.begin + pos + length}: ${why}`);
    }
    if (bytes.byteLength !== length) throw new ScanError('TRUNCATED', info.file, info.name, `read ${bytes.byteLength} of ${length} bytes at ${info.begin + pos}: the file is truncated`);
    const blocks = length / type.blockBytes;
    dequantize(bytes, blocks, out, at);
    at += blocks * type.blockSize;
    opts.onBytes?.(length);
  }
  return out;
}

import { ScanError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { DEQUANTIZERS } from './gguf-quants.ts';
import { GGML_TYPE_BY_NAME } from './gguf-types.ts';
import type { TensorInfo } from './tensor-info.ts';
import { decodableCount, readInSlices, type TensorReadOptions } from './tensor-slices.ts';

/**
 * Read a GGUF tensor of a block-quantized type by its byte range in slices of whole blocks (at most
 * MAX_READ_SLICE bytes each), dequantizing each slice into f32 as it arrives, as safetensors' are decoded.
 */
export async function readQuantizedAsF32(source: ByteSource, info: TensorInfo, opts: TensorReadOptions = {}): Promise<Float32Array> {
  const type = GGML_TYPE_BY_NAME.get(info.dtype);
  const dequantize = Object.hasOwn(DEQUANTIZERS, info.dtype) ? DEQUANTIZERS[info.dtype] : undefined;
  if (!type || !dequantize) throw new ScanError('UNKNOWN_DTYPE', info.file, info.name, `GGUF type ${info.dtype} is not dequantized here`);
  const count = decodableCount(info);
  if (count % type.blockSize !== 0 || (count / type.blockSize) * type.blockBytes !== info.byteLength) {
    throw new ScanError(
      'SHAPE_BYTE_MISMATCH',
      info.file,
      info.name,
      `shape [${info.shape.join(', ')}] of ${info.dtype} needs ${(count / type.blockSize) * type.blockBytes} bytes but its byte range holds ${info.byteLength}`,
    );
  }
  const out = new Float32Array(count);
  let at = 0;
  await readInSlices(source, info, type.blockBytes, opts, (bytes) => {
    const blocks = bytes.byteLength / type.blockBytes;
    dequantize(bytes, blocks, out, at);
    at += blocks * type.blockSize;
  });
  return out;
}

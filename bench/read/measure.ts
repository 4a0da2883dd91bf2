/**
 * The measurement that bench/read.bench.ts makes in Node and in a page's Web Worker: the same core
 * code (readSafetensorsHeader, readTensorAsF32) over whichever ByteSource the place has.
 */
import { MAX_READ_SLICE, type ByteSource } from '../../src/core/formats/byte-source.ts';
import { readTensorAsF32 } from '../../src/core/formats/read-tensor.ts';
import { readSafetensorsHeader } from '../../src/core/formats/safetensors.ts';

export interface ReadRates {
  /** bytes of tensor data in the file */
  bytes: number;
  /** GB/s of reading each tensor's byte range in MAX_READ_SLICE slices, bytes only */
  rawGBps: number;
  /** GB/s (of file bytes) of readTensorAsF32: slices read and decoded into f32, as a scan does */
  decodeGBps: number;
}

export async function measureReads(source: ByteSource): Promise<ReadRates> {
  const { tensors } = await readSafetensorsHeader(source);
  const bytes = tensors.reduce((a, t) => a + t.byteLength, 0);
  let t0 = performance.now();
  for (const t of tensors) {
    for (let pos = 0; pos < t.byteLength; pos += MAX_READ_SLICE)
      await source.read(t.begin + pos, Math.min(MAX_READ_SLICE, t.byteLength - pos));
  }
  const raw = (performance.now() - t0) / 1000;
  t0 = performance.now();
  let checksum = 0;
  for (const t of tensors) checksum += (await readTensorAsF32(source, t))[0];
  const decode = (performance.now() - t0) / 1000;
  if (Number.isNaN(checksum)) throw new Error('the bench file holds NaN');
  return { bytes, rawGBps: bytes / raw / 1e9, decodeGBps: bytes / decode / 1e9 };
}

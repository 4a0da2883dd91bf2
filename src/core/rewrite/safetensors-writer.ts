import { ScanError } from '../errors.ts';
import type { ByteSink } from './sink.ts';

/** One tensor of a file being written: its header entry, and what writes its bytes when its turn comes. */
export interface TensorToWrite {
  name: string;
  dtype: string;
  shape: readonly number[];
  byteLength: number;
  /** hands this tensor's bytes to `emit`, in order, in as many pieces as it likes (exactly byteLength in all) */
  write(emit: (bytes: Uint8Array) => Promise<void>): Promise<void>;
}

/**
 * The header of a safetensors file: 8 bytes of little-endian length, then the JSON (`__metadata__`
 * first, then the tensors in the order given, each with its data_offsets in that order), padded with
 * spaces so that the data starts at a multiple of 8, as the safetensors library writes it.
 */
export function safetensorsHeader(metadata: Record<string, string> | null, tensors: readonly Omit<TensorToWrite, 'write'>[]): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__') throw new Error('a tensor cannot be named __metadata__');
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  // spaces after the JSON, so that the data starts at a multiple of 8
  const padded = Math.ceil((8 + text.byteLength) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(text, 8);
  out.fill(0x20, 8 + text.byteLength);
  return out;
}

/** The size of the file writeSafetensors makes. */
export function safetensorsSize(metadata: Record<string, string> | null, tensors: readonly Omit<TensorToWrite, 'write'>[]): number {
  return safetensorsHeader(metadata, tensors).byteLength + tensors.reduce((n, t) => n + t.byteLength, 0);
}

/**
 * Stream one safetensors file into `sink`: the header, then each tensor's bytes as its `write` gives
 * them, so that only the tensor being written is in memory. A tensor that gives more or fewer bytes
 * than its header entry says is an error naming it (the file would be unreadable).
 */
export async function writeSafetensors(
  sink: ByteSink,
  file: string,
  metadata: Record<string, string> | null,
  tensors: readonly TensorToWrite[],
): Promise<number> {
  const header = safetensorsHeader(metadata, tensors);
  await sink.write(header);
  let total = header.byteLength;
  for (const t of tensors) {
    let written = 0;
    await t.write(async (bytes) => {
      written += bytes.byteLength;
      if (written > t.byteLength)
        throw new ScanError('SHAPE_BYTE_MISMATCH', file, t.name, `more than the ${t.byteLength} bytes its header entry says`);
      await sink.write(bytes);
    });
    if (written !== t.byteLength)
      throw new ScanError('SHAPE_BYTE_MISMATCH', file, t.name, `${written} bytes written where its header entry says ${t.byteLength}`);
    total += written;
  }
  await sink.close();
  return total;
}

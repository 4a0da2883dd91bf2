import type { ByteSource } from './byte-source.ts';
import { fnv1a } from './hash.ts';
import type { TensorInfo } from './tensor-info.ts';

/** Tensors sampled per file: every tensor of a model (a few hundred), an even spread of a file of many more. */
const MAX_TENSORS = 512;
/** Bytes read at each sample point. */
const SAMPLE_BYTES = 32;
/** Sample points per tensor: its start, middle and end, so an update of only some rows (heads) is seen too. */
const POINTS = 3;

/**
 * A digest of a few bytes of every tensor's data. Two checkpoints of one training run share file
 * names, sizes and headers (the same shapes at the same offsets): only their data tells them apart,
 * and a fine-tune changes nearly every byte of each tensor it trains. Reading 3 × 32 bytes per
 * tensor keeps it to a few hundred small reads for a whole model, whatever its size.
 */
export async function contentDigest(source: ByteSource, tensors: readonly TensorInfo[]): Promise<string> {
  const inFile = tensors.filter((t) => t.byteLength > 0 && t.begin + t.byteLength <= source.size).sort((a, b) => a.begin - b.begin);
  const step = Math.max(1, inFile.length / MAX_TENSORS);
  const parts: string[] = [];
  for (let i = 0; i < inFile.length; i += step) {
    const t = inFile[Math.floor(i)];
    const length = Math.min(SAMPLE_BYTES, t.byteLength);
    for (let k = 0; k < POINTS; k++) {
      const at = t.begin + Math.floor((k * (t.byteLength - length)) / (POINTS - 1));
      try {
        const bytes = await source.read(at, length);
        parts.push(String.fromCharCode(...bytes));
      } catch {
        // an unreadable sample (the tensor's own read will say why): its absence is part of the digest
        parts.push('-');
      }
    }
  }
  return fnv1a(parts.join('|'));
}

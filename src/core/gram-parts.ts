/**
 * How the CPU engine sums a Gram over the long side of a matrix, shared by the engine (which sums) and the scan
 * pool (which hands parts of one matrix to idle workers).
 */

/**
 * Steps of the long side that the CPU engine's Gram packs and sums at a time (src/engine/cpu/gram.ts): slices
 * and parts are multiples of it, so their chunks are the whole matrix's. It is also a multiple of every GGUF
 * block size (32, 256), so that a slice of a quantized tensor is whole blocks.
 */
export const GRAM_ALIGN = 256;

/**
 * The values of one part of the long side (64 MiB as f32). The CPU engine's Gram of a matrix longer than one
 * part is, by definition, the sum in part order of its parts' Grams, each summed from zero chunk by chunk:
 * so any worker may sum any part and the result is the same to the bit, however many workers took part.
 */
export const GRAM_PART_VALUES = 2 ** 24;

/** One part of the long side: steps [start, start + length). */
export interface GramPart {
  start: number;
  length: number;
}

/** Steps of the long side per Gram part for a short side of n: a multiple of GRAM_ALIGN, at least one. */
export function gramPartLength(n: number): number {
  return Math.max(GRAM_ALIGN, Math.floor(GRAM_PART_VALUES / Math.max(1, n) / GRAM_ALIGN) * GRAM_ALIGN);
}

/** The Gram parts of an n-wide matrix with a long side of k steps (one part when k fits in one; an empty one when k = 0). */
export function gramParts(n: number, k: number): GramPart[] {
  const length = gramPartLength(n);
  const parts: GramPart[] = [];
  for (let start = 0; start < k || parts.length === 0; start += length) parts.push({ start, length: Math.min(length, k - start) });
  return parts;
}

/** The Gram parts of a rows × cols matrix (its long side cut, its short side whole). */
export function gramPartsOf(rows: number, cols: number): GramPart[] {
  return gramParts(Math.min(rows, cols), Math.max(rows, cols));
}

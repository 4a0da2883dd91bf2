/**
 * ggml's tensor types as GGUF numbers them (ggml.h, `enum ggml_type`): the name we use as the tensor's
 * dtype, and the block each type packs (elements per block, bytes per block). The size of every type is
 * known so that every tensor's byte range can be checked, even of types we cannot dequantize.
 */
export interface GgmlType {
  name: string;
  blockSize: number;
  blockBytes: number;
}

const TYPES: [number, string, number, number][] = [
  [0, 'F32', 1, 4],
  [1, 'F16', 1, 2],
  [2, 'Q4_0', 32, 18],
  [3, 'Q4_1', 32, 20],
  [6, 'Q5_0', 32, 22],
  [7, 'Q5_1', 32, 24],
  [8, 'Q8_0', 32, 34],
  [9, 'Q8_1', 32, 36],
  [10, 'Q2_K', 256, 84],
  [11, 'Q3_K', 256, 110],
  [12, 'Q4_K', 256, 144],
  [13, 'Q5_K', 256, 176],
  [14, 'Q6_K', 256, 210],
  [15, 'Q8_K', 256, 292],
  [16, 'IQ2_XXS', 256, 66],
  [17, 'IQ2_XS', 256, 74],
  [18, 'IQ3_XXS', 256, 98],
  [19, 'IQ1_S', 256, 50],
  [20, 'IQ4_NL', 32, 18],
  [21, 'IQ3_S', 256, 110],
  [22, 'IQ2_S', 256, 82],
  [23, 'IQ4_XS', 256, 136],
  [24, 'I8', 1, 1],
  [25, 'I16', 1, 2],
  [26, 'I32', 1, 4],
  [27, 'I64', 1, 8],
  [28, 'F64', 1, 8],
  [29, 'IQ1_M', 256, 56],
  [30, 'BF16', 1, 2],
  [34, 'TQ1_0', 256, 54],
  [35, 'TQ2_0', 256, 66],
  [39, 'MXFP4', 32, 17],
];

export const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map(
  TYPES.map(([id, name, blockSize, blockBytes]) => [id, { name, blockSize, blockBytes }]),
);

export const GGML_TYPE_BY_NAME: ReadonlyMap<string, GgmlType & { id: number }> = new Map(
  TYPES.map(([id, name, blockSize, blockBytes]) => [name, { id, name, blockSize, blockBytes }]),
);

/** The block-quantized types we dequantize (gguf-quants.ts); the plain float ones decode as safetensors' do. */
export const DEQUANTIZABLE = new Set(['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']);

export function isQuantizedDType(d: string): boolean {
  return DEQUANTIZABLE.has(d);
}

/** Why a GGUF type cannot be analysed (null: it can). */
export function unsupportedQuantReason(d: string): string | null {
  const t = GGML_TYPE_BY_NAME.get(d);
  if (!t || t.blockSize === 1 || DEQUANTIZABLE.has(d)) return null;
  return `GGUF ${d} quantization is not dequantized here (supported: ${[...DEQUANTIZABLE].join(', ')})`;
}

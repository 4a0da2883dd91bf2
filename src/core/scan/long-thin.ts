import { ScanError } from '../errors.ts';
import { MAX_READ_SLICE, type ByteSource } from '../formats/byte-source.ts';
import { BYTES_PER_ELEMENT, decodeInto, isFloatDType } from '../formats/dtype.ts';
import { DEQUANTIZERS } from '../formats/gguf-quants.ts';
import { GGML_TYPE_BY_NAME, isQuantizedDType } from '../formats/gguf-types.ts';
import { elementCount, type TensorInfo } from '../formats/tensor-info.ts';
import { readInSlices, type TensorReadOptions } from '../formats/tensor-slices.ts';
import type { MatrixJob } from './plan.ts';
import { SpareArrays } from '../formats/spare-arrays.ts';
import { GRAM_ALIGN, gramPartsOf, type GramPart } from '../gram-parts.ts';

/**
 * Which matrices are read slice by slice into their Gram instead of whole: those whose long side is
 * at least `minRatio` times the short one (the Gram, n² f64, is then at most 1/512 of the f32
 * matrix) and whose f32 values take at least `minBytes`. LLM matrices, from 896 × 4864 to a
 * 262144 × 640 vocabulary, stay far below the ratio and keep the whole-matrix path.
 */
export interface LongThinPolicy {
  minRatio: number;
  minBytes: number;
  /** the f32 values of one slice, at most (and never under one aligned step of the long side) */
  sliceBytes: number;
}

export const LONG_THIN: LongThinPolicy = { minRatio: 1024, minBytes: MAX_READ_SLICE, sliceBytes: MAX_READ_SLICE };

/**
 * The CPU engine's policy in exact mode without FARMS: every matrix of more than one slice is read in slices,
 * whatever its shape. The CPU engine sums slices into the very Gram of the whole matrix (the same bits), so only
 * memory changes: a 151936 × 896 embedding holds one 64 MiB slice instead of 545 MB of f32 (and the page faults
 * of touching it). LONG_THIN stays the rule where the whole matrix is needed: the WebGPU engine, fast mode's
 * estimates and FARMS' windows.
 */
export const CPU_SLICED: LongThinPolicy = { minRatio: 1, minBytes: MAX_READ_SLICE, sliceBytes: MAX_READ_SLICE };

/**
 * Whether idle CPU workers may help with this job by summing some of its Gram's parts (scan-pool.ts): an
 * exact-mode job of the CPU engine read in slices (CPU_SLICED, no FARMS windows) with more than one part.
 */
export function splitsOverWorkers(job: MatrixJob, mode: 'exact' | 'fast'): boolean {
  if (mode !== 'exact' || job.farms || job.vector || !isLongThin(job, CPU_SLICED)) return false;
  return gramPartsOf(job.rows, job.cols).length > 1;
}

/** A stored 2-D (or 1-D) tensor read as it is, long and thin enough to be read in slices. */
export function isLongThin(job: MatrixJob, policy: LongThinPolicy = LONG_THIN): boolean {
  if (job.derive) return false;
  const n = Math.min(job.rows, job.cols);
  const k = Math.max(job.rows, job.cols);
  if (n === 0 || elementCount(job.tensor.shape) !== job.rows * job.cols) return false;
  return k >= policy.minRatio * n && n * k * 4 >= policy.minBytes;
}

/** Steps [start, start + length) of the long side: `values` holds n × length (wide) or length × n (tall) f32 values, row-major. */
export interface LongSideSlice {
  values: Float32Array;
  length: number;
  start: number;
}

interface ElementCodec {
  /** elements per unit of bytes (1, or a quantization block) and the bytes of one unit */
  unitElements: number;
  unitBytes: number;
  decode(bytes: Uint8Array, out: Float32Array, at: number): void;
}

function codecOf(info: TensorInfo): ElementCodec {
  const count = elementCount(info.shape);
  const mismatch = (need: number) =>
    new ScanError(
      'SHAPE_BYTE_MISMATCH',
      info.file,
      info.name,
      `shape [${info.shape.join(', ')}] of ${info.dtype} needs ${need} bytes but its byte range holds ${info.byteLength}`,
    );
  const dtype = info.dtype;
  if (isQuantizedDType(dtype)) {
    const type = GGML_TYPE_BY_NAME.get(dtype);
    const dequantize = Object.hasOwn(DEQUANTIZERS, dtype) ? DEQUANTIZERS[dtype] : undefined;
    if (!type || !dequantize) throw new ScanError('UNKNOWN_DTYPE', info.file, info.name, `GGUF type ${dtype} is not dequantized here`);
    if (count % type.blockSize !== 0 || (count / type.blockSize) * type.blockBytes !== info.byteLength)
      throw mismatch((count / type.blockSize) * type.blockBytes);
    return {
      unitElements: type.blockSize,
      unitBytes: type.blockBytes,
      decode: (bytes, out, at) => dequantize(bytes, bytes.byteLength / type.blockBytes, out, at),
    };
  }
  if (!isFloatDType(dtype)) throw new ScanError('UNKNOWN_DTYPE', info.file, info.name, `dtype ${dtype} is not a floating-point weight`);
  const width = BYTES_PER_ELEMENT[dtype];
  if (count * width !== info.byteLength) throw mismatch(count * width);
  return { unitElements: 1, unitBytes: width, decode: (bytes, out, at) => void decodeInto(dtype, bytes, out, at) };
}

/** Steps of the long side per slice: as many as `sliceBytes` of f32 (or of raw bytes, when wider) hold, aligned. */
export function sliceLength(n: number, k: number, bytesPerElement: number, sliceBytes: number): number {
  const steps = Math.floor(sliceBytes / (n * Math.max(4, bytesPerElement)) / GRAM_ALIGN) * GRAM_ALIGN;
  return Math.min(k, Math.max(GRAM_ALIGN, steps));
}

export interface LongSideOptions extends Pick<TensorReadOptions, 'signal' | 'onBytes'> {
  /** f32 bytes per slice (default LONG_THIN.sliceBytes) */
  sliceBytes?: number;
  onSlice?: (values: Float32Array) => void;
  /** these steps of the long side only (one Gram part, core/gram-parts.ts); default all */
  range?: GramPart;
}

/**
 * The tensor's long side in slices (SlicedMatrix's rule: every length but the last a multiple of
 * GRAM_ALIGN), each decoded into one reused f32 buffer: a wide W (rows <= cols) as column slices,
 * one byte range per row, a tall one as row slices, one byte range each. `onSlice` sees each slice
 * before the consumer does. The next slice is read only when the consumer asks for it.
 */
export async function* longSideSlices(
  source: ByteSource,
  info: TensorInfo,
  rows: number,
  cols: number,
  opts: LongSideOptions = {},
): AsyncGenerator<LongSideSlice, void, void> {
  const codec = codecOf(info);
  const wide = rows <= cols;
  const n = wide ? rows : cols;
  const k = wide ? cols : rows;
  if (codec.unitElements > 1 && cols % codec.unitElements !== 0)
    throw new ScanError('SHAPE_INVALID', info.file, info.name, `rows of ${cols} values are not whole ${info.dtype} blocks`);
  const first = opts.range?.start ?? 0;
  const end = opts.range ? first + opts.range.length : k;
  if (first < 0 || end > k || first % GRAM_ALIGN !== 0)
    throw new RangeError(`steps [${first}, ${end}) are not a part of a long side of ${k}`);
  const length = sliceLength(n, end - first, codec.unitBytes / codec.unitElements, opts.sliceBytes ?? LONG_THIN.sliceBytes);
  const buffer = sliceArrays.take(n * length);
  const readOpts: TensorReadOptions = { signal: opts.signal, onBytes: opts.onBytes };
  // elements [first, first + count) of the tensor, as stored, into buffer[at ..]
  const readRange = async (first: number, count: number, at: number) => {
    const part: TensorInfo = {
      ...info,
      begin: info.begin + (first / codec.unitElements) * codec.unitBytes,
      byteLength: (count / codec.unitElements) * codec.unitBytes,
    };
    let done = at;
    await readInSlices(source, part, codec.unitBytes, readOpts, (bytes) => {
      codec.decode(bytes, buffer, done);
      done += (bytes.byteLength / codec.unitBytes) * codec.unitElements;
    });
  };
  try {
    for (let k0 = first; k0 < end; k0 += length) {
      const len = Math.min(length, end - k0);
      if (wide) {
        for (let i = 0; i < n; i++) await readRange(i * cols + k0, len, i * len);
      } else {
        await readRange(k0 * cols, len * cols, 0);
      }
      const values = buffer.subarray(0, n * len);
      opts.onSlice?.(values);
      yield { values, length: len, start: k0 };
    }
  } finally {
    // kept for the next matrix, or the next part of this one: no page faults of a fresh 64 MiB each time
    sliceArrays.give(buffer);
  }
}

/** The f32 slice buffers of this worker's long-side reads. */
const sliceArrays = new SpareArrays<Float32Array>((count) => new Float32Array(count));

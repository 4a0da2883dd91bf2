/**
 * Fuzzing the GGUF reader (seeded; GGUF_FUZZ_CASES, default 10,000): absurd tensor and key counts,
 * string and array lengths that lie, unknown value and tensor types, dims beyond 2^53 elements,
 * offsets beyond the file or off the alignment, overlapping tensors, names listed twice, truncation and bit flips everywhere. Each case ends
 * in a typed error or a header whose tensors then read (dequantized) or fail typed. Cases are built
 * in test-fixtures/builders/gguf-fuzz-cases.ts; the runner is the safetensors suite's.
 */
import { describe, expect, it } from 'vitest';
import { GGUF_FIXED_CASES, randomGgufCase } from '../../../test-fixtures/builders/gguf-fuzz-cases.ts';
import { fuzzSuite, type ReaderUnderTest } from '../../../test-fixtures/builders/fuzz.ts';
import type { ErrorCode } from '../errors.ts';
import { MAX_READ_SLICE } from './byte-source.ts';
import { GGML_TYPE_BY_NAME } from './gguf-types.ts';
import { GGUF_MAX_DIMS, GGUF_MAX_HEADER_BYTES, readGgufHeader, type GgufHeader } from './gguf.ts';
import { elementCount } from './tensor-info.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const CASES = Number(process.env.GGUF_FUZZ_CASES ?? 10_000);

const HEADER_CODES = new Set<ErrorCode>([
  'HEADER_TOO_SHORT',
  'NOT_A_CHECKPOINT',
  'GGUF_INVALID',
  'HEADER_TOO_LARGE',
  'TRUNCATED',
  'UNKNOWN_DTYPE',
  'SHAPE_INVALID',
  'OFFSET_OUT_OF_RANGE',
  'OFFSETS_OVERLAP',
  'OFFSET_MISALIGNED',
  'DUPLICATE_TENSOR',
  'TOO_LARGE',
]);
/** types that are listed (their size is known) but not decoded: integer tensors, IQ and MXFP4 quants */
const READ_CODES = new Set<ErrorCode>(['UNKNOWN_DTYPE']);

const reader: ReaderUnderTest<GgufHeader> = {
  read: readGgufHeader,
  headerCodes: HEADER_CODES,
  readCodes: READ_CODES,
  maxRead: Math.max(GGUF_MAX_HEADER_BYTES, MAX_READ_SLICE),
  broken(_header, t) {
    const type = GGML_TYPE_BY_NAME.get(t.dtype);
    if (!type) return `listed with type ${t.dtype}, which has no known size`;
    if (t.shape.length > GGUF_MAX_DIMS) return `${t.shape.length} dims`;
    const count = elementCount(t.shape);
    return (count / type.blockSize) * type.blockBytes === t.byteLength ? null : `${count} elements of ${t.dtype} ≠ ${t.byteLength} bytes`;
  },
};

describe('GGUF reader under fuzzing', () => {
  it(`ends every one of ${CASES} seeded cases (seed ${SEED}) in a typed error or a valid result, within the limits`, async () => {
    const { tally, seconds, fixedTimes } = await fuzzSuite(reader, GGUF_FIXED_CASES, randomGgufCase, { seed: SEED, cases: CASES });
    console.log(`${tally.summary('GGUF fuzz', seconds)}\n  limit cases: ${fixedTimes.join('; ')}`);
    expect(tally.cases).toBeGreaterThanOrEqual(CASES);
    expect([...HEADER_CODES].filter((code) => !tally.byCode.has(code))).toEqual([]);
    expect(tally.valid).toBeGreaterThan(CASES / 10);
  }, 120_000);
});

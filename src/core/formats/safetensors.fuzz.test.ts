/**
 * Fuzzing the safetensors reader: seeded, FUZZ_CASES cases (default 12,000; FUZZ_SEED picks another
 * run). Each case must end in a typed error (a code, one line, naming file and tensor) or a valid
 * header whose every tensor then reads or fails typed; no read may ask for more bytes than the named
 * limits allow, and no case may read more than its budget (a reader in a loop fails instead of hanging).
 * Cases are built in test-fixtures/builders/safetensors-fuzz-cases.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  check,
  expectTypedError,
  expectTypedRecord,
  fuzzer,
  fuzzSuite,
  Tally,
  virtualSource,
  watchedSource,
  type ReaderUnderTest,
} from '../../../test-fixtures/builders/fuzz.ts';
import { joinSafetensors } from '../../../test-fixtures/builders/safetensors.ts';
import type { ErrorCode } from '../errors.ts';
import { MAX_READ_SLICE, memorySource, type ByteSource } from './byte-source.ts';
import { openCheckpoint } from './checkpoint.ts';
import { BYTES_PER_ELEMENT } from './dtype.ts';
import { MAX_TENSOR_ELEMENTS, readTensorAsF32 } from './read-tensor.ts';
import { MAX_HEADER_BYTES, MAX_TENSOR_RANK, MAX_TENSORS_PER_HEADER, readSafetensorsHeader, type SafetensorsHeader } from './safetensors.ts';
import { FIXED_CASES, randomCase, randomCheckpointCase } from '../../../test-fixtures/builders/safetensors-fuzz-cases.ts';
import { elementCount } from './tensor-info.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const CASES = Number(process.env.FUZZ_CASES ?? 12_000);

const HEADER_CODES = new Set<ErrorCode>([
  'HEADER_TOO_SHORT',
  'HEADER_LENGTH_OUT_OF_RANGE',
  'HEADER_TOO_LARGE',
  'HEADER_INVALID_JSON',
  'HEADER_NOT_OBJECT',
  'TENSOR_ENTRY_INVALID',
  'UNKNOWN_DTYPE',
  'SHAPE_INVALID',
  'SHAPE_BYTE_MISMATCH',
  'OFFSET_OUT_OF_RANGE',
  'OFFSETS_OVERLAP',
  'DUPLICATE_TENSOR',
]);
/** Reading a listed tensor: integer dtypes are not weights; nothing else may fail on a valid header. */
const READ_CODES = new Set<ErrorCode>(['UNKNOWN_DTYPE']);

const reader: ReaderUnderTest<SafetensorsHeader> = {
  read: readSafetensorsHeader,
  headerCodes: HEADER_CODES,
  readCodes: READ_CODES,
  // the header is read at once (at most MAX_HEADER_BYTES); tensors come in slices
  maxRead: Math.max(MAX_HEADER_BYTES, MAX_READ_SLICE),
  broken(header, t) {
    if (header.tensors.length > MAX_TENSORS_PER_HEADER) return `one of ${header.tensors.length} tensors listed`;
    if (t.shape.length > MAX_TENSOR_RANK) return `rank ${t.shape.length}`;
    if (t.begin < header.dataStart) return `begins at ${t.begin}, in the header`;
    const width = BYTES_PER_ELEMENT[t.dtype as keyof typeof BYTES_PER_ELEMENT];
    return elementCount(t.shape) * width === t.byteLength ? null : `shape [${t.shape}] × ${width} bytes ≠ ${t.byteLength}`;
  },
};

describe('safetensors reader under fuzzing', () => {
  it(`ends every one of ${CASES} seeded cases (seed ${SEED}) in a typed error or a valid result, within the limits`, async () => {
    const { tally, seconds, fixedTimes } = await fuzzSuite(reader, FIXED_CASES, randomCase, { seed: SEED, cases: CASES });
    console.log(`${tally.summary('safetensors fuzz', seconds)}\n  limit cases: ${fixedTimes.join('; ')}`);
    expect(tally.cases).toBeGreaterThanOrEqual(CASES);
    // The cases reach every header code: a fuzzer that stopped reaching one has stopped testing it.
    expect([...HEADER_CODES].filter((code) => !tally.byCode.has(code))).toEqual([]);
    expect(tally.valid).toBeGreaterThan(CASES / 10);
  }, 120_000);
});

describe('sharded checkpoints under fuzzing', () => {
  const CHECKPOINT_CASES = Math.ceil(CASES / 12);
  const CODES = new Set<ErrorCode>([...HEADER_CODES, 'MISSING_SHARD', 'MISSING_TENSOR', 'INDEX_INVALID', 'READ_FAILED', 'TOO_LARGE']);

  it(`opens ${CHECKPOINT_CASES} damaged sharded checkpoints: the good shards stay usable, every absent tensor is listed`, async () => {
    const f = fuzzer(SEED + 1);
    const tally = new Tally();
    const started = performance.now();
    for (let i = 0; i < CHECKPOINT_CASES; i++) {
      const c = randomCheckpointCase(f);
      const t0 = performance.now();
      let ckpt;
      try {
        ckpt = await openCheckpoint(c.files.map((x) => memorySource(x.name, x.bytes)));
      } catch (e) {
        // only a set of files with no weights at all may fail as a whole
        tally.code(expectTypedError(e, (e as { file?: string }).file ?? '', new Set<ErrorCode>(['NOT_A_CHECKPOINT'])));
        tally.count(c.note, performance.now() - t0);
        continue;
      }
      tally.valid++;
      for (const e of ckpt.errors) tally.code(expectTypedRecord(e, e.file, CODES));
      const listed = new Set(ckpt.tensors.map((t) => t.name));
      const missing = new Set(ckpt.missing.map((m) => m.name));
      const hasIndex = c.files.some((x) => x.name.endsWith('.index.json'));
      if (hasIndex && c.note !== 'index damaged' && c.note !== 'index not an object') {
        // every tensor the index names is either usable or listed as missing
        for (const name of Object.keys(c.weightMap))
          check(listed.has(name) || missing.has(name), () => `${c.note}: ${name} neither read nor listed missing`);
      }
      // and every missing tensor is explained: an error names it, or its file
      for (const m of ckpt.missing)
        check(
          ckpt.errors.some((e) => e.file === m.file && (e.tensor === undefined || e.tensor === m.name)),
          () => `${c.note}: ${m.name} listed missing from ${m.file} without an error saying why`,
        );
      for (const t of ckpt.tensors) {
        check(!missing.has(t.name), () => `${t.name} both read and missing`);
        const source = ckpt.sources.get(t.file);
        check(source !== undefined, () => `no source for ${t.file}`);
        try {
          await readTensorAsF32(source!, t);
          tally.tensorsRead++;
        } catch (e) {
          tally.code(expectTypedError(e, t.file, READ_CODES));
        }
      }
      tally.count(c.note, performance.now() - t0);
    }
    console.log(tally.summary('sharded checkpoint fuzz', (performance.now() - started) / 1000));
    expect(
      ['MISSING_SHARD', 'MISSING_TENSOR', 'INDEX_INVALID', 'OFFSET_OUT_OF_RANGE', 'DUPLICATE_TENSOR'].filter(
        (code) => !tally.byCode.has(code),
      ),
    ).toEqual([]);
  }, 60_000);
});

describe('named limits hold before any allocation', () => {
  it(`refuses a tensor of more than MAX_TENSOR_ELEMENTS (${MAX_TENSOR_ELEMENTS}) values without reading it`, async () => {
    // a valid header over a 9 GB (virtual) file: the tensor's bytes exist, its f32 copy would be 8 GiB
    const count = MAX_TENSOR_ELEMENTS + 1;
    const head = joinSafetensors({ 'big.weight': { dtype: 'F32', shape: [count], data_offsets: [0, count * 4] } }, new Uint8Array(0));
    const source = watchedSource(virtualSource('big.safetensors', head.byteLength + count * 4, head), MAX_READ_SLICE);
    const h = await readSafetensorsHeader(source);
    expect(h.tensors).toHaveLength(1);
    const before = source.log.total;
    await expect(readTensorAsF32(source, h.tensors[0])).rejects.toMatchObject({ code: 'TOO_LARGE', tensor: 'big.weight' });
    expect(source.log.total).toBe(before);
  });

  it("refuses a TensorInfo whose shape and byte range disagree (another format's reader, or a bug)", async () => {
    const source = memorySource('m.safetensors', new Uint8Array(64));
    const info = { name: 't.weight', dtype: 'F32', shape: [4, 4], file: 'm.safetensors', begin: 0, byteLength: 32 };
    await expect(readTensorAsF32(source, info)).rejects.toMatchObject({ code: 'SHAPE_BYTE_MISMATCH', tensor: 't.weight' });
    await expect(readTensorAsF32(source, { ...info, shape: [2, 2], byteLength: 64 })).rejects.toMatchObject({
      code: 'SHAPE_BYTE_MISMATCH',
    });
  });

  it('turns a source that fails (a file changed or removed since it was picked) into READ_FAILED', async () => {
    const failing: ByteSource = {
      name: 'gone.safetensors',
      size: 100,
      read: () => Promise.reject(new DOMException('The file could not be read', 'NotReadableError')),
    };
    await expect(readSafetensorsHeader(failing)).rejects.toMatchObject({
      code: 'READ_FAILED',
      message: expect.stringMatching(/^gone\.safetensors: could not read the header/),
    });
  });
});

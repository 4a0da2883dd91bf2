/**
 * Tools for fuzzing the format readers: a seeded generator, byte mutators, byte sources that
 * watch what a reader asks for, and the check that every failure is a typed, one-line ScanError.
 * Shared by the safetensors and GGUF fuzz suites.
 */
import { oneLineText, ScanError, type ErrorCode, type ErrorRecord } from '../../src/core/errors.ts';
import { memorySource, type ByteSource } from '../../src/core/formats/byte-source.ts';
import { countNonFinite, readTensorAsF32 } from '../../src/core/formats/read-tensor.ts';
import type { TensorInfo } from '../../src/core/formats/tensor-info.ts';
import { rng } from './safetensors.ts';

export interface Fuzz {
  /** uniform in [0, 1) */
  next(): number;
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Uint8Array;
}

export function fuzzer(seed: number): Fuzz {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r.uniform() * (hi - lo + 1));
  return {
    next: r.uniform,
    int,
    pick: (items) => items[int(0, items.length - 1)],
    chance: (p) => r.uniform() < p,
    bytes: (n) => Uint8Array.from({ length: n }, () => int(0, 255)),
  };
}

export function flipBits(f: Fuzz, bytes: Uint8Array, count: number, lo = 0, hi = bytes.byteLength): Uint8Array {
  const out = bytes.slice();
  if (hi <= lo) return out;
  for (let i = 0; i < count; i++) out[f.int(lo, hi - 1)] ^= 1 << f.int(0, 7);
  return out;
}

/** Overwrite, insert or delete a short run of random bytes. */
export function spliceBytes(f: Fuzz, bytes: Uint8Array): Uint8Array {
  const at = f.int(0, bytes.byteLength);
  const del = f.int(0, Math.min(16, bytes.byteLength - at));
  const ins = f.bytes(f.int(0, 16));
  const out = new Uint8Array(bytes.byteLength - del + ins.byteLength);
  out.set(bytes.subarray(0, at));
  out.set(ins, at);
  out.set(bytes.subarray(at + del), at + ins.byteLength);
  return out;
}

/** A reader asked for more than a limit allows: the fuzz case fails. */
export class LimitBreach extends Error {
  override readonly name = 'LimitBreach';
}

/** A cheap assertion for hot loops (vitest's expect costs tens of microseconds a call). */
export function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/** What a reader asked of a source: the largest single read, the sum of all reads, and how many. */
export interface ReadLog {
  largest: number;
  total: number;
  reads: number;
  /** the first read past the limit (kept here too: a reader may wrap the error it gets) */
  breach?: string;
}

/**
 * A source that fails the test when a reader asks for more than `maxRead` bytes at once (the
 * allocation a hostile length field could force) or more than `maxTotal` bytes in all (a reader
 * going round in circles: the hang shows up as a breach, not as a test that never ends), and logs every read.
 */
export function watchedSource(inner: ByteSource, maxRead: number, maxTotal = Infinity): ByteSource & { log: ReadLog } {
  const log: ReadLog = { largest: 0, total: 0, reads: 0 };
  return {
    name: inner.name,
    size: inner.size,
    log,
    async read(offset, length) {
      // a plain throw, not expect(): this runs millions of times, and the reader must not catch it as its own
      if (length > maxRead) {
        log.breach ??= `a read of ${length} bytes at ${offset} of ${inner.name}, more than ${maxRead}`;
        throw new LimitBreach(log.breach);
      }
      if (log.total + length > maxTotal) {
        log.breach ??= `reads of ${log.total + length} bytes in all from ${inner.name}, more than ${maxTotal}`;
        throw new LimitBreach(log.breach);
      }
      log.largest = Math.max(log.largest, length);
      log.total += length;
      log.reads++;
      return inner.read(offset, length);
    },
  };
}

/**
 * A file that exists only as a size and a rule for its bytes: the length field of a 100 MB header,
 * or a multi-gigabyte file, without the memory. `prefix` holds the first bytes; the rest is `fill`.
 */
export function virtualSource(name: string, size: number, prefix: Uint8Array, fill = 0x20): ByteSource {
  return {
    name,
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size)
        throw new RangeError(`read of ${length} bytes at ${offset} is beyond the end (${size} bytes)`);
      const out = new Uint8Array(length).fill(fill);
      if (offset < prefix.byteLength) out.set(prefix.subarray(offset, Math.min(prefix.byteLength, offset + length)));
      return out;
    },
  };
}

/** A typed error record: a code the reader may give, one line, naming the file and the tensor. */
export function expectTypedRecord(e: ErrorRecord, file: string, codes: ReadonlySet<ErrorCode>): ErrorCode {
  const where = () => `${e.code}: ${e.message.slice(0, 200)}`;
  check(codes.has(e.code), () => `unexpected code ${where()}`);
  check(!/[\n\r\v\f\u0085\u2028\u2029]/.test(e.message), () => `message of more than one line: ${where()}`);
  check(e.file === file && e.message.startsWith(`${file}: `), () => `message does not name the file ${file}: ${where()}`);
  if (e.tensor !== undefined)
    check(e.message.startsWith(`${file}: tensor "${oneLineText(e.tensor)}": `), () => `message does not name the tensor: ${where()}`);
  return e.code;
}

/** A thrown value must be a ScanError (never a RangeError, a TypeError or a string). */
export function expectTypedError(e: unknown, file: string, codes: ReadonlySet<ErrorCode>): ErrorCode {
  if (!(e instanceof ScanError))
    throw new Error(`expected a ScanError, got ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}` : String(e).slice(0, 300)}`);
  return expectTypedRecord(e.toRecord(), file, codes);
}

/** Counts of outcomes by kind of case and by error code, printed at the end of a fuzz run. */
export class Tally {
  readonly byKind = new Map<string, number>();
  readonly byCode = new Map<string, number>();
  cases = 0;
  valid = 0;
  tensorsRead = 0;
  slowest = { kind: '', ms: 0 };

  count(kind: string, ms: number): void {
    this.cases++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    if (ms > this.slowest.ms) this.slowest = { kind, ms };
  }
  code(code: string): void {
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
  }
  summary(label: string, seconds: number): string {
    const codes = [...this.byCode.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    const kinds = [...this.byKind.entries()].map(([k, n]) => `${k} ${n}`).join(', ');
    return `${label}: ${this.cases} cases in ${seconds.toFixed(1)} s (${this.valid} opened without a fatal error, ${this.tensorsRead} tensors read), ${this.byCode.size} distinct error codes: ${codes}\n  cases by kind: ${kinds}\n  slowest case: ${this.slowest.kind}, ${this.slowest.ms.toFixed(0)} ms`;
  }
}

/** One fuzz case: bytes in memory, or a source that only claims a size (a 100 MB header, a 9 GB file). */
export interface FuzzCase {
  kind: string;
  note?: string;
  file: string;
  bytes?: Uint8Array;
  source?: ByteSource;
  /** limit cases say what must happen: the header refused with this code, a tensor given it, or 'valid' */
  expect?: ErrorCode | 'valid';
  /** the bytes the case may read in all (by default readBudget): a header refused from its length field alone reads only that */
  maxBytesRead?: number;
  /** how many reads the case may make: a large header comes in a few large reads, not one per field */
  maxReads?: number;
}

/**
 * A case may read each byte of its file at most twice (the header once, each tensor, which never overlap,
 * once, and a second pass to spare). A reader stuck in a loop breaks this budget long before any timeout.
 */
export const readBudget = (c: FuzzCase) => c.maxBytesRead ?? 2 * (c.source?.size ?? c.bytes!.byteLength);

export interface ReaderUnderTest<H extends { tensors: TensorInfo[]; errors: ErrorRecord[] }> {
  read(source: ByteSource): Promise<H>;
  /** codes a header may fail with, or give per tensor */
  headerCodes: ReadonlySet<ErrorCode>;
  /** codes reading a listed tensor may give (a type that is listed but not decoded) */
  readCodes: ReadonlySet<ErrorCode>;
  /** the largest single read allowed (the header limit, or the read slice) */
  maxRead: number;
  /** what the format promises of a tensor it lists; a message when it does not hold */
  broken(header: H, t: TensorInfo, fileSize: number): string | null;
}

/** Headers with more tensors than this have a sample read (the first and last thousand): the rest repeat. */
const READ_SAMPLE = 2_000;

/**
 * Runs one case: the header read ends in a typed error, or in a header whose every error is typed,
 * whose tensors are distinct, inside the file, not overlapping, and as the format promises; each
 * listed tensor then reads (in small odd slices) or fails typed. No read may pass `maxRead`.
 */
export async function runFuzzCase<H extends { tensors: TensorInfo[]; errors: ErrorRecord[] }>(
  c: FuzzCase,
  r: ReaderUnderTest<H>,
  tally: Tally,
): Promise<void> {
  const source = watchedSource(c.source ?? memorySource(c.file, c.bytes!), r.maxRead, readBudget(c));
  try {
    let header: H;
    try {
      header = await r.read(source);
    } catch (e) {
      const code = expectTypedError(e, c.file, r.headerCodes);
      tally.code(code);
      check(c.expect === undefined || c.expect === code, () => `refused with ${code}, expected ${c.expect}`);
      return;
    }
    tally.valid++;
    for (const err of header.errors) tally.code(expectTypedRecord(err, c.file, r.headerCodes));
    if (c.expect === 'valid')
      check(header.errors.length === 0, () => `expected a valid header, got ${header.errors[0].message.slice(0, 200)}`);
    else if (c.expect !== undefined)
      check(
        header.errors.some((e) => e.code === c.expect),
        () => `expected ${c.expect}, the header was read with ${header.errors.length} errors`,
      );
    const { tensors } = header;
    check(new Set(tensors.map((t) => t.name)).size === tensors.length, () => 'a tensor name listed twice');
    const ranges = tensors
      .filter((t) => t.byteLength > 0)
      .map((t) => [t.begin, t.begin + t.byteLength])
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++)
      check(ranges[i - 1][1] <= ranges[i][0], () => `byte ranges overlap: ${ranges[i - 1]} and ${ranges[i]}`);
    const sample = tensors.length <= READ_SAMPLE ? tensors : [...tensors.slice(0, READ_SAMPLE / 2), ...tensors.slice(-READ_SAMPLE / 2)];
    for (const t of sample) {
      check(
        t.begin >= 0 && t.begin + t.byteLength <= source.size,
        () => `tensor "${t.name}" [${t.begin}, +${t.byteLength}) outside the file`,
      );
      const why = r.broken(header, t, source.size);
      check(why === null, () => `tensor "${t.name}": ${why}`);
      try {
        // small, odd slices: every slice boundary and unaligned offset gets exercised
        const values = await readTensorAsF32(source, t, { sliceBytes: 1 + (t.byteLength % 61) });
        check(values.length === t.shape.reduce((a, b) => a * b, 1), () => `tensor "${t.name}" read as ${values.length} values`);
        countNonFinite(values);
        tally.tensorsRead++;
      } catch (e) {
        tally.code(expectTypedError(e, c.file, r.readCodes));
      }
    }
  } finally {
    check(source.log.breach === undefined, () => source.log.breach!);
    check(
      c.maxReads === undefined || source.log.reads <= c.maxReads,
      () => `${source.log.reads} reads, more than ${c.maxReads}: one per field instead of a few large ones`,
    );
  }
}

/**
 * The fixed cases, then random ones up to `cases`. Each is timed for the printed summary only: how long a
 * case takes is the machine's business; a case that never ends breaks its read budget or the test's timeout.
 */
export async function fuzzSuite<H extends { tensors: TensorInfo[]; errors: ErrorRecord[] }>(
  reader: ReaderUnderTest<H>,
  fixed: readonly (() => FuzzCase)[],
  random: (f: Fuzz) => FuzzCase,
  opts: { seed: number; cases: number },
): Promise<{ tally: Tally; seconds: number; fixedTimes: string[] }> {
  const tally = new Tally();
  const f = fuzzer(opts.seed);
  const started = performance.now();
  const timed = async (c: FuzzCase) => {
    const t0 = performance.now();
    try {
      await runFuzzCase(c, reader, tally);
    } catch (e) {
      throw new Error(`case "${c.kind}" (${c.note ?? ''}) failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const ms = performance.now() - t0;
    tally.count(c.kind, ms);
    return ms;
  };
  const fixedTimes: string[] = [];
  for (const make of fixed) {
    const c = make();
    fixedTimes.push(`${c.note} ${(await timed(c)).toFixed(0)} ms`);
  }
  while (tally.cases < opts.cases) await timed(random(f));
  return { tally, seconds: (performance.now() - started) / 1000, fixedTimes };
}

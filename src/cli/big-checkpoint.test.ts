/**
 * Bounded memory on a big model: a sparse 29.5 GB (27.5 GiB) Qwen2.5-14B checkpoint — 8
 * shards, index and config, 579 tensors — of which the CLI reads every header and the byte ranges
 * of the matrices it is asked for, and nothing else.
 *
 * The default subset is layers 0 and 47's k_proj / v_proj (1024 × 5120) and norms: seconds on 2 cores.
 * `SW_BIG_ONLY='layers\.(0|47)\.' npx vitest run src/cli/big-checkpoint.test.ts` scans every matrix
 * of both layers (q/o 5120², MLP 5120 × 13824: ~5 minutes on 2 cores), with the same bounds.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allocatedBytes,
  qwen25_14b,
  QWEN25_14B_CONFIG,
  writeSparseCheckpoint,
  type SparseCheckpoint,
} from '../../test-fixtures/builders/sparse.ts';

const root = join(import.meta.dirname, '../..');
const ONLY = process.env.SW_BIG_ONLY ?? String.raw`layers\.(0|47)\.(self_attn\.[kv]_proj|input_layernorm|post_attention_layernorm)\.`;
/** The bound. A 5120 × 13824 matrix is 283 MB as f32 plus a 210 MB Gram: two workers fit. */
const PEAK_RSS_LIMIT_MIB = 2048;
/** Everything the process may read besides the scanned tensors: headers, index, config, its own modules. */
const OTHER_READS_LIMIT_MIB = 256;

describe('a sparse 29.5 GB checkpoint with Qwen2.5-14B shapes', () => {
  const only = new RegExp(ONLY);
  let tmp: string;
  let ckpt: SparseCheckpoint;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sw-big-'));
    // real values only where the scan looks, so that its matrices are not all zero
    ckpt = writeSparseCheckpoint(join(tmp, 'qwen2.5-14b'), qwen25_14b(), {
      shards: 8,
      fill: (t) => only.test(t.name),
      config: QWEN25_14B_CONFIG,
    });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(`scans --only '${ONLY}' and reads all 8 headers with peak RSS under ${PEAK_RSS_LIMIT_MIB} MiB, reading only those byte ranges`, async () => {
    expect(ckpt.size).toBeGreaterThan(29e9);
    const onDisk = ckpt.files.reduce((a, f) => a + allocatedBytes(f.path), 0);
    // A file system without sparse files would hold all 29.5 GB: the point of the test would be lost.
    expect(onDisk, 'bytes allocated on disk').toBeLessThan(2e9);

    const out = join(tmp, 'out');
    const args = [
      join(root, 'bin/spectral-workbench.js'),
      'scan',
      ckpt.dir,
      '--out',
      out,
      '--only',
      ONLY,
      '--threads',
      '2',
      '--report-memory',
    ];
    const { code, stderr } = await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 64 * 2 ** 20 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(code, stderr).toBe(0);

    const expected = qwen25_14b().filter((t) => only.test(t.name) && t.name.endsWith('.weight'));
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    // every tensor the index names was found in the shard headers, none failed
    expect(metrics.missing).toEqual([]);
    expect(metrics.errors).toEqual([]);
    expect(metrics.matrices.map((m: { name: string }) => m.name).sort()).toEqual(expected.map((t) => t.name).sort());
    for (const m of metrics.matrices) {
      expect(m.status, m.name).toBe('ok');
      expect(m.sigma_max, m.name).toBeGreaterThan(0);
    }

    const memory = /memory: peak RSS (\d+) MiB[^;\n]*(?:; read ([\d.]+) MiB from files)?/.exec(stderr);
    expect(memory, stderr).not.toBeNull();
    const peakMiB = Number(memory![1]);
    const scannedMiB = expected.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * 2, 0) / 2 ** 20;
    console.log(
      `29.5 GB checkpoint, ${expected.length} tensors scanned (${scannedMiB.toFixed(1)} MiB of weights): peak RSS ${peakMiB} MiB, read ${memory![2] ?? '?'} MiB`,
    );
    expect(peakMiB).toBeLessThan(PEAK_RSS_LIMIT_MIB);
    if (process.platform === 'linux') {
      expect(memory![2], 'bytes read (Linux /proc/self/io)').toBeDefined();
      expect(Number(memory![2])).toBeLessThan(scannedMiB + OTHER_READS_LIMIT_MIB);
    }
  }, 900_000);
});

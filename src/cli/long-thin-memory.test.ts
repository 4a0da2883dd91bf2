/**
 * Bounded memory on a long thin matrix: a sparse 800 MB file holding one 4 × 5e7 F32 tensor is
 * scanned by the CLI with its peak resident memory no more than a few slices above that of a scan of
 * a 4 × 1024 matrix. Read whole, the matrix alone would add 800 MB (as f32) on top of its raw bytes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_READ_SLICE } from '../core/formats/byte-source.ts';
import { LONG_THIN } from '../core/scan/long-thin.ts';
import { allocatedBytes, writeSparseSafetensors } from '../../test-fixtures/builders/sparse.ts';

const root = join(import.meta.dirname, '../..');
const NAME = 'model.layers.0.mlp.down_proj.weight';
const LONG = 50_000_000;
const MiB = 2 ** 20;

async function scanPeakMiB(file: string, out: string): Promise<{ peakMiB: number; metrics: { matrices: { sigma_max: number }[] } }> {
  const args = [
    join(root, 'bin/spectral-workbench.js'),
    'scan',
    file,
    '--out',
    out,
    '--engine',
    'cpu',
    '--threads',
    '1',
    '--report-memory',
  ];
  const { code, stderr } = await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 16 * MiB }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
  expect(code, stderr).toBe(0);
  const memory = /memory: peak RSS (\d+) MiB/.exec(stderr);
  expect(memory, stderr).not.toBeNull();
  return { peakMiB: Number(memory![1]), metrics: JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) };
}

describe('a sparse 800 MB file with one 4 × 5e7 F32 matrix', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sw-long-thin-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is scanned with peak RSS within a few slices of a tiny matrix scan, never the whole matrix', async () => {
    const big = writeSparseSafetensors(join(tmp, 'long.safetensors'), [{ name: NAME, dtype: 'F32', shape: [4, LONG] }], () => false);
    const small = writeSparseSafetensors(join(tmp, 'small.safetensors'), [{ name: NAME, dtype: 'F32', shape: [4, 1024] }], () => true);
    expect(big.size).toBeGreaterThan(8e8);
    expect(allocatedBytes(big.path), 'a file system without sparse files').toBeLessThan(1e8);

    const baseline = await scanPeakMiB(small.path, join(tmp, 'out-small'));
    const long = await scanPeakMiB(big.path, join(tmp, 'out-long'));
    expect(long.metrics.matrices).toHaveLength(1);
    expect(long.metrics.matrices[0].sigma_max).toBe(0); // unwritten bytes read as zeros
    expect(baseline.metrics.matrices[0].sigma_max).toBeGreaterThan(0);

    // What the sliced path holds besides a small scan: one f32 slice and the raw bytes of one read
    // (each at most MAX_READ_SLICE), the 4 × 4 Gram; allow twice that again for garbage not yet collected.
    const boundMiB = (4 * Math.max(LONG_THIN.sliceBytes, MAX_READ_SLICE)) / MiB;
    const wholeMiB = (4 * LONG * 4) / MiB;
    console.log(`4 × 5e7 F32 (${wholeMiB.toFixed(0)} MiB as f32): peak RSS ${long.peakMiB} MiB; a 4 × 1024 scan ${baseline.peakMiB} MiB`);
    expect(long.peakMiB - baseline.peakMiB).toBeLessThan(boundMiB);
    expect(boundMiB).toBeLessThan(wholeMiB / 2);
  }, 300_000);
});

/**
 * A checkpoint rewritten in place while it is scanned (a trainer saving over it): the matrices read
 * before the change are analysed from the first file's bytes, every one read after fails with
 * FILE_CHANGED naming the file and the tensor, and the exit code says so; no matrix mixes the two.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { readTensorAsF32 } from '../core/formats/read-tensor.ts';
import { fileSource, fileSourceOfRef } from './file-source.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const tmp = mkdtempSync(join(tmpdir(), 'sw-file-changed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MATRICES = 24;
const SIZE = 384;
const names = Array.from({ length: MATRICES }, (_, i) => `model.layers.${i}.mlp.down_proj.weight`);
/** The same layout at another scale: a matrix read across the change would show it in its norm. */
const model = (scale: number, seed: number) => names.map((_, i) => gaussianMatrix(SIZE, SIZE, seed + i, scale));
const build = (weights: Float32Array[]) =>
  buildSafetensors(names.map((name, i) => ({ name, dtype: 'F32', shape: [SIZE, SIZE], values: weights[i] })));
/** ‖W‖_F in float64, summed here from the values written. */
const frobenius = (w: Float32Array) => Math.sqrt(w.reduce((s, x) => s + x * x, 0));

interface Metrics {
  matrices: { name: string; frobenius: number }[];
  errors: { code: string; file: string; tensor?: string; message: string }[];
}

describe('a checkpoint rewritten in place during a scan', () => {
  it('keeps what was read before the change, fails the rest with FILE_CHANGED, and exits 2', async () => {
    const first = model(0.05, 1);
    const second = model(0.5, 1001);
    const path = join(tmp, 'model.safetensors');
    writeFileSync(path, build(first));
    const out = join(tmp, 'out');
    const child = spawn(process.execPath, [bin, 'scan', path, '--out', out, '--threads', '1', '--model-name', 'm'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let rewritten = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      // The first progress line comes once the first matrix's bytes are read (and found unchanged):
      // rewrite the file in place now (same inode, same size), while the worker holds it open.
      if (!rewritten && /\[\s*\d+\/\d+\]/.test(stderr)) {
        rewritten = true;
        writeFileSync(path, build(second));
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(rewritten, stderr).toBe(true);
    expect(code, stderr).toBe(2);

    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Metrics;
    const changed = metrics.errors.filter((e) => e.code === 'FILE_CHANGED');
    expect(changed.length, stderr).toBeGreaterThan(0);
    expect(
      metrics.matrices.map((m) => m.name),
      stderr,
    ).toContain(names[0]);
    // every matrix is either analysed from the first file's bytes or failed with FILE_CHANGED
    expect([...metrics.matrices.map((m) => m.name), ...changed.map((e) => e.tensor)].sort()).toEqual([...names].sort());
    for (const m of metrics.matrices) {
      const i = names.indexOf(m.name);
      expect(Math.abs(m.frobenius / frobenius(first[i]) - 1), m.name).toBeLessThan(1e-6);
    }
    for (const e of changed) {
      expect(e.file).toBe('model.safetensors');
      expect(e.message.startsWith(`model.safetensors: tensor "${e.tensor}": changed on disk during the scan (`)).toBe(true);
      expect(stderr).toContain(`error: ${e.message}\n`);
      expect(e.message).not.toMatch(/\n/);
    }
  });
});

describe('fileSource', () => {
  it('reads a tensor whole before the file is rewritten, and fails reads after with FILE_CHANGED naming the tensor', async () => {
    const first = model(0.05, 7).slice(0, 3);
    const write = (w: Float32Array[]) =>
      buildSafetensors(w.map((values, i) => ({ name: names[i], dtype: 'F32', shape: [SIZE, SIZE], values })));
    const path = join(tmp, 'direct.safetensors');
    writeFileSync(path, write(first));
    const source = await fileSource(path);
    const [a, b] = (await openCheckpoint([source])).tensors;
    expect(Array.from(await readTensorAsF32(source, a))).toEqual(Array.from(first[0]));
    // same size, same layout, other values; a later modified time (the clock may not have moved since the first write)
    writeFileSync(path, write(model(0.5, 77).slice(0, 3)));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    for (const t of [b, a]) {
      const failure = await readTensorAsF32(source, t).then(
        () => null,
        (e: unknown) => e,
      );
      expect(failure, t.name).toMatchObject({ code: 'FILE_CHANGED', file: 'direct.safetensors', tensor: t.name });
      expect((failure as Error).message).toMatch(
        new RegExp(`^direct\\.safetensors: tensor "${t.name.replace(/\./g, '\\.')}": changed on disk during the scan \\(`),
      );
    }
    await expect(source.checkUnchanged()).rejects.toMatchObject({ code: 'FILE_CHANGED', file: 'direct.safetensors' });
    await source.close?.();
  });

  it('says whether the file at its path is still the one it opened: untouched, replaced, removed', async () => {
    const path = join(tmp, 'replaced.safetensors');
    const bytes = build(model(0.05, 9));
    writeFileSync(path, bytes);
    const source = await fileSource(path);
    await expect(source.checkUnchanged()).resolves.toBeUndefined();
    // another file with the same bytes renamed over it (as a writer that saves to a temporary file does)
    writeFileSync(`${path}.new`, bytes);
    renameSync(`${path}.new`, path);
    await expect(source.checkUnchanged()).rejects.toMatchObject({ code: 'FILE_CHANGED', file: 'replaced.safetensors' });
    rmSync(path);
    await expect(source.checkUnchanged()).rejects.toMatchObject({ code: 'FILE_CHANGED', file: 'replaced.safetensors' });
  });

  it('a worker that opens the file after it was rewritten (between the header read and its first read) fails with FILE_CHANGED', async () => {
    const path = join(tmp, 'before-open.safetensors');
    writeFileSync(path, build(model(0.05, 11)));
    const header = await fileSource(path);
    const [t] = (await openCheckpoint([header])).tensors;
    // the same layout with other values, written before any worker opened the file
    writeFileSync(path, build(model(0.5, 111)));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const worker = await fileSourceOfRef(header.ref);
    await expect(readTensorAsF32(worker, t)).rejects.toMatchObject({
      code: 'FILE_CHANGED',
      file: 'before-open.safetensors',
      tensor: t.name,
    });
    // a ref of the file as it is now reads it
    const now = await fileSourceOfRef((await fileSource(path)).ref);
    expect((await readTensorAsF32(now, t)).length).toBe(SIZE * SIZE);
    await Promise.all([header, worker, now].map((x) => x.close?.()));
  });
});

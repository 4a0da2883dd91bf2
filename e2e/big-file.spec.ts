import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { writeSparseSafetensors, type SparseTensor } from '../test-fixtures/builders/sparse.ts';
import { expectGrid, tmp, waitForScan } from './helpers.ts';
import { MemorySampler, type ProcessSample } from './memory.ts';

/**
 * The browser reader on a 5 GB file. The page has no "scan a subset" control, so the file
 * is one whose analysable matrices are a subset of its bytes, as in a MoE checkpoint: 5 GiB of
 * 3-D expert tensors (listed in the header, skipped by the plan, never read) between 2-D matrices
 * spread from the first to the last gigabyte, the largest a 64 × 1,048,576 bf16 matrix
 * (128 MiB on disk, 256 MiB as the f32 the engine takes). Created sparse: it costs ~140 MB of disk.
 */
const LARGEST_F32_MIB = 256;
/**
 * The bound on the tab's growth while it scans: the largest matrix as f32 in each of the two
 * workers (the page runs one per core, at most 4, and this machine has 2), its bytes in flight as
 * one 64 MiB slice, plus as much again for what the engine and the allocator keep — 4 × the largest
 * matrix. Holding the file, or any 1.25 GiB expert tensor, would break it; reading all of it in one
 * piece would be 5 GB.
 */
const GROWTH_LIMIT_MIB = 4 * LARGEST_F32_MIB;

function moeFile(): SparseTensor[] {
  const t = (name: string, ...shape: number[]): SparseTensor => ({ name, dtype: 'BF16', shape });
  const out: SparseTensor[] = [];
  for (let layer = 0; layer < 4; layer++) {
    const p = `model.layers.${layer}`;
    out.push(
      t(`${p}.self_attn.q_proj.weight`, 256, 256),
      t(`${p}.self_attn.k_proj.weight`, 64, 256),
      t(`${p}.self_attn.v_proj.weight`, 64, 256),
      t(`${p}.self_attn.o_proj.weight`, 256, 256),
    );
    out.push(t(`${p}.mlp.experts.weight`, 10, 8192, 8192)); // 1.25 GiB, 3-D: listed, not analysed
  }
  out.push(t('model.layers.3.mlp.down_proj.weight', 64, 1 << 20)); // at the far end of the file
  return out;
}

test('a 5 GB file: its header and analysed byte ranges are read, and the tab grows by at most 4 × its largest matrix', async ({
  page,
  browser,
}, info) => {
  test.skip(process.platform !== 'linux', 'reads process memory from /proc');
  test.setTimeout(300_000);
  const dir = tmp();
  try {
    const path = join(dir, 'moe-5gb.safetensors');
    const file = writeSparseSafetensors(path, moeFile(), (x) => x.shape.length === 2);
    expect(file.size).toBeGreaterThan(5e9);

    await page.goto('/');
    await waitForScan(page, 'phase3-15pct'); // the demo is done: what follows is this file's alone
    const sampler = new MemorySampler(browser);
    const baseline = await sampler.start();
    await page.getByTestId('file-input').setInputFiles(path);
    await expect(page.getByRole('tab', { name: /moe-5gb/ })).toHaveAttribute('aria-selected', 'true');
    await sampler.refresh();
    await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 240_000 });
    const peaks = sampler.stop();

    await expectGrid(page, 5, 4);
    await expect(page.locator('.progress')).toContainText('17 / 17 matrices');
    const problems = page.getByRole('region', { name: 'Problems and skipped tensors' });
    await expect(problems).toContainText('4 skipped tensors');

    const growth = (s: ProcessSample) => s.rssMiB - (baseline.get(s.pid)?.rssMiB ?? 0);
    const lines = [...peaks.values()].map(
      (s) =>
        `${s.type} ${s.pid}: ${(baseline.get(s.pid)?.rssMiB ?? 0).toFixed(0)} → peak ${s.rssMiB.toFixed(0)} MiB (+${growth(s).toFixed(0)})`,
    );
    info.annotations.push({ type: 'memory while scanning the 5 GB file', description: lines.join('; ') });
    console.log(`5 GB file (${(file.size / 1e9).toFixed(2)} GB): ${lines.join('; ')}`);
    const renderers = [...peaks.values()].filter((s) => s.type === 'renderer');
    expect(renderers.length).toBeGreaterThan(0);
    for (const r of renderers) expect(growth(r), `renderer ${r.pid}`).toBeLessThan(GROWTH_LIMIT_MIB);
    // and no other process (the browser process serves the file's slices) holds it either
    for (const s of peaks.values()) expect(growth(s), `${s.type} ${s.pid}`).toBeLessThan(GROWTH_LIMIT_MIB);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

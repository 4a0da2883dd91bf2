import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { buildSafetensors, gaussianMatrix, type FixtureTensor } from '../test-fixtures/builders/safetensors.ts';
import { expectGrid, root, tmp, waitForScan } from './helpers.ts';

const SELECTED = '#2f9e44';
const NOT_SELECTED = '#d9480f';

/** Pixels of the heatmap canvas painted exactly in a colour. */
function countColour(page: Page, hex: string): Promise<number> {
  return page.locator('.checkpoint-view canvas[role="grid"]').evaluate((canvas: HTMLCanvasElement, hex) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) n++;
    return n;
  }, hex);
}

const MODULES = [0, 1].flatMap((l) => [`model.layers.${l}.self_attn.q_proj`, `model.layers.${l}.self_attn.v_proj`]);
const [OUT, IN, R] = [24, 32, 8];

/**
 * A rank-8 adapter (alpha 16, so alpha/r = 2) whose ΔW has known singular values: A's rows are unit
 * vectors, B's column i is b_i times unit vector i, so σ = 2·b. With b ∝ 4, 2, 1, 0.5, 0.25 the energy
 * Σσ² ∝ 16 + 4 + 1 + 0.25 + 0.0625 = 21.3125: 90% is kept by 2 σ, 95% by 3 (21 ≥ 20.25), 99% by 4.
 */
function writeAdapter(dir: string): string[] {
  const tensors: FixtureTensor[] = [];
  MODULES.forEach((module, k) => {
    const a = new Float32Array(R * IN);
    const b = new Float32Array(OUT * R);
    [4, 2, 1, 0.5, 0.25].forEach((v, i) => {
      a[i * IN + i] = 1;
      b[i * R + i] = v * (k + 1);
    });
    tensors.push({ name: `base_model.model.${module}.lora_A.weight`, dtype: 'F32', shape: [R, IN], values: a });
    tensors.push({ name: `base_model.model.${module}.lora_B.weight`, dtype: 'F32', shape: [OUT, R], values: b });
  });
  const files = [join(dir, 'adapter_model.safetensors'), join(dir, 'adapter_config.json')];
  writeFileSync(files[0], buildSafetensors(tensors));
  writeFileSync(files[1], JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] }));
  return files;
}

async function openAdapter(page: Page, files: string[]) {
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByTestId('file-input').setInputFiles(files);
  await expect(page.getByRole('tab', { name: /adapter_model/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 150_000 });
}

test.describe('a LoRA adapter', () => {
  test('alone: the page opens on its ΔW metrics, says why Spectrum’s selection is off, and the detail gives the ranks it uses', async ({
    page,
  }, info) => {
    test.setTimeout(180_000);
    await openAdapter(page, writeAdapter(tmp()));
    const canvas = await expectGrid(page, 2, 2);
    const off = page.getByTestId('adapter-spectrum-off');
    await expect(off).toBeVisible();
    await expect(off).toContainText("Spectrum's selection is off for an adapter alone");
    const summary = page.getByRole('region', { name: 'LoRA adapter' });
    await expect(summary).toContainText('This adapter uses 3 of its 8 ranks for 95% of its energy');
    await expect(summary.getByRole('row', { name: /^self_attn\.q_proj/ })).toContainText('2 · 3 · 4 of r = 8');
    // no red "not selected" cells, no Spectrum YAML panel, no percent: the ΔW metric colours the grid
    expect(await countColour(page, NOT_SELECTED)).toBe(0);
    expect(await countColour(page, SELECTED)).toBe(0);
    await expect(page.getByRole('region', { name: 'Selected layers' })).toHaveCount(0);
    await expect(page.getByLabel('Percent selected', { exact: true })).toHaveCount(0);
    await expect(page.getByRole('toolbar', { name: 'Heatmap settings' })).toContainText('ΔW of the adapter');
    await page.screenshot({ path: info.outputPath('adapter.png'), fullPage: true });

    // layer 1's v_proj (the fourth module, b × 4): ‖ΔW‖_F = 2 · 4 · √21.3125 = 36.932
    await canvas.hover({ position: { x: 132 + 60, y: 22 + 30 } });
    const tip = page.locator('.tip');
    await expect(tip).toContainText('LoRA ΔW, rank ≤ 8');
    await expect(tip).not.toContainText('selected');
    await canvas.click({ position: { x: 132 + 60, y: 22 + 30 } });
    const detail = page.getByLabel('Matrix detail');
    await expect(detail).toContainText('‖ΔW‖_F36.9324');
    await expect(detail).toContainText('ranks for 95% of the energy3 of r = 8');
    await expect(detail).not.toContainText('σ above τ');
    await expect(detail).not.toContainText('Spectrum SNR');
    await page.screenshot({ path: info.outputPath('adapter-detail.png'), fullPage: true });
  });

  test('with its base: the merged weights keep Spectrum’s selection, and 100% selects every cell', async ({ page }) => {
    test.setTimeout(180_000);
    const dir = tmp();
    const adapter = writeAdapter(dir);
    const base = join(dir, 'model.safetensors');
    writeFileSync(
      base,
      buildSafetensors(
        MODULES.map((m, k) => ({ name: `${m}.weight`, dtype: 'F32', shape: [OUT, IN], values: gaussianMatrix(OUT, IN, 40 + k) })),
      ),
    );
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByTestId('file-input').setInputFiles([...adapter, base]);
    await expect(page.getByRole('tab', { name: /model/ }).last()).toHaveAttribute('aria-selected', 'true');
    await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 150_000 });
    await expectGrid(page, 2, 2);
    await expect(page.getByTestId('adapter-spectrum-off')).toHaveCount(0);
    await expect(page.getByRole('region', { name: 'Selected layers' })).toBeVisible();
    await page.getByLabel('Percent selected', { exact: true }).fill('100');
    await expect.poll(() => countColour(page, NOT_SELECTED)).toBe(0);
    expect(await countColour(page, SELECTED)).toBeGreaterThan(0);
    await page.getByLabel('Percent selected', { exact: true }).fill('50');
    await expect.poll(() => countColour(page, NOT_SELECTED)).toBeGreaterThan(0);
  });

  test('a third-party adapter alone says how many of its 8 ranks it uses, from float64 singular values', async ({ page }) => {
    // A public adapter kept beside the checkout, never in it (docs/testing.md).
    const dir = join(root, '../shared/fixtures/lora/qwen2.5-0.5b-instruct-lora');
    test.skip(!existsSync(dir), `the third-party adapter folder ${dir} is absent`);
    test.setTimeout(240_000);
    // the reference: each module's 8 non-zero singular values in float64, the fewest keeping 95% of Σσ², their median
    const expected = JSON.parse(readFileSync(join(root, 'test-fixtures/expected/lora-qwen2.5-0.5b-instruct-lora.json'), 'utf8')) as {
      modules: Record<string, { singular_values: number[] }>;
    };
    const ranks = Object.values(expected.modules)
      .map(({ singular_values: sv }) => {
        const total = sv.reduce((a, s) => a + s * s, 0);
        let sum = 0;
        return sv.findIndex((s) => (sum += s * s) >= 0.95 * total) + 1;
      })
      .sort((a, b) => a - b);
    const median = (ranks[ranks.length / 2 - 1] + ranks[ranks.length / 2]) / 2;
    await openAdapter(
      page,
      ['adapter_model.safetensors', 'adapter_config.json'].map((f) => join(dir, f)),
    );
    await expectGrid(page, 2, 24);
    const shown = Number.isInteger(median) ? `${median}` : median.toFixed(1);
    await expect(page.getByRole('region', { name: 'LoRA adapter' })).toContainText(
      `This adapter uses ${shown} of its 8 ranks for 95% of its energy`,
    );
    expect(await countColour(page, NOT_SELECTED)).toBe(0);
  });
});

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { moe } from '../test-fixtures/builders/families.ts';
import { buildGguf } from '../test-fixtures/builders/gguf.ts';
import { gaussianMatrix } from '../test-fixtures/builders/safetensors.ts';
import { expectGrid, root, tmp, waitForScan } from './helpers.ts';

test('a Mixtral checkpoint: expert cells aggregate (mean, one expert) and one layer spreads out', async ({ page }) => {
  const dir = tmp();
  const path = join(dir, 'tiny-mixtral.safetensors');
  writeFileSync(path, moe('mixtral', { layers: 2, experts: 4 }).files.get('model.safetensors')!);
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(page.getByRole('tab', { name: /tiny-mixtral/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 60_000 });
  // q k v o, the router and three expert types, over 2 layers
  await expectGrid(page, 8, 2);
  const controls = page.getByRole('group', { name: 'Experts' });
  await expect(controls).toContainText('mean of 4');
  await controls.getByRole('combobox', { name: 'Experts per cell' }).selectOption('one');
  await controls.getByRole('combobox', { name: 'Expert', exact: true }).selectOption('3');
  await controls.getByRole('combobox', { name: 'Spread out the experts of layer' }).selectOption('1');
  const spread = page.getByRole('region', { name: 'Experts of layer 1' });
  await expect(spread.locator('canvas[role="grid"]')).toHaveAttribute('data-cols', '4');
  await expect(spread.locator('canvas[role="grid"]')).toHaveAttribute('data-rows', '3');
});

test('a GGUF file opens with llama.cpp names mapped onto the grid', async ({ page }) => {
  const dir = tmp();
  const path = join(dir, 'tiny.Q8_0.gguf');
  const t = (name: string, rows: number, cols: number, seed: number) => ({
    name,
    type: 'Q8_0',
    shape: [rows, cols],
    values: gaussianMatrix(rows, cols, seed),
  });
  writeFileSync(
    path,
    buildGguf(
      [0, 1, 2].flatMap((l) => [t(`blk.${l}.attn_q.weight`, 32, 32, l), t(`blk.${l}.ffn_down.weight`, 32, 64, 10 + l)]),
      { 'general.architecture': { type: 'string', value: 'llama' } },
    ),
  );
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(page.getByRole('tab', { name: /tiny\.Q8_0/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 60_000 });
  await expectGrid(page, 2, 3);
});

test('a LoRA adapter: the detail of a ΔW says its rank bound and shows its r singular values', async ({ page }) => {
  // A third-party adapter from a public repository, kept beside the checkout, never in it (docs/testing.md).
  const dir = join(root, '../shared/fixtures/lora/qwen2.5-0.5b-instruct-lora');
  test.skip(!existsSync(dir), `the third-party adapter folder ${dir} is absent`);
  test.setTimeout(180_000);
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByTestId('file-input').setInputFiles(['adapter_model.safetensors', 'adapter_config.json'].map((f) => join(dir, f)));
  await expect(page.getByRole('tab', { name: /adapter_model/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 150_000 });
  const canvas = await expectGrid(page, 2, 24);
  await canvas.click({ position: { x: 132 + 5, y: 22 + 11 } });
  const note = page.getByLabel('LoRA rank');
  await expect(note).toContainText('rank ≤ 8, so 8 non-zero singular values');
  await expect(note.locator('li')).toHaveCount(8);
  await expect(note.locator('li').first()).toContainText('σ1 = 0.03641');
});

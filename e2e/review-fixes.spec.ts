import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { buildSafetensors, joinSafetensors } from '../test-fixtures/builders/safetensors.ts';
import { tmp, waitForScan } from './helpers.ts';

/** The focused cell's box colour on the canvas (draw.ts). */
const FOCUS_BOX = '#1c7ed6';

function countColour(canvas: Locator, hex: string): Promise<number> {
  return canvas.evaluate((c: HTMLCanvasElement, hex) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) n++;
    return n;
  }, hex);
}

/** 12 layers of up_proj whose header promises 12 × 3 KiB of F32 that the file does not hold: every tensor fails the same way. */
function cutShortCheckpoint(): Buffer {
  const header: Record<string, unknown> = {};
  const bytes = 24 * 32 * 4;
  for (let l = 0; l < 12; l++) {
    header[`model.layers.${l}.mlp.up_proj.weight`] = { dtype: 'F32', shape: [24, 32], data_offsets: [l * bytes, (l + 1) * bytes] };
  }
  return Buffer.from(joinSafetensors(header, new Uint8Array(0)));
}

/** The same 12 tensors stored as I8: not weights the page analyses, so all are skipped. */
function int8Checkpoint(): Buffer {
  const header: Record<string, unknown> = {};
  const bytes = 24 * 32;
  for (let l = 0; l < 12; l++) {
    header[`model.layers.${l}.mlp.up_proj.weight`] = { dtype: 'I8', shape: [24, 32], data_offsets: [l * bytes, (l + 1) * bytes] };
  }
  return Buffer.from(joinSafetensors(header, new Uint8Array(12 * bytes)));
}

async function open(page: Page, name: string, buffer: Buffer) {
  await page.getByTestId('file-input').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
  await expect(page.getByRole('tab', { name: new RegExp(name.replace('.safetensors', '')) })).toHaveAttribute('aria-selected', 'true');
}

test.describe('a checkpoint that gives no matrix', () => {
  test('every tensor failing: "Nothing analysed" and the reason, one grouped line, tensors in natural order', async ({ page }, info) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await open(page, 'cut-short.safetensors', cutShortCheckpoint());
    const progress = page.locator('.progress');
    await expect(progress.locator('strong')).toHaveText('Nothing analysed', { timeout: 60_000 });
    await expect(progress).toContainText('all 12 tensors failed: ');
    await expect(progress).not.toContainText('0 / 0');
    const problems = page.getByRole('region', { name: 'Problems and skipped tensors' });
    await expect(problems.getByRole('heading')).toHaveText('Nothing could be analysed: all 12 tensors failed');
    // one line for the 12, not 12 lines
    const lines = problems.locator('ul.errors > li');
    await expect(lines).toHaveCount(1);
    await expect(lines).toContainText('12 tensors of cut-short.safetensors: ');
    await expect(lines).toContainText('model.layers.0.mlp.up_proj.weight, model.layers.1.mlp.up_proj.weight, …');
    await page.screenshot({ path: info.outputPath('cut-short-collapsed.png'), fullPage: true });
    await lines.getByText('(show all)').click();
    const tensors = await lines.locator('details li').allTextContents();
    expect(tensors.map((t) => t.split(' (cut-short.safetensors)')[0])).toEqual(
      Array.from({ length: 12 }, (_, l) => `model.layers.${l}.mlp.up_proj.weight`),
    );
    await page.screenshot({ path: info.outputPath('cut-short-expanded.png'), fullPage: true });
  });

  test('every tensor skipped (I8): "Nothing analysed" and why, never "Done 0 / 0"', async ({ page }, info) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await open(page, 'int8-only.safetensors', int8Checkpoint());
    const progress = page.locator('.progress');
    await expect(progress.locator('strong')).toHaveText('Nothing analysed', { timeout: 60_000 });
    await expect(progress).toContainText('the file holds no weight matrix: its 12 tensors are skipped');
    await expect(progress).not.toContainText('0 / 0');
    await page.screenshot({ path: info.outputPath('int8.png'), fullPage: true });
  });

  test('a header with no tensor and an empty file: neither says "Done 0 / 0"', async ({ page }, info) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await open(page, 'header-only.safetensors', Buffer.from(buildSafetensors([])));
    await expect(page.locator('.progress strong')).toHaveText('Nothing analysed', { timeout: 60_000 });
    await expect(page.locator('.progress')).toContainText('the file holds no weight matrix');
    await page.screenshot({ path: info.outputPath('header-only.png') });
    await open(page, 'empty.safetensors', Buffer.alloc(0));
    await expect(page.locator('.progress strong')).toHaveText(/^(Could not open|Nothing analysed)$/, { timeout: 60_000 });
    await expect(page.locator('.progress')).toContainText('the file could not be read: file is 0 bytes');
    await expect(page.locator('.progress')).not.toContainText('0 / 0');
    await page.screenshot({ path: info.outputPath('empty.png') });
  });
});

test('a LoRA adapter alone: no Spectrum YAML nor JSON (the reason shown), its metrics and pictures still offered', async ({
  page,
}, info) => {
  const dir = tmp();
  const [R, OUT, IN] = [4, 24, 32];
  const tensors = [0, 1].flatMap((l) => {
    const a = new Float32Array(R * IN).map((_, i) => (i % (IN + 1) === 0 ? 1 : 0));
    const b = new Float32Array(OUT * R).map((_, i) => (i % (R + 1) === 0 ? 0.5 * (l + 1) : 0));
    const module = `base_model.model.model.layers.${l}.self_attn.q_proj`;
    return [
      { name: `${module}.lora_A.weight`, dtype: 'F32', shape: [R, IN], values: a },
      { name: `${module}.lora_B.weight`, dtype: 'F32', shape: [OUT, R], values: b },
    ];
  });
  const files = [join(dir, 'adapter_model.safetensors'), join(dir, 'adapter_config.json')];
  writeFileSync(files[0], buildSafetensors(tensors));
  writeFileSync(files[1], JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: 8, target_modules: ['q_proj'] }));
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByTestId('file-input').setInputFiles(files);
  await expect(page.getByRole('tab', { name: /adapter_model/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 60_000 });
  const exports = page.getByRole('region', { name: 'Export' });
  for (const name of [/^YAML/, /^Copy YAML$/, /^Spectrum JSON$/]) {
    const button = exports.getByRole('button', { name });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute('title', /LoRA adapter alone has no Spectrum selection/);
  }
  await expect(exports).toContainText("Spectrum's YAML and JSON are off for a LoRA adapter alone");
  for (const name of ['metrics.json', 'CSV', 'PNG', 'SVG']) await expect(exports.getByRole('button', { name, exact: true })).toBeEnabled();
  await exports.scrollIntoViewIfNeeded();
  await page.screenshot({ path: info.outputPath('adapter-exports.png') });
});

test.describe('phases and the keyboard', () => {
  test('at 800 px no phase title splits its checkpoint name', async ({ page }, info) => {
    await page.setViewportSize({ width: 800, height: 900 });
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByRole('button', { name: 'Phases' }).click();
    const titles = page.getByTestId('phase-grid').locator('h3');
    await expect(titles).toHaveCount(4);
    // the lines the name's characters sit on, found from the text itself (whatever elements hold it)
    const lines = await titles.evaluateAll((hs) =>
      hs.map((h) => {
        const text = h.textContent ?? '';
        const name = text.slice(text.lastIndexOf(' of ') + 4);
        const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
        const tops = new Set<number>();
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const t = n.textContent ?? '';
          const at = t.indexOf(name.slice(0, Math.min(name.length, t.length)));
          if (at < 0 || !text.endsWith(t.slice(at))) continue;
          const range = document.createRange();
          range.setStart(n, at);
          range.setEnd(n, t.length);
          for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
        }
        return { name, lines: tops.size };
      }),
    );
    expect(lines.map((l) => l.name)).toEqual(['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct']);
    for (const l of lines) expect(l, l.name).toEqual({ name: l.name, lines: 1 });
    await page.screenshot({ path: info.outputPath('phases-800.png'), fullPage: true });
  });

  test('a freshly focused grid opens its first cell on Enter; the focus box is drawn in the focused grid only', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByRole('tab', { name: /phase0-base/ }).click();
    const canvas = page.locator('.checkpoint-view canvas[role="grid"]');
    await canvas.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('region', { name: 'Matrix detail' })).toContainText('self_attn.q_proj · layer 0');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Phases' }).click();
    const grids = page.getByTestId('phase-grid').locator('canvas[role="grid"]');
    await expect(grids).toHaveCount(4);
    await grids.nth(1).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => countColour(grids.nth(1), FOCUS_BOX)).toBeGreaterThan(0);
    for (const i of [0, 2, 3]) expect(await countColour(grids.nth(i), FOCUS_BOX), `grid ${i}`).toBe(0);
    await page.getByRole('button', { name: 'Phases', exact: true }).focus();
    await expect.poll(() => countColour(grids.nth(1), FOCUS_BOX)).toBe(0);
  });
});

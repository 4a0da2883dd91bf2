import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { cliOutput, root, tmp, waitForScan } from './helpers.ts';

/** numpy's thin SVDs of the demo's matrices (test-fixtures/make-intruders.py) */
const numpy = JSON.parse(readFileSync(join(root, 'test-fixtures/expected/intruders-demo.json'), 'utf8')) as {
  matrices: Record<string, { max_cos: number[]; intruders: number }>;
};

/** The ΔW page with phase 1 − base computed. */
async function deltaOfPhase1(page: Page) {
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByRole('button', { name: 'ΔW' }).click();
  await expect(page.getByLabel('Later checkpoint').locator('option:checked')).toHaveText('phase1-25pct');
  await page.getByRole('button', { name: 'Compute ΔW' }).click();
  await expect(page.getByTestId('delta-progress').locator('strong')).toHaveText('Done', { timeout: 60_000 });
  return page.getByRole('region', { name: 'ΔW heatmap' }).locator('canvas[role="grid"]');
}

test.describe('ΔW detail: intruder dimensions', () => {
  test("mlp.gate_proj of layer 2: numpy's max |cos| per singular vector, the count the CLI writes, defaults stated", async ({
    page,
  }, info) => {
    test.setTimeout(180_000);
    const canvas = await deltaOfPhase1(page);
    await canvas.focus();
    await page.keyboard.press('Home');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toContainText('ΔW · mlp.gate_proj · layer 2');
    const panel = detail.getByRole('region', { name: 'Intruder dimensions' });
    await expect(panel).toContainText('top 10 left singular vectors');
    await expect(panel).toContainText('below 0.5 it is an intruder');
    await expect(panel).toContainText('arXiv 2410.21228');
    await panel.getByRole('button', { name: 'Intruder dimensions' }).click();
    await expect(panel.getByTestId('intruder-count')).toContainText('7 of 10', { timeout: 60_000 });
    const ref = numpy.matrices['model.layers.2.mlp.gate_proj.weight'];
    const rows = panel.getByRole('table', { name: 'Intruder dimensions of the top singular vectors' }).locator('tbody tr');
    await expect(rows).toHaveCount(10);
    for (const [j, cos] of ref.max_cos.entries()) {
      await expect(rows.nth(j).locator('td').nth(2)).toHaveText(cos.toFixed(4));
      await expect(rows.nth(j).locator('td').nth(4)).toHaveText(cos < 0.5 ? 'yes' : 'no');
    }
    // the CLI's count for the same matrix
    const cli = JSON.parse(
      await cliOutput(
        [
          'intruders',
          join(root, 'public/demo/phase0-base.safetensors'),
          join(root, 'public/demo/phase1-25pct.safetensors'),
          '--only',
          'layers\\.2\\.mlp\\.gate_proj',
        ],
        'intruders.json',
      ),
    ) as { matrices: { intruders: number; dimensions: { max_cos: number }[] }[] };
    expect(cli.matrices[0].intruders).toBe(7);
    for (const [j, d] of cli.matrices[0].dimensions.entries())
      await expect(rows.nth(j).locator('td').nth(2)).toHaveText(d.max_cos.toFixed(4));
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.screenshot({ path: info.outputPath('intruders-1600.png'), fullPage: true });
    // a narrow page shows the detail as a dialog: the result is still there
    await page.setViewportSize({ width: 800, height: 900 });
    const narrow = page.getByRole('region', { name: 'Intruder dimensions' });
    await expect(narrow.getByTestId('intruder-count')).toContainText('7 of 10');
    // the dialog may be laid out again once more after the resize: scroll to whichever panel is there
    await expect(async () => narrow.scrollIntoViewIfNeeded({ timeout: 1000 })).toPass();
    await page.screenshot({ path: info.outputPath('intruders-800.png') });
  });
});

test.describe('ΔW page: writing a new checkpoint', () => {
  test("Extract LoRA at 90 % energy downloads the CLI's adapter (no folder picker: the download path)", async ({ page }, info) => {
    test.setTimeout(180_000);
    // headless Chromium cannot answer a folder picker: without it the page downloads
    await page.addInitScript(() => delete (window as Window & { showDirectoryPicker?: unknown }).showDirectoryPicker);
    await deltaOfPhase1(page);
    const panel = page.getByRole('region', { name: 'Write a new checkpoint' });
    await expect(panel).toContainText('the files are downloaded');
    await expect(panel).toContainText('up to 512 MiB');
    await expect(panel.getByLabel('Extract LoRA: energy share in percent')).toHaveValue('90');
    const downloads: { name: string; path: string }[] = [];
    page.on('download', (d) => void d.path().then((path) => downloads.push({ name: d.suggestedFilename(), path })));
    await panel.getByRole('button', { name: 'Extract LoRA…' }).click();
    await expect(panel.getByTestId('rewrite-status')).toContainText('Extract LoRA: done', { timeout: 60_000 });
    await expect.poll(() => downloads.length).toBe(4);
    const out = tmp();
    await promisify(execFile)(
      process.execPath,
      [
        join(root, 'bin/spectral-workbench.js'),
        'extract-lora',
        join(root, 'public/demo/phase0-base.safetensors'),
        join(root, 'public/demo/phase1-25pct.safetensors'),
        '--energy',
        '0.9',
        '--out',
        out,
        '--quiet',
      ],
      { cwd: root },
    );
    // the CLI's files, the Markdown report included
    expect(downloads.map((d) => d.name).sort()).toEqual(readdirSync(out).sort());
    const page_ = (name: string) => readFileSync(downloads.find((d) => d.name === name)!.path);
    const cli = (name: string) => readFileSync(join(out, name));
    // the same modules and ranks: adapter_config.json byte for byte
    expect(page_('adapter_config.json').equals(cli('adapter_config.json'))).toBe(true);
    // the factors come from a randomized SVD whose Gaussian probes use Math.log and Math.cos, which
    // Chromium and Node round differently in the last bit: each module's B·A agrees to float32 rounding
    const [a, b] = [safetensors(page_('adapter_model.safetensors')), safetensors(cli('adapter_model.safetensors'))];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const name of [...a.keys()].filter((n) => n.endsWith('lora_B.weight'))) {
      const A = name.replace('lora_B', 'lora_A');
      const [mine, theirs] = [product(a.get(name)!, a.get(A)!), product(b.get(name)!, b.get(A)!)];
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < mine.length; i++) {
        diff += (mine[i] - theirs[i]) ** 2;
        norm += theirs[i] ** 2;
      }
      expect(Math.sqrt(diff / norm), name).toBeLessThan(1e-5);
    }
    const [reportPage, reportCli] = [page_('extract-lora-report.json'), cli('extract-lora-report.json')].map(
      (x) => JSON.parse(x.toString('utf8')) as { modules: { module: string; rank: number; kept_energy: number }[] },
    );
    expect(reportPage.modules.map((m) => [m.module, m.rank])).toEqual(reportCli.modules.map((m) => [m.module, m.rank]));
    reportPage.modules.forEach((m, i) => expect(m.kept_energy).toBeCloseTo(reportCli.modules[i].kept_energy, 6));
    await page.setViewportSize({ width: 1600, height: 1000 });
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: info.outputPath('rewrite-1600.png') });
    await page.setViewportSize({ width: 800, height: 900 });
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: info.outputPath('rewrite-800.png') });
  });

  test("heads picked in the per-head chart: the heads file, and their rewind as the CLI's --heads-file writes it, byte for byte", async ({
    page,
  }, info) => {
    test.setTimeout(180_000);
    await page.addInitScript(() => delete (window as Window & { showDirectoryPicker?: unknown }).showDirectoryPicker);
    const canvas = await deltaOfPhase1(page);
    await canvas.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toContainText('ΔW · self_attn.q_proj · layer 0');
    const bars = detail.getByRole('img', { name: /Share of the change carried by each of 4 heads/ }).locator('rect');
    await bars.nth(2).click();
    await bars.nth(0).click();
    await expect(bars.nth(0)).toHaveAttribute('data-picked', 'true');
    const panel = page.getByRole('region', { name: 'Write a new checkpoint' });
    await expect(panel.getByTestId('picked-heads')).toContainText('2 heads picked');
    const [file] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Export heads file' }).click()]);
    const headsPath = await file.path();
    expect(JSON.parse(readFileSync(headsPath, 'utf8'))).toEqual({
      format: 'spectral-workbench-heads',
      version: 1,
      base: 'phase0-base',
      finetuned: 'phase1-25pct',
      heads: [
        { tensor: 'model.layers.0.self_attn.q_proj.weight', head: 0 },
        { tensor: 'model.layers.0.self_attn.q_proj.weight', head: 2 },
      ],
    });
    const downloads: { name: string; path: string }[] = [];
    page.on('download', (d) => void d.path().then((path) => downloads.push({ name: d.suggestedFilename(), path })));
    await panel.getByRole('button', { name: 'Rewind the picked heads…' }).click();
    await expect(panel.getByTestId('rewrite-status')).toContainText('Rewind heads: done', { timeout: 60_000 });
    const out = tmp();
    await promisify(execFile)(
      process.execPath,
      [
        join(root, 'bin/spectral-workbench.js'),
        'rewind',
        join(root, 'public/demo/phase0-base.safetensors'),
        join(root, 'public/demo/phase1-25pct.safetensors'),
        '--heads-file',
        headsPath,
        '--out',
        out,
        '--quiet',
      ],
      { cwd: root },
    );
    // every file but the report (JSON and Markdown), which says how the heads were chosen
    const expected = readdirSync(out).filter((n) => !n.startsWith('rewind-report.'));
    await expect.poll(() => downloads.length).toBe(expected.length + 2);
    for (const name of expected) {
      const d = downloads.find((x) => x.name === name);
      expect(d && readFileSync(d.path).equals(readFileSync(join(out, name))), name).toBe(true);
    }
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: info.outputPath('picked-heads.png') });
  });
});

/** A safetensors file's F32 tensors by name, with their shapes. */
function safetensors(bytes: Buffer): Map<string, { shape: number[]; values: Float32Array }> {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(t.dtype).toBe('F32');
    const data = bytes.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    out.set(name, { shape: t.shape, values: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
  }
  return out;
}

/** B (out × r) · A (r × in), row-major, in float64. */
function product(b: { shape: number[]; values: Float32Array }, a: { shape: number[]; values: Float32Array }): Float64Array {
  const [out, r] = b.shape;
  const cols = a.shape[1];
  const m = new Float64Array(out * cols);
  for (let i = 0; i < out; i++)
    for (let k = 0; k < r; k++) for (let j = 0; j < cols; j++) m[i * cols + j] += b.values[i * r + k] * a.values[k * cols + j];
  return m;
}

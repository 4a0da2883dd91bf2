import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Page } from '@playwright/test';
import { root, tmp } from './helpers.ts';

/**
 * The CLI's timeline of the demo run, run as a user would from public/demo (so its paths are `timeline/checkpoint-…`),
 * on the CPU engine (float64) as the page's ?engine=cpu.
 */
async function cliTimeline(): Promise<{ json: string; csv: string }> {
  const out = tmp();
  await promisify(execFile)(
    process.execPath,
    [join(root, 'bin/spectral-workbench.js'), 'timeline', 'timeline', '--engine', 'cpu', '--out', out, '--quiet'],
    {
      cwd: join(root, 'public/demo'),
    },
  );
  return { json: readFileSync(join(out, 'timeline.json'), 'utf8'), csv: readFileSync(join(out, 'timeline.csv'), 'utf8') };
}

/**
 * Every number under an `alpha` or `alpha_peak` key to 12 significant digits. The power-law fits take logarithms,
 * and Debian's Chromium computes Math.log / Math.pow with a libm whose last bit differs from Node's for a few inputs:
 * the page's alphas can differ from the CLI's in the 16th digit (the singular values, stable ranks, norms and MP
 * ranks do not).
 */
const ALPHA_FITS = new Set(['alpha', 'alpha_peak']);

function roundAlpha(v: unknown, underAlpha = false): unknown {
  if (typeof v === 'number') return underAlpha ? Number(v.toPrecision(12)) : v;
  if (Array.isArray(v)) return v.map((x) => roundAlpha(x, underAlpha));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundAlpha(x, underAlpha || ALPHA_FITS.has(k))]));
  return v;
}

async function download(page: Page, button: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button, exact: true }).click()]);
  return readFileSync((await file.path())!, 'utf8');
}

const MODULES = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
];

async function expectRunScanned(page: Page) {
  await expect(page.getByTestId('run-progress')).toContainText('10 / 10 checkpoints', { timeout: 80_000 });
  await expect(page.getByTestId('run-progress').locator('strong')).toHaveText('Scanned');
}

test('the demo training run: every view, a click into a matrix at a step, the CLI’s timeline.json and CSV, a reload', async ({ page }) => {
  test.setTimeout(240_000);
  const cli = cliTimeline(); // in parallel with the page's scans
  await page.goto('/?engine=cpu');
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Run' }).click();
  await page.getByRole('button', { name: 'Open the demo training run' }).click();
  await expectRunScanned(page);
  await expect(page.locator('.run-name')).toHaveText('timeline');

  // one layer × step heatmap per module type: 16 layers × 10 steps each, and the wave's path on each (stable rank)
  const grids = page.locator('.run-heatmap canvas[role="grid"]');
  await expect(grids).toHaveCount(7);
  for (const module of MODULES) {
    const canvas = page.locator(`.run-heatmap[data-module="${module}"] canvas[role="grid"]`);
    await expect(canvas).toHaveAttribute('data-cells', '160');
    await expect(canvas).toHaveAttribute('data-rows', '16');
    await expect(canvas).toHaveAttribute('data-cols', '10');
  }
  await expect(page.locator('.run-wave')).toHaveCount(7);
  // the history above: the loss and the learning rate, one line each
  await expect(page.getByTestId('history-loss')).toHaveAttribute('data-lines', '1');
  await expect(page.getByTestId('history-learning_rate')).toHaveAttribute('data-lines', '1');
  // depth profiles: one line per checkpoint, each with its peak marked
  await expect(page.getByTestId('depth-profiles')).toHaveAttribute('data-lines', '10');
  await expect(page.getByTestId('depth-profiles').locator('path.run-line')).toHaveCount(10);
  await expect(page.getByTestId('depth-profiles').locator('circle')).toHaveCount(10);
  // Q/K vs V/O: q, k, v, o and the two groups' means, in each figure
  await expect(page.getByTestId('roles-cv')).toHaveAttribute('data-lines', '6');
  await expect(page.getByTestId('roles-spearman')).toHaveAttribute('data-lines', '6');

  // timeline.json and the CSV are the CLI's for the same run: byte for byte but for alpha's last digits
  const expected = await cli;
  const json = await download(page, 'timeline.json');
  expect(JSON.stringify(JSON.parse(expected.json), null, 2) + '\n').toBe(expected.json); // the masked comparison below sees every byte
  expect(JSON.stringify(roundAlpha(JSON.parse(json)), null, 2)).toBe(JSON.stringify(roundAlpha(JSON.parse(expected.json)), null, 2));
  expect(json.length).toBeGreaterThan(expected.json.length - 200);
  const csv = (await download(page, 'timeline.csv')).split('\n');
  const cliCsv = expected.csv.split('\n');
  expect(csv).toHaveLength(cliCsv.length);
  csv.forEach((line, i) => {
    const [head, value] = [line.slice(0, line.lastIndexOf(',')), line.slice(line.lastIndexOf(',') + 1)];
    if (ALPHA_FITS.has(head.slice(head.lastIndexOf(',') + 1)) && value !== '')
      expect(Number(value)).toBeCloseTo(Number(cliCsv[i].split(',').at(-1)), 10);
    else expect(line).toBe(cliCsv[i]);
  });

  // a click on layer 3 of q_proj at step 350 (the 6th column) opens that matrix at that step
  const q = page.locator('.run-heatmap[data-module="self_attn.q_proj"] canvas[role="grid"]');
  const box = (await q.boundingBox())!;
  const left = 132;
  const top = 22;
  const cellW = (box.width - left - 8) / 10;
  await q.click({ position: { x: left + 5.5 * cellW, y: top + 3.5 * 22 } });
  const detail = page.getByRole('region', { name: 'Matrix detail' });
  await expect(detail.getByRole('heading', { level: 2 })).toHaveText('self_attn.q_proj · layer 3 · step 350 (checkpoint-350)');
  await expect(detail).toContainText('model.layers.3.self_attn.q_proj.weight');
  // its stable rank is the CLI's at that step (and no other step's)
  const timeline = JSON.parse(expected.json) as { matrices: { name: string; stable_rank: number[] }[] };
  const series = timeline.matrices.find((m) => m.name === 'model.layers.3.self_attn.q_proj.weight')!.stable_rank;
  expect(new Set(series.map((v) => Number(v.toPrecision(5)))).size).toBe(10);
  await expect(detail.locator('dt', { hasText: /^stable rank$/ }).locator('xpath=following-sibling::dd[1]')).toHaveText(
    String(Number(series[5].toPrecision(5))),
  );

  // the keyboard moves between cells and Enter opens one, as on the checkpoint heatmap
  await q.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await expect(detail.getByRole('heading', { level: 2 })).toHaveText('self_attn.q_proj · layer 3 · step 500 (checkpoint-500)');

  // a reload keeps the run: its checkpoints, every cell (records from the scan cache) and the matrix open
  await page.getByLabel('Metric').selectOption('alpha');
  // the workspace is saved a moment after each change; a reload right away may come before it
  await page.waitForTimeout(1000);
  await page.reload();
  await expectRunScanned(page);
  await expect(page.locator('.run-name')).toHaveText('timeline');
  await expect(page.getByLabel('Metric')).toHaveValue('alpha');
  for (const module of MODULES) {
    await expect(page.locator(`.run-heatmap[data-module="${module}"] canvas[role="grid"]`)).toHaveAttribute('data-cells', '160');
  }
  await expect(page.getByTestId('depth-profiles')).toHaveAttribute('data-lines', '10');
  await expect(detail.getByRole('heading', { level: 2 })).toHaveText('self_attn.q_proj · layer 3 · step 500 (checkpoint-500)');
  await expect(page.getByRole('button', { name: 'timeline.json', exact: true })).toBeVisible();
  expect(JSON.stringify(roundAlpha(JSON.parse(await download(page, 'timeline.json'))), null, 2)).toBe(
    JSON.stringify(roundAlpha(JSON.parse(expected.json)), null, 2),
  );
});

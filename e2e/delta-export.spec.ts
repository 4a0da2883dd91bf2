import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { cliOutput } from './helpers.ts';

const compare = ['compare', 'public/demo/phase0-base.safetensors', 'public/demo/phase1-25pct.safetensors', '--engine', 'cpu', '--csv'];

async function downloaded(page: Page, button: string) {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('region', { name: 'ΔW export' }).getByRole('button', { name: button, exact: true }).click(),
  ]);
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

test.describe('the ΔW exports', () => {
  // both sides on the CPU engine (float64): the page's ?engine=cpu and the CLI's --engine cpu
  test('delta.json and delta.csv of phase 1 − base are the bytes compare writes for the same two files', async ({ page }) => {
    await page.goto('/?engine=cpu');
    await page.getByRole('button', { name: 'ΔW' }).click();
    await expect(page.getByText(/ΔW = W\s*later\s*− W\s*earlier/)).toBeVisible();
    await expect(page.getByLabel('Earlier checkpoint').locator('option:checked')).toHaveText('phase0-base');
    await expect(page.getByLabel('Later checkpoint').locator('option:checked')).toHaveText('phase1-25pct');
    await page.getByRole('button', { name: 'Compute ΔW' }).click();
    await expect(page.getByTestId('delta-progress').locator('strong')).toHaveText('Done', { timeout: 60_000 });

    const json = await downloaded(page, 'delta.json');
    expect(json.name).toBe('delta_phase0-base_to_phase1-25pct.json');
    const fromCli = await cliOutput(compare, 'delta.json');
    // no field differs: same engine, same records in the same order, same names of the two sides
    expect(json.bytes.toString('utf8')).toBe(fromCli);
    const parsed = JSON.parse(fromCli) as { engine: string; changed: number; unchanged: number; from: string; to: string };
    expect(parsed).toMatchObject({ engine: 'cpu', from: 'phase0-base', to: 'phase1-25pct', changed: 28, unchanged: 119 });

    const csv = await downloaded(page, 'delta.csv');
    expect(csv.name).toBe('delta_phase0-base_to_phase1-25pct.csv');
    expect(csv.bytes.toString('utf8')).toBe(await cliOutput(compare, 'delta.csv'));
  });

  test('the ΔW heatmap downloads as SVG and PNG, named by the metric shown, its unchanged cells as compare counts them', async ({
    page,
  }) => {
    await page.goto('/?engine=cpu');
    await page.getByRole('button', { name: 'ΔW' }).click();
    const exports = page.getByRole('region', { name: 'ΔW export' });
    await expect(exports).toHaveCount(0); // nothing to export before Compute
    await page.getByRole('button', { name: 'Compute ΔW' }).click();
    await expect(page.getByTestId('delta-progress').locator('strong')).toHaveText('Done', { timeout: 60_000 });

    const svg = await downloaded(page, 'SVG');
    expect(svg.name).toBe('delta_phase0-base_to_phase1-25pct_relative_norm.svg');
    const text = svg.bytes.toString('utf8');
    expect(text).toContain('ΔW phase1-25pct − phase0-base · ‖ΔW‖ / ‖W‖');
    // the grid's matrices (2-D, in a layer) that compare finds unchanged are the cells in the unchanged colour
    const rows = (
      JSON.parse(await cliOutput(compare, 'delta.json')) as { matrices: { layer: number | null; shape: number[]; unchanged: boolean }[] }
    ).matrices;
    const inGrid = rows.filter((r) => r.layer !== null && r.shape.length === 2);
    expect(inGrid).toHaveLength(112);
    expect(text.match(/<rect [^>]*width="[\d.]+" height="[\d.]+" fill="[^"]+">/g)).toHaveLength(112);
    expect(text.match(/fill="#efe3c8"/g)).toHaveLength(inGrid.filter((r) => r.unchanged).length);

    await page.getByLabel('ΔW metric').selectOption('stable_rank');
    expect((await downloaded(page, 'SVG')).name).toBe('delta_phase0-base_to_phase1-25pct_stable_rank.svg');
    const png = await downloaded(page, 'PNG');
    expect(png.name).toBe('delta_phase0-base_to_phase1-25pct_stable_rank.png');
    expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});

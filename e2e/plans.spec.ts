import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { cliOutput, root, waitForScan } from './helpers.ts';

async function downloaded(page: Page, where: Locator, button: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), where.getByRole('button', { name: button, exact: true }).click()]);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

interface MetricsRow {
  name: string;
  layer: number | null;
  module: string;
  shape: number[];
  status: string;
  source?: string[];
  alpha: number | null;
  alpha_peak: number | null;
  mp_rank: number | null;
}

/** A stored 2-D parameter inside a block, as metrics.json lists it (not a view of another tensor). */
const blockMatrix = (m: MetricsRow) =>
  m.layer !== null && m.shape.length === 2 && m.status === 'ok' && (!m.source || m.source[0] === m.name);

test('the demo: the Plans panel and its files, checked against the page’s own metrics.json', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/?engine=cpu');
  await waitForScan(page, 'phase0-base');
  const exportPanel = page.getByRole('region', { name: 'Export' });
  const metrics = JSON.parse((await downloaded(page, exportPanel, 'metrics.json')).text) as { matrices: MetricsRow[] };
  const blocks = metrics.matrices.filter(blockMatrix);
  expect(blocks.length).toBe(16 * 7);

  const plans = page.getByRole('region', { name: 'Plans' });
  await expect(plans).toBeVisible();
  for (const card of ['Learning rates', 'Sparsity', 'Block drop order', 'Ranks'])
    await expect(plans.getByRole('region', { name: card })).toBeVisible();

  // AlphaPruning, recomputed here from metrics.json: block score = mean alpha_peak, mapped onto [1 − ε, 1 + ε], scaled so that
  // Σ params·ratio = S·Σ params (params from the shapes in metrics.json, not from the plan's file)
  const expectSparsity = (file: { matrices: { name: string; layer: number; ratio: number }[] }, S: number, eps: number) => {
    const byLayer = new Map<number, MetricsRow[]>();
    for (const m of blocks) byLayer.set(m.layer!, [...(byLayer.get(m.layer!) ?? []), m]);
    const layers = [...byLayer.keys()].sort((a, b) => a - b);
    const params = (m: MetricsRow) => m.shape[0] * m.shape[1];
    const score = layers.map((l) => byLayer.get(l)!.reduce((a, m) => a + m.alpha_peak!, 0) / byLayer.get(l)!.length);
    const blockParams = layers.map((l) => byLayer.get(l)!.reduce((a, m) => a + params(m), 0));
    const lo = Math.min(...score);
    const hi = Math.max(...score);
    const unscaled = score.map((s) => 1 - eps + (2 * eps * (s - lo)) / (hi - lo));
    const total = blockParams.reduce((a, b) => a + b, 0);
    const scaler = (S * total) / unscaled.reduce((a, u, i) => a + u * blockParams[i], 0);
    const ratioOf = new Map(layers.map((l, i) => [l, unscaled[i] * scaler]));
    expect(file.matrices.map((m) => m.name).sort()).toEqual(blocks.map((m) => m.name).sort());
    for (const m of file.matrices) expect(Math.abs(m.ratio - ratioOf.get(m.layer)!)).toBeLessThan(1e-12);
    const paramsOf = new Map(blocks.map((m) => [m.name, params(m)]));
    const weighted = file.matrices.reduce((a, m) => a + m.ratio * paramsOf.get(m.name)!, 0) / total;
    expect(Math.abs(weighted - S)).toBeLessThan(1e-12);
  };
  const sparsityCard = plans.getByRole('region', { name: 'Sparsity' });
  const sparsity = await downloaded(page, sparsityCard, 'Sparsity JSON');
  expect(sparsity.name).toBe('phase0-base_sparsity.json');
  expectSparsity(JSON.parse(sparsity.text), 0.5, 0.3);
  // new settings from the keyboard: S = 0.3, ε = 0.2
  await sparsityCard.getByLabel('S', { exact: true }).fill('0.3');
  await sparsityCard.getByLabel('ε', { exact: true }).fill('0.2');
  await expect(sparsityCard.getByTestId('sparsity-mean')).toContainText('Parameter-weighted mean 30.0%');
  expectSparsity(JSON.parse((await downloaded(page, sparsityCard, 'Sparsity JSON')).text), 0.3, 0.2);
  await sparsityCard.getByLabel('S', { exact: true }).fill('1');
  await expect(sparsityCard.getByText('between 0 and 1 (not 1)')).toBeVisible();

  // lr_groups: the selection's unfrozen_parameters, then TempBalance between s₁η and s₂η; every module string catches
  // exactly its own parameter under axolotl's rule (a parameter joins the first group whose module string is in its name)
  const lrCard = plans.getByRole('region', { name: 'Learning rates' });
  const yaml = (await downloaded(page, lrCard, 'lr_groups YAML')).text;
  const spectrumYaml = (await downloaded(page, exportPanel, 'YAML (25%)')).text;
  expect(yaml.startsWith(spectrumYaml)).toBe(true);
  const groups = [...yaml.matchAll(/- name: (\S+)\n {2}modules:\n {2}- (\S+)\n {2}lr: (\S+)/g)].map((m) => ({
    module: m[2],
    lr: Number(m[3]),
  }));
  expect(groups.length).toBeGreaterThan(100);
  expect(Math.min(...groups.map((g) => g.lr))).toBeCloseTo(0.5 * 2e-5, 18);
  expect(Math.max(...groups.map((g) => g.lr))).toBeCloseTo(1.5 * 2e-5, 18);
  const names = metrics.matrices.map((m) => m.name);
  for (const g of groups) expect(names.filter((n) => n.includes(g.module))).toEqual([g.module]);

  // rank_pattern: the MP rank of each matrix, as metrics.json has it
  const ranks = JSON.parse((await downloaded(page, plans.getByRole('region', { name: 'Ranks' }), 'rank_pattern JSON')).text) as Record<
    string,
    number
  >;
  const mp = new Map(blocks.map((m) => [m.name.replace(/\.weight$/, ''), m.mp_rank]));
  expect(Object.keys(ranks).length).toBe(blocks.length);
  for (const [module, rank] of Object.entries(ranks)) expect(rank).toBe(mp.get(module));

  // the plan JSON names every plan
  const plan = JSON.parse((await downloaded(page, lrCard, 'Plan JSON')).text);
  expect(Object.keys(plan)).toEqual(expect.arrayContaining(['learning_rates', 'sparsity', 'drop_order', 'ranks']));
});

test('the demo: the new metrics as heatmaps, and where alpha and alpha_peak disagree', async ({ page }) => {
  await page.goto('/?engine=cpu');
  await waitForScan(page, 'phase0-base');
  await page.getByLabel('Metric', { exact: true }).check();
  const picker = page.getByLabel('Metric to colour by');
  const options = await picker.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(options).toEqual(expect.arrayContaining(['alpha_peak', 'alpha_farms', 'mp_rank']));
  const legend = page.locator('.checkpoint-view .legend');
  for (const metric of ['alpha_peak', 'mp_rank']) {
    await picker.selectOption(metric);
    await expect(legend.locator('.ramp')).toBeVisible();
  }
  // alpha_peak has WeightWatcher's band 2–6 on its scale, as alpha does
  await picker.selectOption('alpha_peak');
  await expect(legend).toContainText("WeightWatcher's well-trained band 2–6");
  // the page's scans do not compute FARMS (its windows cost a scan of their own): listed, refused, and said so
  await expect(picker.locator('option[value="alpha_farms"]')).toBeDisabled();
  await expect(picker.locator('option[value="alpha_farms"]')).toContainText('no data');
  // the marks for the fits' disagreement follow metrics.json's alpha_peak_ratio (beyond 1.25 either way)
  await picker.selectOption('alpha');
  const metrics = JSON.parse((await downloaded(page, page.getByRole('region', { name: 'Export' }), 'metrics.json')).text) as {
    matrices: (MetricsRow & { alpha_peak_ratio: number | null; expert?: number })[];
  };
  const fingers = metrics.matrices.filter(
    (m) => blockMatrix(m) && m.alpha_peak_ratio !== null && (m.alpha_peak_ratio > 1.25 || m.alpha_peak_ratio < 1 / 1.25),
  ).length;
  await expect(page.locator('.checkpoint-view canvas[role="grid"]').first()).toHaveAttribute('data-fingers', String(fingers));
});

test('Spectrum’s Mixtral-8x22B result: the SNR-sanity marks, counts and tips; the Plans panel gives the SNR rule only', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.goto('/?engine=cpu');
  await waitForScan(page, 'phase0-base');
  await page
    .getByTestId('file-input')
    .setInputFiles(join(root, 'test-fixtures/spectrum-results/snr_results_mistralai-Mixtral-8x22B-v0.1.json'));
  await waitForScan(page, 'Mixtral-8x22B');
  const grid = page.locator('.checkpoint-view canvas[role="grid"]').first();
  // python3 over the JSON: 54 router gates and 6 v_proj are Infinity, 7 more v_proj ≥ 1000 (src/core/metrics/snr-sanity.test.ts)
  await expect(grid).toHaveAttribute('data-flagged', '67');
  await expect(page.getByTestId('legend-snr-flag')).toContainText('(67)');
  const note = page.getByTestId('snr-sanity');
  await expect(note).toContainText('67 scores');
  await expect(note.locator('li[data-type="block_sparse_moe.gate"]')).toContainText(
    '54 of 56 flagged (54 ∞); all 14 selected at 25% are flagged: the selection is decided by them, and the cut-off falls among equal values',
  );
  await expect(note.locator('li[data-type="self_attn.v_proj"]')).toContainText(
    '13 of 56 flagged (6 ∞, 7 ≥ 1000); 13 of the 14 selected at 25%',
  );
  // the tip of layer 0's router gate (the grid's fifth row), reached from the keyboard
  await grid.focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('tooltip')).toContainText('model.layers.0.block_sparse_moe.gate');
  await expect(page.getByRole('tooltip')).toContainText('SNR ∞: no singular value at or below τ');

  const plans = page.getByRole('region', { name: 'Plans' });
  await expect(plans.getByTestId('plans-spectrum-only')).toBeVisible();
  await expect(plans.getByRole('radio', { name: 'TempBalance' })).toBeDisabled();
  await expect(plans.getByRole('radio', { name: 'SNR rule' })).toBeChecked();
  await expect(plans.getByRole('region', { name: 'Sparsity' }).getByRole('button', { name: 'Sparsity JSON' })).toBeDisabled();
  const yaml = (await downloaded(page, plans.getByRole('region', { name: 'Learning rates' }), 'lr_groups YAML')).text;
  // the SNR rule by hand: layer 0's gate ties with 53 others at ∞, the type's top rank shared → mean rank (2 + 55)/2 of 0…55
  const lr = /- name: model\.layers\.0\.block_sparse_moe\.gate\n {2}modules:\n {2}- \S+\n {2}lr: (\S+)/.exec(yaml)?.[1];
  expect(Number(lr)).toBeCloseTo(2e-5 * (0.5 + (1.5 - 0.5) * (28.5 / 55)), 18);
});

test('Spectrum’s Qwen2.5-14B and Mistral-7B results: 2 flagged and none', async ({ page }) => {
  await page.goto('/?engine=cpu');
  await waitForScan(page, 'phase0-base');
  const dir = join(root, 'test-fixtures/spectrum-results');
  await page.getByTestId('file-input').setInputFiles(join(dir, 'snr_results_Qwen-Qwen2.5-14B.json'));
  await waitForScan(page, 'Qwen2.5-14B');
  await expect(page.locator('.checkpoint-view canvas[role="grid"]').first()).toHaveAttribute('data-flagged', '2');
  await expect(page.getByTestId('snr-sanity').locator('li[data-type="self_attn.v_proj"]')).toContainText(
    '2 of 48 flagged (1 ∞, 1 ≥ 1000); 2 of the 12 selected at 25%',
  );
  await page.getByTestId('file-input').setInputFiles(join(dir, 'snr_results_mistralai-Mistral-7B-v0.1.json'));
  await waitForScan(page, 'Mistral-7B');
  await expect(page.locator('.checkpoint-view canvas[role="grid"]').first()).toHaveAttribute('data-flagged', '0');
  await expect(page.getByTestId('snr-sanity')).toHaveCount(0);
});

test('?farms=1: the page computes FARMS alpha, the numbers the CLI’s scan --farms writes', async ({ page }) => {
  test.setTimeout(420_000);
  await page.goto('/?engine=cpu&farms=1');
  await page.getByRole('tab', { name: /phase0-base/ }).click();
  await expect(page.locator('.progress strong')).toHaveText(/^(Done|From the cache)/, { timeout: 300_000 });
  await page.getByLabel('Metric', { exact: true }).check();
  const picker = page.getByLabel('Metric to colour by');
  await expect(picker.locator('option[value="alpha_farms"]')).toBeEnabled();
  await picker.selectOption('alpha_farms');
  await expect(page.locator('.checkpoint-view .legend .ramp')).toBeVisible();
  const metrics = JSON.parse((await downloaded(page, page.getByRole('region', { name: 'Export' }), 'metrics.json')).text) as {
    matrices: (MetricsRow & { alpha_farms: number | null })[];
  };
  const cli = JSON.parse(
    await cliOutput(['scan', join(root, 'public/demo/phase0-base.safetensors'), '--farms', '--engine', 'cpu'], 'metrics.json'),
  ) as { matrices: (MetricsRow & { alpha_farms: number | null })[] };
  const cliFarms = new Map(cli.matrices.map((m) => [m.name, m.alpha_farms]));
  const blocks = metrics.matrices.filter(blockMatrix);
  expect(blocks).toHaveLength(16 * 7);
  for (const m of blocks) {
    expect(m.alpha_farms, m.name).not.toBeNull();
    // the same windows and fit; Chromium's Math.log may differ from Node's in the last bit
    expect(Math.abs(m.alpha_farms! - cliFarms.get(m.name)!), m.name).toBeLessThan(1e-9 * Math.abs(cliFarms.get(m.name)!));
  }
});

import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { buildSafetensors, gaussianMatrix } from '../test-fixtures/builders/safetensors.ts';
import { shardSafetensors } from '../test-fixtures/builders/shard.ts';
import { expectGrid } from './helpers.ts';

/** Damaged and hostile files in the page: weights with NaN/Infinity, and names and metadata that are markup. */

/** The centre of a heatmap cell, from the canvas's size and grid (the layout: `data-left` px of row labels, 22 px rows). */
async function cellCenter(canvas: Locator, row: number, col: number) {
  const box = (await canvas.boundingBox())!;
  const cols = Number(await canvas.getAttribute('data-cols'));
  // the row labels' margin widens for a long module name (these names are markup)
  const left = Number(await canvas.getAttribute('data-left'));
  const cellW = (box.width - left - 8) / cols;
  return { x: left + col * cellW + cellW / 2, y: 22 + row * 22 + 11, cellW };
}

/** How many pixels of a cell's interior are near white and near black (the hatch has both; a colour neither). */
async function cellInk(page: Page, canvas: Locator, row: number, col: number) {
  const { x, y, cellW } = await cellCenter(canvas, row, col);
  return canvas.evaluate(
    (c: HTMLCanvasElement, r) => {
      const dpr = c.width / c.getBoundingClientRect().width;
      const ctx = c.getContext('2d')!;
      const img = ctx.getImageData(
        Math.round((r.x - r.w / 2 + 3) * dpr),
        Math.round((r.y - 8) * dpr),
        Math.round((r.w - 6) * dpr),
        Math.round(16 * dpr),
      );
      let white = 0,
        black = 0;
      for (let i = 0; i < img.data.length; i += 4) {
        const [R, G, B] = [img.data[i], img.data[i + 1], img.data[i + 2]];
        if (R > 220 && G > 220 && B > 220) white++;
        if (R < 70 && G < 70 && B < 70) black++;
      }
      return { white, black, total: img.data.length / 4 };
    },
    { x, y, w: cellW },
  );
}

async function download(page: Page, button: string): Promise<string> {
  const [d] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('region', { name: 'Export' }).getByRole('button', { name: button, exact: true }).click(),
  ]);
  return readFileSync(await d.path(), 'utf8');
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

test('NaN and Infinity weights: "non-finite (k values)" in the tip and the detail, a hatched cell, and the scan goes on', async ({
  page,
}) => {
  const nan = 'model.layers.0.mlp.up_proj.weight';
  const inf = 'model.layers.1.self_attn.k_proj.weight';
  let seed = 1;
  const tensors = [0, 1].flatMap((layer) =>
    MODULES.map((m) => {
      const name = `model.layers.${layer}.${m}.weight`;
      const values = gaussianMatrix(24, 32, seed++, 0.05);
      if (name === nan) [1, 2, 3, 100, 200].forEach((i) => (values[i] = NaN));
      if (name === inf) [7, 8].forEach((i, k) => (values[i] = k ? -Infinity : Infinity));
      return { name, dtype: 'F32', shape: [24, 32], values };
    }),
  );
  await page.goto('/');
  await page
    .getByTestId('file-input')
    .setInputFiles({ name: 'nonfinite.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(buildSafetensors(tensors)) });
  await expect(page.getByRole('tab', { name: /nonfinite/ })).toHaveAttribute('aria-selected', 'true');
  const canvas = await expectGrid(page, 7, 2);
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 60_000 });
  await expect(page.locator('.progress')).toContainText('14 / 14 matrices');

  const upRow = MODULES.indexOf('mlp.up_proj');
  const kRow = MODULES.indexOf('self_attn.k_proj');
  const at = await cellCenter(canvas, upRow, 0);
  await canvas.hover({ position: { x: at.x, y: at.y } });
  await expect(page.getByRole('tooltip')).toContainText(nan);
  await expect(page.getByRole('tooltip')).toContainText('non-finite (5 values)');
  const at2 = await cellCenter(canvas, kRow, 1);
  await canvas.hover({ position: { x: at2.x, y: at2.y } });
  await expect(page.getByRole('tooltip')).toContainText('non-finite (2 values)');
  await canvas.click({ position: { x: at.x, y: at.y } });
  await expect(page.getByRole('region', { name: 'Matrix detail' })).toContainText('Non-finite weights (5 values are NaN or ±Infinity)');
  await page.mouse.move(0, 0);

  // hatched: black stripes on white, unlike any colour of the scale; the finite cells are plain colours
  for (const [row, col] of [
    [upRow, 0],
    [kRow, 1],
  ]) {
    const ink = await cellInk(page, canvas, row, col);
    expect(ink.white / ink.total, `cell ${row},${col} white`).toBeGreaterThan(0.2);
    expect(ink.black / ink.total, `cell ${row},${col} black`).toBeGreaterThan(0.1);
  }
  const plain = await cellInk(page, canvas, MODULES.indexOf('self_attn.q_proj'), 1);
  expect(plain.white + plain.black).toBe(0);

  // and in the SVG export: the two cells, and only they, filled with the hatch pattern
  const svg = await download(page, 'SVG');
  expect([...svg.matchAll(/<rect [^>]*fill="url\(#hatch\)">\s*<title>([^<]*)<\/title>/g)].map((m) => m[1]).sort()).toEqual(
    [nan, inf].sort(),
  );

  const metrics = JSON.parse(await download(page, 'metrics.json'));
  const row = (n: string) => metrics.matrices.find((m: { name: string }) => m.name === n);
  expect(row(nan)).toMatchObject({ status: 'non-finite', non_finite: 5, snr: null });
  expect(row(inf)).toMatchObject({ status: 'non-finite', non_finite: 2, snr: null });
  expect(metrics.matrices.filter((m: { status: string }) => m.status === 'ok')).toHaveLength(12);
});

test('names and metadata that are markup show as text in every view and export; nothing runs', async ({ page }) => {
  const img = '<img src=x onerror=alert(1)>';
  const inGrid = `model.layers.1.${img}.weight`;
  const formula = '=HYPERLINK("http://example.com","x").weight';
  const badDtype = 'model.layers.0.mlp.<script>alert(2)</script>.weight';
  const tensors = [
    { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [16, 16], values: gaussianMatrix(16, 16, 1) },
    { name: 'model.layers.1.self_attn.q_proj.weight', dtype: 'F32', shape: [16, 16], values: gaussianMatrix(16, 16, 2) },
    { name: inGrid, dtype: 'F32', shape: [16, 16], values: gaussianMatrix(16, 16, 3) },
    { name: formula, dtype: 'F32', shape: [16, 16], values: gaussianMatrix(16, 16, 4) },
    { name: badDtype, dtype: 'F4_<b>X</b>', shape: [4], bytes: new Uint8Array(4) },
  ];
  const bytes = buildSafetensors(tensors, { '<script>alert(3)</script>': '<img src=y onerror=alert(4)>' });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto('/');
  // a CSP violation would mean markup got as far as the DOM and was stopped only by the policy
  await page.evaluate(() => {
    (window as unknown as { violations: string[] }).violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { violations: string[] }).violations.push(`${e.violatedDirective} ${e.sample}`),
    );
  });
  await page
    .getByTestId('file-input')
    .setInputFiles({ name: `${img}.safetensors`, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
  const tab = page.getByRole('tab', { name: img });
  await expect(tab).toHaveAttribute('aria-selected', 'true');
  await expect(tab).toContainText(img);
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 60_000 });
  const canvas = await expectGrid(page, 3, 2);

  // the tip and the detail of the cell whose name is markup (rows: q_proj, the failed <script> cell, <img…>)
  const rows = await canvas.getAttribute('aria-label');
  expect(rows).toContain('3 module types');
  let found = false;
  for (let row = 0; row < 3 && !found; row++) {
    const at = await cellCenter(canvas, row, 1);
    await canvas.hover({ position: { x: at.x, y: at.y } });
    const tip = page.getByRole('tooltip');
    if (((await tip.textContent()) ?? '').includes(inGrid)) {
      found = true;
      await expect(tip).toContainText(inGrid);
      await canvas.click({ position: { x: at.x, y: at.y } });
    }
  }
  expect(found, 'a cell whose tip names the markup tensor').toBe(true);
  await expect(page.getByRole('region', { name: 'Matrix detail' })).toContainText(inGrid);
  const problems = page.getByRole('region', { name: 'Problems and skipped tensors' });
  await expect(problems).toContainText(`tensor "${badDtype}": unknown dtype "F4_<b>X</b>"`);
  await problems.locator('summary', { hasText: 'unmapped' }).click();
  await expect(problems.getByText(inGrid, { exact: true })).toBeVisible();
  await expect(page.getByRole('cell', { name: formula, exact: true })).toBeVisible(); // "outside the blocks"

  // nothing became an element
  await expect(page.locator('img[src="x"], img[src="y"], b:text("X")')).toHaveCount(0);
  expect(await page.locator('script').evaluateAll((els) => els.filter((e) => /alert/.test(e.textContent ?? '')).length)).toBe(0);

  const csv = await download(page, 'CSV');
  // formula cells get a leading quote; CSV quoting doubles the quotes inside
  expect(csv).toContain(`"'=HYPERLINK(""http://example.com"",""x"").weight"`);
  for (const line of csv.split('\n')) expect(line, line).not.toMatch(/^[=+\-@]/);
  expect(csv).toContain(inGrid);
  const svg = await download(page, 'SVG');
  expect(svg).not.toMatch(/<img|<script|<b>/);
  expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return {
      error: doc.querySelector('parsererror') !== null,
      foreign: doc.querySelectorAll('img, script, foreignObject').length,
      titles: [...doc.querySelectorAll('title')].map((t) => t.textContent),
    };
  }, svg);
  expect(parsed).toMatchObject({ error: false, foreign: 0 });
  expect(parsed.titles).toContain(inGrid);
  const metrics = JSON.parse(await download(page, 'metrics.json'));
  expect(metrics.matrices.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining([inGrid, formula]));
  expect(metrics.errors.map((e: { tensor?: string }) => e.tensor)).toContain(badDtype);

  expect(dialogs).toEqual([]);
  expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([]);
});

test('a sharded checkpoint with a shard missing and one cut short: the rest is analysed, the absent tensors listed', async ({ page }) => {
  let seed = 1;
  const tensors = [0, 1, 2, 3].flatMap((layer) =>
    MODULES.map((m) => ({
      name: `model.layers.${layer}.${m}.weight`,
      dtype: 'F32',
      shape: [16, 24],
      values: gaussianMatrix(16, 24, seed++),
    })),
  );
  const files = await shardSafetensors(buildSafetensors(tensors), 3);
  const index = JSON.parse(new TextDecoder().decode(files.get('model.safetensors.index.json'))).weight_map as Record<string, string>;
  const inShard = (f: string) => Object.keys(index).filter((t) => index[t] === f);
  const absent = inShard('model-00002-of-00003.safetensors');
  files.delete('model-00002-of-00003.safetensors');
  const cut = files.get('model-00003-of-00003.safetensors')!;
  files.set('model-00003-of-00003.safetensors', cut.subarray(0, cut.byteLength - 1000)); // the last 1000 bytes: one or two tensors
  await page.goto('/');
  await page
    .getByTestId('file-input')
    .setInputFiles([...files].map(([name, bytes]) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) })));
  await expect(page.getByRole('tab', { name: /^model/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 60_000 });

  const metrics = JSON.parse(await download(page, 'metrics.json'));
  const missing = metrics.missing.map((m: { name: string }) => m.name) as string[];
  const truncated = missing.filter((n) => !absent.includes(n));
  expect(truncated.length).toBeGreaterThan(0);
  expect(missing.sort()).toEqual([...absent, ...truncated].sort());
  expect(metrics.matrices).toHaveLength(tensors.length - missing.length);
  await expect(page.locator('.progress')).toContainText(`${tensors.length - missing.length} / ${tensors.length - missing.length} matrices`);

  const problems = page.getByRole('region', { name: 'Problems and skipped tensors' });
  await expect(problems).toContainText(
    `model-00002-of-00003.safetensors: shard named by the index is missing: ${absent.length} tensors not analysed`,
  );
  for (const t of truncated) await expect(problems).toContainText(`model-00003-of-00003.safetensors: tensor "${t}": data_offsets`);
  await problems.locator('summary', { hasText: 'missing' }).click();
  for (const t of missing) await expect(problems.locator('details li', { hasText: t })).toBeVisible();
});

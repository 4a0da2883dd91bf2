// Dev helper: walk every view of the page in Debian chromium and save a screenshot of each, at several sizes.
//   node e2e/look.mjs URL OUT_DIR [WIDTHxHEIGHT ...]      (default sizes: 1600x1000 1280x800 800x900)
// Screens: the checkpoint heatmap (selection, then each metric), the matrix detail, Phases, ΔW before and after
// Compute with its detail, the Session popover, the error and "Not opened" lists, the footer, the drag overlay.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

const [url = 'http://localhost:4173/?engine=cpu', out = '/tmp/look', ...sizeArgs] = process.argv.slice(2);
const sizes = (sizeArgs.length ? sizeArgs : ['1600x1000', '1280x800', '800x900']).map((s) => s.split('x').map(Number));
const only = process.env.LOOK_ONLY ? new RegExp(process.env.LOOK_ONLY) : null;
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--disable-background-networking'],
});

const demo = join(import.meta.dirname, '..', 'public/demo/phase0-base.safetensors');
// a checkpoint cut short: its header names tensors whose bytes are not there, one error line each
const truncated = { name: 'truncated.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(demo).subarray(0, 60_000) };
const loneConfig = { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from('{"model_type":"llama"}') };

for (const [width, height] of sizes) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  const shot = async (name, full = false) => {
    if (only && !only.test(name)) return;
    const path = join(out, `${width}-${name}.png`);
    await page.screenshot({ path, fullPage: full });
    console.log(path);
  };
  await page.goto(url);
  await page
    .locator('.progress strong')
    .filter({ hasText: /^(Done|From the cache)/ })
    .waitFor({ timeout: 60_000 });
  await shot('checkpoint', true);

  // each metric
  await page.getByLabel('Metric', { exact: true }).check();
  const metrics = await page
    .getByLabel('Metric to colour by')
    .locator('option')
    .evaluateAll((os) => os.map((o) => o.value));
  for (const m of metrics) {
    await page.getByLabel('Metric to colour by').selectOption(m);
    await shot(`metric-${m}`);
  }
  await page.getByLabel('Selection', { exact: true }).check();

  // the detail, opened from the keyboard
  const grid = page.locator('.checkpoint-view canvas[role="grid"]');
  await grid.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  await shot('detail');
  await page.keyboard.press('Tab');
  await shot('detail-tab');
  await page.keyboard.press('Escape');
  await page.waitForTimeout(200);
  await shot('detail-closed');

  // the Session popover
  await page.getByRole('button', { name: 'Session ▾' }).click();
  await page.waitForTimeout(300);
  await shot('session');
  await page.keyboard.press('Escape');

  // the footer: the cache line, at the bottom of the page
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await shot('footer');
  await page.evaluate(() => window.scrollTo(0, 0));

  // the drag overlay, as a file dragged over the page shows it
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'model.safetensors'));
    window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
  });
  await page.waitForTimeout(200);
  await shot('drag-overlay');
  await page.evaluate(() => window.dispatchEvent(new DragEvent('dragleave', { bubbles: true })));

  // Phases
  await page.getByRole('button', { name: 'Phases' }).click();
  await page.waitForTimeout(800);
  await shot('phases', true);
  await page.getByLabel('Metric', { exact: true }).check();
  await page.getByLabel('Metric to colour by').selectOption('alpha');
  await page.waitForTimeout(300);
  await shot('phases-alpha');
  await page.getByLabel('Selection', { exact: true }).check();

  // ΔW, before and after Compute, and a matrix's ΔW detail
  await page.getByRole('button', { name: 'ΔW' }).click();
  await shot('delta-before', true);
  await page.getByRole('button', { name: 'Compute ΔW' }).click();
  await page.getByTestId('delta-progress').locator('strong').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
  await shot('delta-after', true);
  const deltaGrid = page.locator('.delta-page canvas[role="grid"]');
  await deltaGrid.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  await shot('delta-detail');
  await page.keyboard.press('Escape');

  // errors: a truncated checkpoint and a lone config.json
  await page.getByRole('button', { name: 'Checkpoint', exact: true }).click();
  await page.getByTestId('file-input').setInputFiles([truncated, loneConfig]);
  await page.getByRole('tab', { name: /truncated/ }).click();
  await page
    .locator('.progress strong')
    .filter({ hasText: /^(Done|From the cache|Failed)/ })
    .waitFor({ timeout: 60_000 })
    .catch(() => {});
  await page.waitForTimeout(500);
  await shot('errors');
  await page.getByRole('region', { name: 'Problems and skipped tensors' }).scrollIntoViewIfNeeded();
  await shot('errors-list');
  await page.close();
}
await browser.close();

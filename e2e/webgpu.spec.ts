import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { root, waitForScan } from './helpers.ts';

/** A record as the session file keeps it: `engine` is the backend that computed it, `engineNote` why it is not the engine in use. */
interface SessionRecord {
  name: string;
  module: string;
  layer: number | null;
  engine: string;
  engineNote?: string;
}

interface Session {
  checkpoints: { name: string; status: string; errors: unknown[]; records: SessionRecord[] }[];
}

/** The demo's heatmap rows, top to bottom. */
const DEMO_MODULES = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
];

/** The page's session file (Session ▾ → Save as file): every checkpoint's records, in the order they came. */
async function saveSession(page: Page): Promise<Session> {
  await page.getByRole('button', { name: 'Session ▾' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as file' }).click()]);
  await page.getByRole('button', { name: 'Session ▾' }).click(); // closes the menu
  return JSON.parse(readFileSync(await download.path(), 'utf8')) as Session;
}

/** The tensors a safetensors file holds (its JSON header), sorted: every one is analysed in the demo. */
function tensorNames(path: string): string[] {
  const bytes = readFileSync(path);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8')) as Record<string, unknown>;
  return Object.keys(header)
    .filter((k) => k !== '__metadata__')
    .sort();
}

// The WebGPU engine in the page's workers, on Chromium's SwiftShader (a software GPU: slow, so one
// test scans the whole demo, ≈ 2 minutes). `?engine=webgpu` takes a software adapter, which the
// default `auto` turns down for the faster CPU engine.
test.describe('the page on the WebGPU engine', () => {
  test('scans the whole demo on WebGPU and downloads Spectrum’s own YAML for every phase and percent', async ({ page }, info) => {
    test.setTimeout(600_000);
    const started = Date.now();
    await page.goto('/?engine=webgpu');
    const badge = page.locator('[data-testid="engine-badge"]');
    await expect(badge).toHaveText('WebGPU engine', { timeout: 120_000 });
    await expect(badge).toHaveAttribute('title', /WebGPU engine \(.+\)/);
    for (const phase of ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct']) {
      await page.getByRole('tab', { name: new RegExp(phase) }).click();
      await expect(page.locator('.progress strong')).toHaveText(/^Done/, { timeout: 480_000 });
      await waitForScan(page, phase);
      for (const percent of [25, 20, 15]) {
        await page.getByLabel('Percent selected', { exact: true }).fill(String(percent));
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: `YAML (${percent}%)` }).click(),
        ]);
        const fromPage = readFileSync(await download.path(), 'utf8');
        const spectrum = join(
          root,
          `test-fixtures/expected/demo-phases/spectrum-${phase}/snr_results_spectral-workbench-demo-${phase}_unfrozenparameters_${percent}percent.yaml`,
        );
        expect(fromPage, `${phase} at ${percent} %`).toBe(readFileSync(spectrum, 'utf8'));
      }
    }
    await expect(badge).toHaveText('WebGPU engine');
    // No matrix went to the CPU on the way: a GPU failure on one matrix would send it there, and its
    // record would say "moved to the CPU: …". Each record names the backend that computed it, so the
    // only ones not from WebGPU are the precision guard's float64 recomputes, which say so.
    const session = await saveSession(page);
    const records = session.checkpoints.flatMap((c) => c.records);
    expect(records.length).toBeGreaterThan(400);
    const notOnGpu = records.filter((r) => r.engine !== 'webgpu');
    for (const r of notOnGpu) {
      expect(r.engine, r.name).toBe('cpu');
      expect(r.engineNote, r.name).toMatch(/^recomputed in float64: precision guard \(/);
    }
    expect(records.filter((r) => r.engine === 'webgpu' && r.engineNote !== undefined)).toEqual([]);
    // The matrix detail says so too (a matrix of the phase on screen, reached with the arrow keys).
    const recomputed = session.checkpoints.at(-1)!.records.find((r) => r.engine === 'cpu');
    expect(recomputed, 'a float64 recompute in the last phase (the demo has one per phase on SwiftShader)').toBeDefined();
    const canvas = page.locator('.checkpoint-view canvas[role="grid"]');
    await canvas.click({ position: { x: 132 + 5, y: 22 + 11 } });
    await canvas.focus();
    for (let i = 0; i < recomputed!.layer!; i++) await page.keyboard.press('ArrowRight');
    for (let i = 0; i < DEMO_MODULES.indexOf(recomputed!.module); i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toContainText(`${recomputed!.module} · layer ${recomputed!.layer}`);
    const engineNote = detail.locator('.numbers > div').filter({ has: page.locator('dt', { hasText: /^Engine note$/ }) });
    await expect(engineNote.locator('dd')).toHaveText(recomputed!.engineNote!);
    info.annotations.push({
      type: 'whole demo on WebGPU (SwiftShader)',
      description: `${records.length - notOnGpu.length} records on WebGPU, ${notOnGpu.length} recomputed in float64 (${notOnGpu.map((r) => r.name).join(', ')}), ${((Date.now() - started) / 1000).toFixed(0)} s`,
    });
  });

  test('the GPU device is lost mid-scan (test hook): the scan goes on on the CPU, loses nothing, and the page says why', async ({
    page,
  }, info) => {
    test.setTimeout(300_000);
    const started = Date.now();
    // TEST HOOK (engine-request.ts): the worker destroys its device while its 4th matrix is on the
    // GPU, as a driver reset would; one worker, so that the records' order is the order of the work.
    const loseAfter = 3;
    await page.goto(`/?engine=webgpu&workers=1&loseDeviceAfter=${loseAfter}`);
    const badge = page.locator('[data-testid="engine-badge"]');
    const phases = ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct'];
    for (const phase of phases) {
      await page.getByRole('tab', { name: new RegExp(phase) }).click();
      await expect(page.locator('.progress strong')).toHaveText(/^Done/, { timeout: 240_000 });
      await waitForScan(page, phase);
      for (const percent of [25, 20, 15]) {
        await page.getByLabel('Percent selected', { exact: true }).fill(String(percent));
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: `YAML (${percent}%)` }).click(),
        ]);
        const spectrum = join(
          root,
          `test-fixtures/expected/demo-phases/spectrum-${phase}/snr_results_spectral-workbench-demo-${phase}_unfrozenparameters_${percent}percent.yaml`,
        );
        expect(readFileSync(await download.path(), 'utf8'), `${phase} at ${percent} %`).toBe(readFileSync(spectrum, 'utf8'));
      }
    }
    // The page says that it fell back to the CPU, and why.
    await expect(badge).toHaveText('CPU engine');
    await expect(badge).toHaveAttribute(
      'title',
      /^CPU engine \(float64\): the WebGPU device was lost \(.*destroyed.*\); the scan went on on the CPU$/,
    );
    // said aloud, not only in the badge's title
    await expect(page.getByRole('status').filter({ hasText: 'the WebGPU device was lost' })).toContainText('the scan went on on the CPU');

    // Every record, in the order the worker made them (the session file keeps it): the first
    // `loseAfter` of the first checkpoint on WebGPU, the one in flight and all later ones on the CPU.
    const session = await saveSession(page);
    const engines: string[] = [];
    const records: SessionRecord[] = [];
    for (const [i, phase] of phases.entries()) {
      const ckpt = session.checkpoints[i];
      expect(ckpt.name, phase).toMatch(new RegExp(phase));
      expect(ckpt.status, phase).toBe('done');
      expect(ckpt.errors, phase).toEqual([]);
      expect(ckpt.records.map((r) => r.name).sort(), `${phase}: every tensor`).toEqual(
        tensorNames(join(root, `public/demo/${phase}.safetensors`)),
      );
      engines.push(...ckpt.records.map((r) => r.engine));
      records.push(...ckpt.records);
    }
    expect(engines).toEqual(engines.map((_, i) => (i < loseAfter ? 'webgpu' : 'cpu')));
    // The matrices on the GPU or queued for it when the device went (the worker takes two at a time)
    // say why they are on the CPU; every later one is the CPU engine's own.
    const moved = records.filter((r) => r.engineNote !== undefined);
    expect(moved.length).toBeGreaterThanOrEqual(1);
    expect(moved.length).toBeLessThanOrEqual(2);
    expect(records.slice(loseAfter, loseAfter + 2)).toEqual(expect.arrayContaining(moved));
    for (const r of moved) expect(r.engineNote, r.name).toMatch(/^moved to the CPU: .*destroyed/);
    info.annotations.push({
      type: 'device lost mid-scan',
      description: `${engines.filter((e) => e === 'webgpu').length} records on WebGPU, ${engines.filter((e) => e === 'cpu').length} on the CPU, ${((Date.now() - started) / 1000).toFixed(0)} s`,
    });
  });

  test('auto turns a software adapter down for the CPU engine, and says why', async ({ page }) => {
    await page.goto('/');
    const badge = page.locator('[data-testid="engine-badge"]');
    await waitForScan(page, 'phase0-base');
    // On a machine with a GPU this is the WebGPU engine; on CI's SwiftShader, the CPU with the reason.
    const title = (await badge.getAttribute('title')) ?? '';
    if (/software/.test(title)) await expect(badge).toHaveText('CPU engine');
    else await expect(badge).toHaveText(/(CPU|WebGPU) engine/);
  });
});

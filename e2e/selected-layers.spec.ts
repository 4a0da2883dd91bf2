import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { root, waitForScan } from './helpers.ts';

// Spectrum's own files for the demo checkpoints (spectrum.py run on the same weights): the independent reference.
const expected = (checkpoint: string, file: string) =>
  readFileSync(join(root, 'test-fixtures/expected/demo-phases', `spectrum-${checkpoint}`, file), 'utf8');
const spectrumYaml = (checkpoint: string, percent: number) =>
  expected(checkpoint, `snr_results_spectral-workbench-demo-${checkpoint}_unfrozenparameters_${percent}percent.yaml`);
/** module → type, from Spectrum's result JSON */
const spectrumTypes = (checkpoint: string) =>
  Object.entries(
    JSON.parse(expected(checkpoint, `model_snr_results/snr_results_spectral-workbench-demo-${checkpoint}.json`)) as Record<
      string,
      { type: string }
    >,
  ).map(([module, v]) => ({ module, type: v.type }));

/** A YAML read line by line: the entries before the first section, then each "# <type> layers" section's entries. */
function yamlSections(text: string): { fixed: string[]; sections: Map<string, string[]> } {
  const fixed: string[] = [];
  const sections = new Map<string, string[]>();
  let current: string[] = fixed;
  for (const line of text.split('\n')) {
    const header = /^# (.*) layers$/.exec(line);
    if (header) sections.set(header[1], (current = []));
    else if (line.startsWith('- ')) current.push(line.slice(2));
  }
  return { fixed, sections };
}

/** "0–3, 9" → [0, 1, 2, 3, 9] */
function expandRanges(text: string): number[] {
  return text.split(', ').flatMap((part) => {
    const [a, b = a] = part.split('–').map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

const panel = (page: Page) => page.getByRole('region', { name: 'Selected layers' });

async function setPercent(page: Page, percent: number) {
  await page.getByLabel('Percent selected', { exact: true }).fill(String(percent));
  await expect(page.getByRole('button', { name: `YAML (${percent}%)` })).toBeVisible();
}

async function downloadYaml(page: Page, percent: number): Promise<string> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page
      .getByRole('region', { name: 'Export' })
      .getByRole('button', { name: `YAML (${percent}%)` })
      .click(),
  ]);
  return readFileSync(await download.path(), 'utf8');
}

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
const SELECTED = '#2f9e44';
const NOT_SELECTED = '#d9480f';

test.describe('the "Selected layers" panel', () => {
  for (const checkpoint of ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct']) {
    test(`${checkpoint}: the panel lists exactly what the downloaded YAML unfreezes, at 25, 20 and 15 %`, async ({ page }) => {
      await page.goto('/');
      await waitForScan(page, checkpoint);
      const types = spectrumTypes(checkpoint);
      for (const percent of [25, 20, 15]) {
        await setPercent(page, percent);
        const downloaded = await downloadYaml(page, percent);
        // the download is Spectrum's own file, byte for byte
        expect(downloaded, `${checkpoint} at ${percent}%`).toBe(spectrumYaml(checkpoint, percent));
        // the panel's YAML lines are the downloaded bytes
        expect(await panel(page).getByTestId('selected-yaml').textContent()).toBe(downloaded);

        // the grouped lines: one per YAML section, in its order, naming exactly the section's entries
        const { fixed, sections } = yamlSections(downloaded);
        const lines = await panel(page).locator('.selected-types li').allTextContents();
        expect(lines[0]).toBe(`always unfrozen: ${fixed.join(', ')}`);
        expect(lines.length).toBe(1 + sections.size);
        const sectionTypes = [...sections.keys()];
        lines.slice(1).forEach((line, i) => {
          const m = /^(.+?): (.+?) \((\d+) of (\d+)\)( · always unfrozen by the YAML's first lines)?$/.exec(line);
          expect(m, line).not.toBeNull();
          const [, type, what, n, of, always] = m!;
          expect(type).toBe(sectionTypes[i]);
          const entries = sections.get(type)!;
          const named = what === 'none' ? [] : what === 'selected' ? [type] : expandRanges(what).map((l) => `model.layers.${l}.${type}`);
          expect([...named].sort(), line).toEqual([...entries].sort());
          expect(Number(n)).toBe(entries.length);
          expect(Number(of)).toBe(types.filter((t) => t.type === type).length);
          // the YAML's fixed lines are regular expressions that axolotl matches against the parameter names
          expect(!!always, line).toBe(fixed.some((pattern) => new RegExp(pattern).test(`${type}.weight`)));
        });
      }
    });
  }

  test('phase0-base at 25 %: the lines read as Spectrum’s file says (read off it by hand)', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    await setPercent(page, 25);
    const lines = await panel(page).locator('.selected-types li').allTextContents();
    expect(lines).toEqual([
      'always unfrozen: ^lm_head.weight$, ^model.embed_tokens.weight$',
      'input_layernorm: 0–3 (4 of 16)',
      "lm_head: none (0 of 1) · always unfrozen by the YAML's first lines",
      'mlp.down_proj: 2–5 (4 of 16)',
      'mlp.gate_proj: 2–5 (4 of 16)',
      'mlp.up_proj: 2–5 (4 of 16)',
      "model.embed_tokens: none (0 of 1) · always unfrozen by the YAML's first lines",
      'model.norm: none (0 of 1)',
      'post_attention_layernorm: 0–3 (4 of 16)',
      'self_attn.k_proj: 0, 3, 5, 9 (4 of 16)',
      'self_attn.o_proj: 0, 4, 13, 15 (4 of 16)',
      'self_attn.q_proj: 0, 3, 7, 9 (4 of 16)',
      'self_attn.v_proj: 0–2, 9 (4 of 16)',
    ]);
    // the table outside the blocks says what the YAML does with lm_head, the embedding and the final norm
    const outside = page.locator('table.outside tbody tr');
    await expect(outside.filter({ hasText: 'lm_head.weight' })).toContainText("yes: always unfrozen by Spectrum's YAML");
    await expect(outside.filter({ hasText: 'model.embed_tokens.weight' })).toContainText("yes: always unfrozen by Spectrum's YAML");
    await expect(outside.filter({ hasText: 'model.norm.weight' }).locator('td').last()).toHaveText('no');
    // the norms, which the grid does not draw: layers 0–3 of each selected, as the YAML says
    const strip = page.getByRole('img', { name: /1-D weights \(norms\), selected at 25%/ });
    for (const norm of ['input_layernorm', 'post_attention_layernorm']) {
      const cells = strip.locator(`g[data-module="${norm}"] rect`);
      await expect(cells).toHaveCount(16);
      expect(await cells.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-selected')))).toEqual(
        Array.from({ length: 16 }, (_, l) => String(l < 4)),
      );
    }
  });

  test('"Copy list" copies the lines the panel shows, as plain text', async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    await setPercent(page, 20);
    await panel(page).getByRole('button', { name: 'Copy list' }).click();
    await expect(panel(page).getByRole('button', { name: 'Copied' })).toBeVisible();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const lines = await panel(page).locator('.selected-types li').allTextContents();
    expect(copied).toBe(['snr_results_phase0-base_unfrozenparameters_20percent.yaml', ...lines].join('\n') + '\n');
  });

  test('at 100 % every matrix is selected: heatmap, norms, table, panel and YAML', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    // below 100 % both colours show, so the counts below can tell
    await setPercent(page, 25);
    await expect.poll(() => countColour(page, NOT_SELECTED)).toBeGreaterThan(0);
    await setPercent(page, 100);
    await expect.poll(() => countColour(page, NOT_SELECTED)).toBe(0);
    expect(await countColour(page, SELECTED)).toBeGreaterThan(0);
    const strip = page.getByRole('img', { name: /1-D weights \(norms\), selected at 100%/ });
    await expect(strip.locator('rect')).toHaveCount(32);
    await expect(strip.locator('rect[data-selected="false"]')).toHaveCount(0);
    for (const cell of await page.locator('table.outside tbody tr td:last-child').allTextContents()) expect(cell).toMatch(/^yes/);

    const types = spectrumTypes('phase0-base');
    const downloaded = await downloadYaml(page, 100);
    const { fixed, sections } = yamlSections(downloaded);
    expect(fixed).toEqual(['^lm_head.weight$', '^model.embed_tokens.weight$']);
    // every module Spectrum scored is an entry of the YAML, under its type
    expect([...sections.values()].flat().sort()).toEqual(types.map((t) => t.module).sort());
    for (const t of types) expect(sections.get(t.type), t.module).toContain(t.module);
    expect(await panel(page).getByTestId('selected-yaml').textContent()).toBe(downloaded);
    for (const line of (await panel(page).locator('.selected-types li').allTextContents()).slice(1)) {
      const [, n, of] = /\((\d+) of (\d+)\)/.exec(line)!;
      expect(n, line).toBe(of);
    }
    await expect(panel(page).locator('li[data-type="mlp.down_proj"]')).toHaveText('mlp.down_proj: 0–15 (16 of 16)');
    await expect(panel(page).locator('li[data-type="lm_head"]')).toHaveText(
      "lm_head: selected (1 of 1) · always unfrozen by the YAML's first lines",
    );
  });
});

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { gramPartLength } from '../src/core/gram-parts.ts';
import { longEmbeddingModel, writeSparseSafetensors } from '../test-fixtures/builders/sparse.ts';
import { cliOutput, tmp, waitForScan } from './helpers.ts';

/**
 * The page's workers share a long matrix: an embedding of three Gram parts (core/gram-parts.ts), which the
 * worker that is done with the layer's matrices helps to sum. The page's metrics.json holds the CLI's values
 * on one thread, where no part is shared.
 */
const HIDDEN = 16;
const VOCAB = 2 * gramPartLength(HIDDEN) + 54_321;

interface Row {
  name: string;
  sigma_max: number | null;
  snr: number | null;
  stable_rank: number | null;
  alpha: number | null;
}

test('a long matrix shared by the page workers gives the values of a one-thread CLI scan', async ({ page }) => {
  test.setTimeout(240_000);
  const dir = tmp();
  try {
    const tensors = longEmbeddingModel(VOCAB, HIDDEN);
    const { path } = writeSparseSafetensors(join(dir, 'long-embedding.safetensors'), tensors, () => true, 9);

    await page.goto('/?engine=cpu');
    await waitForScan(page, 'phase3-15pct');
    await page.getByTestId('file-input').setInputFiles(path);
    await expect(page.getByRole('tab', { name: /long-embedding/ })).toHaveAttribute('aria-selected', 'true');
    await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 180_000 });
    await expect(page.getByRole('region', { name: 'Problems and skipped tensors' })).toHaveCount(0);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('region', { name: 'Export' }).getByRole('button', { name: 'metrics.json', exact: true }).click(),
    ]);
    const fromPage = (JSON.parse(readFileSync(await download.path(), 'utf8')) as { matrices: Row[] }).matrices;
    const fromCli = new Map(
      (
        JSON.parse(await cliOutput(['scan', path, '--engine', 'cpu', '--threads', '1'], 'metrics.json')) as { matrices: Row[] }
      ).matrices.map((m) => [m.name, m]),
    );
    for (const { name } of tensors) expect(fromPage.map((m) => m.name)).toContain(name);
    for (const m of fromPage) {
      const cli = fromCli.get(m.name)!;
      // the singular values are the same bits; the fits use Math.log, which may differ from Node's in the last bit
      expect([m.sigma_max, m.snr, m.stable_rank], m.name).toEqual([cli.sigma_max, cli.snr, cli.stable_rank]);
      expect(Math.abs(m.alpha! - cli.alpha!), m.name).toBeLessThan(1e-9 * Math.abs(cli.alpha!));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { buildSafetensors, gaussianMatrix } from '../test-fixtures/builders/safetensors.ts';
import { tmp, waitForScan } from './helpers.ts';

/**
 * Cancel and reload: every finished matrix is in IndexedDB the moment it shows; a reload
 * or a closed tab loses none of them, and picking the same file again computes only the rest.
 * 24 matrices of 1024 × 1536 (bf16): about a second each on the CPU engine, so a scan takes long
 * enough to stop in the middle.
 */
const FILE = 'resume-24.safetensors';
const MATRICES = 24;
let dir = '';
let path = '';

test.beforeAll(() => {
  dir = tmp();
  path = join(dir, FILE);
  const tensors = Array.from({ length: MATRICES }, (_, i) => {
    const name = `model.layers.${Math.floor(i / 4)}.self_attn.${['q', 'k', 'v', 'o'][i % 4]}_proj.weight`;
    return { name, dtype: 'BF16', shape: [1024, 1536], values: gaussianMatrix(1024, 1536, i + 1, 0.02) };
  });
  writeFileSync(path, buildSafetensors(tensors));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Matrices of this file that the page's cache holds (read straight from IndexedDB). */
function cachedCount(page: Page): Promise<number> {
  return page.evaluate(
    (file) =>
      new Promise<number>((resolve, reject) => {
        const req = indexedDB.open('spectral-workbench');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const all = req.result.transaction('records').objectStore('records').getAll();
          all.onsuccess = () => {
            resolve((all.result as { record: { file: string } }[]).filter((r) => r.record.file === file).length);
            req.result.close();
          };
        };
      }),
    FILE,
  );
}

const shownDone = async (page: Page) =>
  Number(/(\d+) \/ \d+ matrices/.exec((await page.locator('.progress').textContent()) ?? '')?.[1] ?? -1);

async function startScan(page: Page): Promise<void> {
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct'); // the demo is done (and has created the cache)
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(page.getByRole('tab', { name: /resume-24/ })).toHaveAttribute('aria-selected', 'true');
}

/** Reopen the file and let it finish: returns how many the page said were left to compute. */
async function resume(page: Page): Promise<number> {
  await startScan(page);
  await expect(page.locator('.progress strong')).toHaveText('Done', { timeout: 120_000 });
  await expect(page.locator('.progress')).toContainText(`${MATRICES} / ${MATRICES} matrices`);
  const left = /resumed: (\d+) left to compute/.exec((await page.locator('.progress').textContent()) ?? '');
  expect(left, 'the progress line says the scan resumed').not.toBeNull();
  expect(await cachedCount(page)).toBe(MATRICES);
  return Number(left![1]);
}

test('cancelling mid-scan keeps every finished matrix; reopening the file computes only the rest', async ({ page }) => {
  test.setTimeout(240_000);
  await startScan(page);
  await expect.poll(() => shownDone(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.progress strong')).toHaveText(/^Cancelled/);
  const kept = await shownDone(page);
  expect(kept).toBeLessThan(MATRICES);
  // every matrix on screen is in the cache
  await expect.poll(() => cachedCount(page)).toBe(kept);

  await page.reload();
  const left = await resume(page);
  console.log(`cancelled with ${kept} of ${MATRICES} done and cached; after the reload ${left} were computed`);
  expect(left).toBe(MATRICES - kept);
});

test('closing the tab mid-scan keeps what was finished; a new tab resumes from there', async ({ page, context }) => {
  test.setTimeout(240_000);
  await startScan(page);
  await expect.poll(() => cachedCount(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
  const saved = await cachedCount(page);
  await expect(page.locator('.progress strong')).toHaveText('Scanning');
  await page.close(); // no cancel, no unload handler: the tab just goes

  const again = await context.newPage();
  const left = await resume(again);
  console.log(`tab closed with at least ${saved} of ${MATRICES} cached; the new tab computed ${left}`);
  // matrices finished between the count and the close may be saved too: at least `saved` were kept
  expect(left).toBeLessThanOrEqual(MATRICES - saved);
  expect(left).toBeGreaterThan(0);
});

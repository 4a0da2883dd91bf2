import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, type Page } from '@playwright/test';

export const root = join(import.meta.dirname, '..');
export const tmp = () => mkdtempSync(join(tmpdir(), 'sw-e2e-'));

/** Run the CLI, as a user would, and return the bytes of one file it writes. */
export async function cliOutput(args: string[], file: string): Promise<string> {
  const out = tmp();
  await promisify(execFile)(process.execPath, [join(root, 'bin/spectral-workbench.js'), ...args, '--out', out, '--quiet'], {
    cwd: root,
  }).catch((e: { code?: number }) => {
    if (e.code !== 2) throw e;
  });
  return readFileSync(join(out, file), 'utf8');
}

/** The heatmap of the active checkpoint, once it has every cell. */
export async function expectGrid(page: Page, rows: number, cols: number) {
  const canvas = page.locator('.checkpoint-view canvas[role="grid"]');
  await expect(canvas).toHaveAttribute('data-rows', String(rows));
  await expect(canvas).toHaveAttribute('data-cols', String(cols));
  return canvas;
}

export async function waitForScan(page: Page, tab: string) {
  await expect(page.getByRole('tab', { name: new RegExp(tab) })).toBeVisible();
  await page.getByRole('tab', { name: new RegExp(tab) }).click();
  await expect(page.locator('.progress strong')).toHaveText(/^(Done|From the cache)/, { timeout: 60_000 });
}

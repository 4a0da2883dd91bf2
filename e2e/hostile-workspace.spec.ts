import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { buildSafetensors, gaussianMatrix } from '../test-fixtures/builders/safetensors.ts';
import { expectGrid, tmp } from './helpers.ts';

test('a damaged session file is refused with the wrong field named; what is open stays', async ({ page }) => {
  const path = join(tmp(), 'damaged.swb.json');
  writeFileSync(
    path,
    JSON.stringify({
      format: 'spectral-workbench-session',
      version: 1,
      savedAt: '2026-01-01T00:00:00Z',
      checkpoints: [],
      plan: [],
      view: null,
    }),
  );
  await page.goto('/');
  await expect(page.getByRole('tab')).toHaveCount(4);
  await page.getByRole('button', { name: 'Session ▾' }).click();
  await page.getByTestId('session-input').setInputFiles(path);
  await expect(page.getByRole('status').filter({ hasText: 'damaged.swb.json' })).toContainText(
    'damaged.swb.json: session.view: expected an object',
  );
  await expect(page.getByRole('tab')).toHaveCount(4);
  await expectGrid(page, 7, 16);
});

test('tensors named after Object members open as data: the page keeps working', async ({ page }) => {
  const tensors = ['blk.0.constructor.weight', 'model.layers.0.toString.weight', 'model.layers.0.mlp.experts.0.hasOwnProperty.weight'].map(
    (name, i) => ({ name, dtype: 'F32', shape: [16, 16], values: gaussianMatrix(16, 16, i + 1, 0.25) }),
  );
  await page.goto('/');
  await expect(page.getByRole('tab')).toHaveCount(4);
  await page
    .getByTestId('file-input')
    .setInputFiles({ name: 'members.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(buildSafetensors(tensors)) });
  await expect(page.getByRole('tab', { name: /members/ })).toContainText(/matrices|error|cancelled|\d\/\d/, { timeout: 60_000 });
  await expect(page.getByRole('heading', { name: 'Spectral Workbench' })).toBeVisible();
  await expect(page.getByRole('alert').filter({ hasText: 'could not be shown' })).toHaveCount(0);
  // every other tab still renders
  await page.getByRole('tab', { name: /phase0-base/ }).click();
  await expectGrid(page, 7, 16);
});

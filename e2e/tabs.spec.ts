import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { root, tmp } from './helpers.ts';

test('a tab is renamed by a double click or F2, and closed with Undo', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('tab')).toHaveCount(4);
  const base = page.getByRole('tab', { name: /phase0-base/ });
  await base.dblclick();
  const field = page.getByRole('textbox', { name: 'New name for phase0-base' });
  await field.fill('Org/my_base');
  await field.press('Enter');
  await expect(page.getByRole('tab', { name: /Org\/my_base/ })).toBeVisible();
  // the exports take the new name
  await page.getByRole('tab', { name: /Org\/my_base/ }).click();
  await expect(page.getByRole('tab', { name: /Org\/my_base/ })).toContainText('matrices', { timeout: 60_000 });
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: /^YAML/ }).click();
  expect((await download).suggestedFilename()).toBe('snr_results_Org-my-base_unfrozenparameters_25percent.yaml');

  await page.getByRole('tab', { name: /phase1-25pct/ }).focus();
  await page.keyboard.press('F2');
  await page.keyboard.press('Escape'); // leaves the name as it was
  await expect(page.getByRole('tab', { name: /phase1-25pct/ })).toBeVisible();

  await page.getByRole('button', { name: 'Close phase1-25pct' }).click();
  await expect(page.getByRole('tab')).toHaveCount(3);
  await page.getByRole('status').getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByRole('tab')).toHaveCount(4);
  await expect(page.getByRole('tab').nth(1)).toContainText('phase1-25pct');
  await expect(page.getByRole('tab', { name: /phase1-25pct/ })).toHaveAttribute('aria-selected', 'true');
});

test('a checkpoint is named after the model: the Hugging Face cache layout of a dropped folder', async ({ page }) => {
  const dir = join(tmp(), 'models--Org--Tiny-Llama', 'snapshots', '3f1c0e5d');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), readFileSync(join(root, 'public/demo/phase0-base.safetensors')));
  writeFileSync(join(dir, 'config.json'), readFileSync(join(root, 'public/demo/config.json')));
  await page.goto('/');
  await expect(page.getByRole('tab')).toHaveCount(4);
  await page.getByTestId('folder-input').setInputFiles(join(dir, '..', '..'));
  await expect(page.getByRole('tab', { name: /Org\/Tiny-Llama/ })).toBeVisible({ timeout: 60_000 });
});

test('files that are not checkpoints are said, with the reason', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('tab')).toHaveCount(4);
  await page.getByTestId('file-input').setInputFiles([
    { name: 'passwd', mimeType: 'text/plain', buffer: Buffer.from('root:x:0:0:root:/root:/bin/bash\n') },
    { name: 'adapter_config.json', mimeType: 'application/json', buffer: Buffer.from('{"peft_type": "LORA"}') },
  ]);
  const alert = page.getByRole('alert').filter({ hasText: 'Not opened' });
  await expect(alert).toContainText('passwd: not a checkpoint (expected .safetensors, .gguf');
  await expect(alert).toContainText('adapter_config.json: found an adapter config but no adapter_model.safetensors beside it');
  await expect(page.getByRole('tab')).toHaveCount(4);
  await alert.getByRole('button', { name: 'Dismiss' }).click();
  await expect(alert).toHaveCount(0);
});

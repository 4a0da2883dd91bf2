import { expect, test } from '@playwright/test';
import { expectGrid, waitForScan } from './helpers.ts';

// The demo's grid: 132 px of row labels, 22 px of column labels, cells 22 px high; rows q, k, v, o, gate, up, down.
const cell = (col: number, row: number, width = 34) => ({ x: 132 + col * width + 5, y: 22 + row * 22 + 11 });

test.describe('tooltips and popovers', () => {
  test('the tip follows the pointer and leaves with it, after a click and after the detail is closed', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    const canvas = await expectGrid(page, 7, 16);
    const tips = page.getByRole('tooltip');
    await canvas.hover({ position: cell(0, 0) });
    await expect(tips).toHaveCount(1);
    await expect(tips).toContainText('model.layers.0.self_attn.q_proj.weight');
    await canvas.click({ position: cell(0, 0) });
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toContainText('self_attn.q_proj · layer 0');
    // the detail narrows the grid: its cells are found again from the canvas's width
    const width = Math.floor(((await canvas.boundingBox())!.width - 132 - 8) / 16);
    await canvas.hover({ position: cell(1, 1, width) });
    await expect(tips).toContainText('model.layers.1.self_attn.k_proj.weight');
    await page.mouse.move(2, 2);
    await expect(tips).toHaveCount(0);
    await detail.getByRole('button', { name: 'Close detail' }).click();
    await expect(detail).toHaveCount(0);
    await expect(tips).toHaveCount(0);
  });

  test('on the Phases page, hovering one grid then another leaves at most one tip, and none once the pointer is gone', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    // a cell clicked on the checkpoint page is the focused cell of every phase grid
    await (await expectGrid(page, 7, 16)).click({ position: cell(2, 1) });
    await page.getByRole('button', { name: 'Phases' }).click();
    const grids = page.getByTestId('phase-grid').locator('canvas[role="grid"]');
    await expect(grids).toHaveCount(4);
    const tips = page.getByRole('tooltip');
    await expect(tips).toHaveCount(0);
    for (let i = 0; i < 4; i++) {
      const box = (await grids.nth(i).boundingBox())!;
      // the last column, third row: inside every panel, with or without row labels
      await page.mouse.move(box.x + box.width - 12, box.y + 22 + 2 * 22 + 11, { steps: 4 });
      await expect(tips).toHaveCount(1);
      await expect(tips).toContainText('model.layers.15.self_attn.v_proj.weight');
    }
    await page.mouse.move(2, 2, { steps: 4 });
    await expect(tips).toHaveCount(0);
    // a keyboard tip in one grid gives way to the pointer over another
    await grids.nth(0).focus();
    await page.keyboard.press('ArrowRight');
    await expect(tips).toHaveCount(1);
    await expect(tips).toContainText('model.layers.3.self_attn.k_proj.weight');
    const second = (await grids.nth(1).boundingBox())!;
    await page.mouse.move(second.x + second.width - 12, second.y + 22 + 11, { steps: 4 });
    await expect(tips).toHaveCount(1);
    await expect(tips).toContainText('model.layers.15.self_attn.q_proj.weight');
  });

  test("arrow keys show the focused cell's tip; Escape closes the detail and keeps the grid's place", async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    const canvas = await expectGrid(page, 7, 16);
    const tips = page.getByRole('tooltip');
    await canvas.focus();
    await page.keyboard.press('Home'); // the focus put the cursor on the first cell: Home keeps it there and shows its tip
    await expect(tips).toContainText('model.layers.0.self_attn.q_proj.weight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await expect(tips).toHaveCount(1);
    await expect(tips).toContainText('model.layers.1.self_attn.k_proj.weight');
    await page.keyboard.press('Enter');
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toContainText('self_attn.k_proj · layer 1');
    await page.keyboard.press('Escape');
    await expect(detail).toHaveCount(0);
    // the focus stayed on layer 1's k_proj: the next move starts from there
    await page.keyboard.press('ArrowRight');
    await expect(tips).toContainText('model.layers.2.self_attn.k_proj.weight');
    // the pointer moving takes the keyboard's tip away
    await page.mouse.move(2, 2, { steps: 4 });
    await expect(tips).toHaveCount(0);

    // Escape closes a detail opened with the mouse too, wherever the focus is
    await canvas.click({ position: cell(0, 0, Math.floor(((await canvas.boundingBox())!.width - 132 - 8) / 16)) });
    await expect(detail).toContainText('self_attn.q_proj · layer 0');
    await detail.getByRole('heading').first().click();
    await page.keyboard.press('Escape');
    await expect(detail).toHaveCount(0);
    // and a tip under a still pointer
    await canvas.hover({ position: cell(3, 2) });
    await expect(tips).toHaveCount(1);
    await page.keyboard.press('Escape');
    await expect(tips).toHaveCount(0);
  });

  test('the Session popover closes on a click outside it, and on Escape before the detail under it', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    const session = page.getByRole('dialog', { name: 'Session' });
    const toggle = page.getByRole('button', { name: 'Session ▾' });
    await toggle.click();
    await expect(session).toBeVisible();
    await session.click({ position: { x: 3, y: 3 } }); // inside: it stays
    await expect(session).toBeVisible();
    await page.getByRole('heading', { name: 'Spectral Workbench' }).click();
    await expect(session).toHaveCount(0);

    await (await expectGrid(page, 7, 16)).click({ position: cell(0, 0) });
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toBeVisible();
    await toggle.click();
    await expect(session).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(session).toHaveCount(0);
    await expect(toggle).toBeFocused();
    await expect(detail).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(detail).toHaveCount(0);
  });
});

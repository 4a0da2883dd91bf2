import { expect, test, type Locator, type Page } from '@playwright/test';
import { expectGrid } from './helpers.ts';

// A laptop split screen or a small window: too narrow for the matrix detail beside the grid.
const NARROW = { width: 800, height: 900 };

/** The box of an element, as the page lays it out. */
async function box(l: Locator) {
  const b = await l.boundingBox();
  expect(b).not.toBeNull();
  return b!;
}

/**
 * The demo's heatmap once its scan is done: while it runs, the costliest matrices (the MLP's) arrive first, so the
 * first row is not yet attn.q and a cursor put on "the first cell" would start elsewhere.
 */
async function demoGridScanned(page: Page): Promise<Locator> {
  const grid = await expectGrid(page, 7, 16);
  await expect(page.locator('.progress strong')).toHaveText(/^(Done|From the cache)/, { timeout: 60_000 });
  return grid;
}

/** The detail opens in view as a dialog beside the grid, takes the focus, and gives it back to the grid on close. */
async function expectDetailDialog(page: Page, grid: Locator, heading: RegExp) {
  const dialog = page.getByRole('dialog', { name: 'Matrix detail' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading', { level: 2 })).toHaveText(heading);
  // in view from the first pixel, not below the fold
  const d = await box(dialog);
  expect(d.y).toBeGreaterThanOrEqual(0);
  expect(d.y).toBeLessThan(NARROW.height / 2);
  expect(d.x + d.width).toBeLessThanOrEqual(NARROW.width + 1);
  // the heatmap stays underneath, its left part (the row labels and the first layers) in view beside the dialog
  const g = await box(grid);
  expect(g.x + 150).toBeLessThan(d.x);
  await expect(dialog.getByRole('button', { name: 'Close detail' })).toBeFocused();
  // Escape closes it, and the focus is back on the grid, on the cell it left
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(grid).toBeFocused();
}

test.describe('a narrow page (800 × 900)', () => {
  test.use({ viewport: NARROW });

  test('the matrix detail opens as a dialog in view; Escape or × closes it and the focus goes back to the grid', async ({ page }) => {
    await page.goto('/');
    const grid = await demoGridScanned(page);
    await grid.focus(); // the cursor starts on the first cell
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expectDetailDialog(page, grid, /^self_attn\.k_proj · layer 0$/);

    // Arrow keys still move from the cell that was open: the next one opens
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Matrix detail' });
    await expect(dialog.getByRole('heading', { level: 2 })).toHaveText('self_attn.k_proj · layer 1');
    // the × button closes it too, the focus back on the grid; a click opens one as well
    await dialog.getByRole('button', { name: 'Close detail' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(grid).toBeFocused();
    await grid.click({ position: { x: 132 + 34 * 2 + 10, y: 22 + 22 * 4 + 10 } });
    await expect(dialog.getByRole('heading', { level: 2 })).toHaveText('mlp.gate_proj · layer 2');
    // the dialog's own content scrolls: its last note is reachable
    await dialog.locator('.note').last().scrollIntoViewIfNeeded();
    await expect(dialog.locator('.note').last()).toBeInViewport();
    // a click on the page beside it closes it
    await page.mouse.click(40, 450);
    await expect(dialog).toHaveCount(0);
    // no section-shaped detail left below the grid either
    await expect(page.getByRole('region', { name: 'Matrix detail' })).toHaveCount(0);
  });

  test("the ΔW page's matrix detail is the same dialog", async ({ page }) => {
    await page.goto('/?engine=cpu');
    await page.getByRole('button', { name: 'ΔW' }).click();
    await page.getByRole('button', { name: 'Compute ΔW' }).click();
    await expect(page.getByTestId('delta-progress').locator('strong')).toHaveText('Done', { timeout: 60_000 });
    const grid = page.locator('.delta-page canvas[role="grid"]');
    await grid.focus(); // the cursor starts on the first cell
    await page.keyboard.press('Enter');
    await expectDetailDialog(page, grid, /^ΔW · self_attn\.q_proj · layer 0$/);
  });

  test('the Phases titles are whole: no title is cut or clipped, and each names its checkpoint', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Phases' }).click();
    const titles = page.getByTestId('phase-grid').getByRole('heading');
    await expect(titles).toHaveCount(4);
    const names = ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct'];
    const percents = [25, 20, 15, 15];
    for (let i = 0; i < 4; i++) {
      const title = titles.nth(i);
      await expect(title).toHaveText(`Phase ${i + 1} trains the top ${percents[i]}% of ${names[i]}`);
      // nothing hidden: the text fits the box it is drawn in, which is inside the page
      const overflow = await title.evaluate((el) => ({
        x: el.scrollWidth - el.clientWidth,
        y: el.scrollHeight - el.clientHeight,
        ellipsis: getComputedStyle(el).textOverflow === 'ellipsis' && getComputedStyle(el).overflow !== 'visible',
      }));
      expect(overflow).toEqual({ x: 0, y: 0, ellipsis: false });
      const b = await box(title);
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(NARROW.width);
    }
  });
});

test('on a wide page the matrix detail stays a panel beside the grid, and the focus stays on the grid', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto('/');
  const grid = await demoGridScanned(page);
  await grid.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  const detail = page.getByRole('region', { name: 'Matrix detail' });
  await expect(detail).toBeVisible();
  await expect(page.getByRole('dialog', { name: 'Matrix detail' })).toHaveCount(0);
  const [d, g] = [await box(detail), await box(grid)];
  expect(d.x).toBeGreaterThanOrEqual(g.x + g.width);
  expect(d.y).toBeLessThan(1000 / 2);
  await expect(grid).toBeFocused();
  // × puts the focus back on the grid
  await detail.getByRole('button', { name: 'Close detail' }).click();
  await expect(detail).toHaveCount(0);
  await expect(grid).toBeFocused();
});

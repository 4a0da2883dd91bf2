import { describe, expect, it } from 'vitest';
import { phi3 } from '../../../test-fixtures/builders/families.ts';
import { scanFixture } from '../../../test-fixtures/builders/scan-file.ts';
import { heatmapGrid, recordSelected, spectrumSelection } from '../../state/heatmap-data.ts';
import { makePainter, NOT_SELECTED, SELECTED } from './colors.ts';

describe('the selection painter', () => {
  it("paints a fused tensor's split views as the YAML unfreezes their module: at 100 % every cell is selected", async () => {
    const records = await scanFixture(phi3({ layers: 4 }).files);
    const all = Object.values(records);
    for (const percent of [25, 100]) {
      const selected = new Set(spectrumSelection(all, percent, 'current').flatMap((t) => t.selected.map((m) => m.name)));
      const painter = makePainter(all, 'selection', 'snr', 'current', (r) => recordSelected(r, selected, records));
      const cells = [...heatmapGrid(all).cells.values()];
      // the split q/k/v and gate/up views are the cells Spectrum's module names do not name
      expect(cells.filter((r) => r.spectrumModule === null).length).toBeGreaterThan(0);
      const colours = cells.map((r) => painter.paint(r));
      if (percent === 100) expect(colours.every((c) => c?.kind === 'fill' && c.color === SELECTED)).toBe(true);
      else expect(colours.some((c) => c?.kind === 'fill' && c.color === NOT_SELECTED)).toBe(true);
    }
  });
});

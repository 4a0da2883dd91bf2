import { describe, expect, it } from 'vitest';
import type { HeatmapGrid } from '../../state/heatmap-data.ts';
import { PENDING } from './colors.ts';
import { heatmapLayout, hitTest } from './layout.ts';
import { heatmapSvg } from './svg.ts';

const modules = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
];
const grid: HeatmapGrid = { modules, layers: Array.from({ length: 16 }, (_, i) => i), cells: new Map(), failed: new Map() };

describe('heatmap axis titles', () => {
  it('sit in the label margins: the grid keeps its place (132 px of row labels, 22 px of layer numbers)', () => {
    const l = heatmapLayout(grid, 1000);
    expect([l.left, l.top, l.cellW, l.cellH]).toEqual([132, 22, 34, 22]);
    // "layer" ends 6 px left of the first layer number's column, on the numbers' line
    expect(l.axisTitles?.layer).toEqual({ x: 126, y: 11 });
    // "module" runs up the left edge, centred on the 7 rows: 22 + 7 × 22 / 2
    expect(l.axisTitles?.module).toEqual({ x: 10, y: 99 });
    expect(hitTest(grid, l, 132 + 5, 22 + 11)).toEqual({ module: 'self_attn.q_proj', layer: 0 });
  });

  it('are left out without row labels, where the margin is 4 px', () => {
    const l = heatmapLayout(grid, 1000, { rowLabels: false });
    expect(l.left).toBe(4);
    expect(l.axisTitles).toBeNull();
  });

  it('are in the SVG export at the same places as on the canvas', () => {
    const l = heatmapLayout(grid, 1000);
    const svg = heatmapSvg(grid, l, { paint: () => ({ kind: 'pending' }), scale: null }, 'demo');
    expect(svg).toContain(
      '<text x="126" y="11" text-anchor="end" dominant-baseline="middle" font-style="italic" fill="#868e96">layer</text>',
    );
    expect(svg).toContain('transform="translate(10,99) rotate(-90)"');
    expect(svg).toMatch(/rotate\(-90\)"[^>]*>module<\/text>/);
    expect(svg).toContain(`fill="${PENDING}"`);
  });
});

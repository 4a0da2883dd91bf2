import { describe, expect, it } from 'vitest';
import type { HeatmapGrid } from '../../state/heatmap-data.ts';
import { PENDING } from './colors.ts';
import { heatmapLayout, hitTest, shortModule } from './layout.ts';
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
      '<text x="126" y="11" text-anchor="end" dominant-baseline="middle" font-style="italic" fill="#5f6870">layer</text>',
    );
    expect(svg).toContain('transform="translate(10,99) rotate(-90)"');
    expect(svg).toMatch(/rotate\(-90\)"[^>]*>module<\/text>/);
    expect(svg).toContain(`fill="${PENDING}"`);
  });
});

/** WCAG 2 contrast ratio of a #rrggbb colour against white. */
function contrastOnWhite(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return 1.05 / (luminance + 0.05);
}

describe('heatmap labels', () => {
  it('axis titles in the SVG are at least 4.5:1 on white (WCAG AA for 11 px text)', () => {
    const svg = heatmapSvg(grid, heatmapLayout(grid, 1000), { paint: () => ({ kind: 'pending' }), scale: null }, 'demo');
    const fills = [...svg.matchAll(/font-style="italic" fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(fills).toHaveLength(2);
    for (const f of fills) expect(contrastOnWhite(f)).toBeGreaterThanOrEqual(4.5);
  });

  it('shortens module types the same way everywhere, norms included', () => {
    expect(['self_attn.q_proj', 'mlp.down_proj', 'post_attention_layernorm', 'pre_feedforward_layernorm'].map(shortModule)).toEqual([
      'attn.q',
      'mlp.down',
      'post_attn_norm',
      'pre_ffn_norm',
    ]);
  });

  it('widens the label margin for a label that 132 px would cut, keeping 132 px for the usual ones', () => {
    // 40 characters of 11 px text are about 240 px wide (6 px a glyph); the "module" title takes the first 18 px
    const long = 'block_sparse_moe.experts.0.w1_gate_shared';
    const l = heatmapLayout({ ...grid, modules: [...modules, long] }, 1000);
    expect(l.left - 6 - 18).toBeGreaterThanOrEqual(shortModule(long).length * 6);
    expect(heatmapLayout(grid, 1000).left).toBe(132);
  });
});

import type { HeatmapGrid } from '../../state/heatmap-data.ts';
import { cellKey } from '../../state/heatmap-data.ts';
import type { Cell } from '../../state/types.ts';
import { FAILED, FLAG_FILL, flagSize, PENDING, type Painter } from './colors.ts';
import { AXIS_TITLE_COLOR, AXIS_TITLES, shortModule, type HeatmapLayout } from './layout.ts';

export { shortModule };

/** Paint the grid on a canvas (device pixels scaled by the caller's transform). */
export function drawHeatmap(
  ctx: CanvasRenderingContext2D,
  grid: HeatmapGrid,
  l: HeatmapLayout,
  painter: Painter,
  marks: { focused: Cell | null; selected: Cell | null },
): void {
  ctx.clearRect(0, 0, l.width, l.height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#495057';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  grid.modules.forEach((m, row) => ctx.fillText(shortModule(m), l.left - 6, l.top + row * l.cellH + l.cellH / 2));
  ctx.textAlign = 'center';
  grid.layers.forEach((layer, col) => {
    if (col % l.labelEvery === 0) ctx.fillText(String(layer), l.left + col * l.cellW + l.cellW / 2, l.top / 2);
  });
  if (l.axisTitles) {
    const { layer, module } = l.axisTitles;
    const names = l.axisTitles.names ?? AXIS_TITLES;
    ctx.save();
    ctx.font = 'italic 11px system-ui, sans-serif';
    ctx.fillStyle = AXIS_TITLE_COLOR;
    ctx.textAlign = 'right';
    ctx.fillText(names.layer, layer.x, layer.y);
    ctx.translate(module.x, module.y);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(names.module, 0, 0);
    ctx.restore();
  }
  // made at the first non-finite cell only: building its tile on every draw showed in the page's long tasks
  let hatch: CanvasPattern | null | undefined;
  const hatchFill = () => (hatch === undefined ? (hatch = hatchPattern(ctx)) : hatch) ?? '#000';
  grid.modules.forEach((m, row) => {
    grid.layers.forEach((layer, col) => {
      const x = l.left + col * l.cellW;
      const y = l.top + row * l.cellH;
      const key = cellKey(m, layer);
      const paint = painter.paint(grid.cells.get(key));
      const failed = !grid.cells.has(key) && grid.failed.has(key);
      ctx.fillStyle = failed ? FAILED : paint.kind === 'fill' ? paint.color : paint.kind === 'hatch' ? hatchFill() : PENDING;
      ctx.fillRect(x + 0.5, y + 0.5, l.cellW - 1, l.cellH - 1);
      if (failed) {
        ctx.fillStyle = '#fff';
        ctx.fillText('!', x + l.cellW / 2, y + l.cellH / 2);
      }
      if (painter.flag?.(grid.cells.get(key))) {
        const f = flagSize(l.cellW, l.cellH);
        const right = x + l.cellW - 0.5;
        ctx.beginPath();
        ctx.moveTo(right - f, y + 0.5);
        ctx.lineTo(right, y + 0.5);
        ctx.lineTo(right, y + 0.5 + f);
        ctx.closePath();
        ctx.fillStyle = FLAG_FILL;
        ctx.fill();
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 1;
        ctx.stroke();
      }
      if (painter.finger?.(grid.cells.get(key))) {
        const f = flagSize(l.cellW, l.cellH);
        const bottom = y + l.cellH - 0.5;
        ctx.beginPath();
        ctx.moveTo(x + 0.5, bottom - f);
        ctx.lineTo(x + 0.5, bottom);
        ctx.lineTo(x + 0.5 + f, bottom);
        ctx.closePath();
        ctx.fillStyle = '#fff';
        ctx.fill();
        ctx.strokeStyle = FLAG_FILL;
        ctx.lineWidth = 1;
        ctx.stroke();
      }
      if (grid.cells.get(key)?.estimate) {
        // fast mode's estimate, not yet exact: a dashed white inner outline
        ctx.save();
        ctx.setLineDash([2, 2]);
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 2.5, y + 2.5, l.cellW - 5, l.cellH - 5);
        ctx.restore();
      }
      const mark = painter.mark?.(grid.cells.get(key));
      if (mark) {
        const r = Math.max(2, Math.min(4, l.cellW / 4));
        ctx.beginPath();
        ctx.arc(x + l.cellW / 2, y + l.cellH / 2, r, 0, 2 * Math.PI);
        ctx.strokeStyle = '#fff';
        ctx.fillStyle = '#fff';
        ctx.lineWidth = 1.5;
        if (mark === 'added') ctx.fill();
        else ctx.stroke();
      }
    });
  });
  for (const [cell, color, width] of [
    [marks.selected, '#212529', 2],
    [marks.focused, '#1c7ed6', 2],
  ] as const) {
    if (!cell) continue;
    const col = grid.layers.indexOf(cell.layer);
    const row = grid.modules.indexOf(cell.module);
    if (col < 0 || row < 0) continue;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.strokeRect(l.left + col * l.cellW + 1, l.top + row * l.cellH + 1, l.cellW - 2, l.cellH - 2);
  }
}

/** Diagonal black-on-white stripes: "non-finite weights", unlike any colour of a scale. */
function hatchPattern(ctx: CanvasRenderingContext2D): CanvasPattern | null {
  if (typeof OffscreenCanvas === 'undefined') return null;
  const tile = new OffscreenCanvas(6, 6);
  const t = tile.getContext('2d');
  if (!t) return null;
  t.fillStyle = '#fff';
  t.fillRect(0, 0, 6, 6);
  t.strokeStyle = '#111';
  t.lineWidth = 1.5;
  t.beginPath();
  t.moveTo(0, 6);
  t.lineTo(6, 0);
  t.stroke();
  return ctx.createPattern(tile, 'repeat');
}

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ErrorRecord } from '../../core/errors.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { cellKey, type HeatmapGrid } from '../../state/heatmap-data.ts';
import type { Cell } from '../../state/types.ts';
import type { Painter } from './colors.ts';
import { drawHeatmap } from './draw.ts';
import { heatmapLayout, hitTest, type AxisNames, type HeatmapLayout } from './layout.ts';

interface Props {
  grid: HeatmapGrid;
  painter: Painter;
  label: string;
  focused: Cell | null;
  selected: Cell | null;
  onFocus(cell: Cell | null): void;
  onOpen(cell: Cell): void;
  renderTip(record: MatrixRecord | undefined, cell: Cell, error: ErrorRecord | undefined): React.ReactNode;
  /** fixed width (phase views side by side); default: the container's */
  width?: number;
  rowLabels?: boolean;
  /** axis titles of a grid whose rows are not module types nor its columns layers (default: module, layer) */
  axisNames?: AxisNames;
  canvasRef?: React.RefObject<HTMLCanvasElement | null>;
  /** drawn under the grid, aligned with its columns */
  below?(layout: HeatmapLayout): React.ReactNode;
}

/**
 * The module × layer grid on a canvas (thousands of cells stay smooth), with hover tips, click to
 * open a matrix, and arrow keys to move between cells.
 *
 * One tip at a time, of whichever was used last: the pointer's cell while the pointer is over the
 * grid, or the focused cell's after the arrow keys moved the focus, while the grid keeps the keyboard
 * focus and the mouse stays still (a click focuses a cell too, but its tip leaves with the pointer).
 * Escape hides either.
 */
export function Heatmap({
  grid,
  painter,
  label,
  focused,
  selected,
  onFocus,
  onOpen,
  renderTip,
  width,
  rowLabels,
  axisNames,
  canvasRef,
  below,
}: Props) {
  const wrap = useRef<HTMLDivElement>(null);
  const ownCanvas = useRef<HTMLCanvasElement>(null);
  const canvas = canvasRef ?? ownCanvas;
  const [containerWidth, setContainerWidth] = useState(width ?? 800);
  const [hover, setHover] = useState<{ cell: Cell; x: number; y: number } | null>(null);
  const [keyboardTip, setKeyboardTip] = useState(false);
  // The focused cell's box is drawn only while this grid has the keyboard focus (the phases share one focused cell).
  const [hasFocus, setHasFocus] = useState(false);
  const hovering = hover !== null;

  // The keyboard's tip goes once the mouse really moves, here or over another grid (the phases side by side).
  // Chrome sends mouse moves without movement when the page moves under a still pointer: those are not the user.
  useEffect(() => {
    if (!keyboardTip) return;
    const onMove = (e: MouseEvent) => {
      if (e.movementX !== 0 || e.movementY !== 0) setKeyboardTip(false);
    };
    document.addEventListener('mousemove', onMove);
    return () => document.removeEventListener('mousemove', onMove);
  }, [keyboardTip]);

  // Escape hides a tip wherever the keyboard focus is (a tip must be dismissible without moving the pointer).
  useEffect(() => {
    if (!hovering && !keyboardTip) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setHover(null);
      setKeyboardTip(false);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [hovering, keyboardTip]);

  useEffect(() => {
    if (width !== undefined || !wrap.current) return;
    const ro = new ResizeObserver(([entry]) => setContainerWidth(Math.floor(entry.contentRect.width)));
    ro.observe(wrap.current);
    return () => ro.disconnect();
  }, [width]);

  // The same layout object while the grid and width stand, so that hovering does not redraw the canvas.
  const layoutWidth = width ?? containerWidth;
  const layout: HeatmapLayout = useMemo(
    () => heatmapLayout(grid, layoutWidth, { rowLabels, axisNames }),
    [grid, layoutWidth, rowLabels, axisNames],
  );

  useLayoutEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(layout.width * dpr);
    c.height = Math.round(layout.height * dpr);
    c.style.width = `${layout.width}px`;
    c.style.height = `${layout.height}px`;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawHeatmap(ctx, grid, layout, painter, { focused: hasFocus ? focused : null, selected });
  }, [grid, painter, layout, focused, hasFocus, selected, canvas]);

  const cellAt = (e: React.MouseEvent) => {
    const rect = (e.target as HTMLCanvasElement).getBoundingClientRect();
    return hitTest(grid, layout, e.clientX - rect.left, e.clientY - rect.top);
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (grid.modules.length === 0 || grid.layers.length === 0) return;
    const cur = focused ?? { module: grid.modules[0], layer: grid.layers[0] };
    let row = Math.max(0, grid.modules.indexOf(cur.module));
    let col = Math.max(0, grid.layers.indexOf(cur.layer));
    const moves: Record<string, () => void> = {
      ArrowLeft: () => (col = Math.max(0, col - 1)),
      ArrowRight: () => (col = Math.min(grid.layers.length - 1, col + 1)),
      ArrowUp: () => (row = Math.max(0, row - 1)),
      ArrowDown: () => (row = Math.min(grid.modules.length - 1, row + 1)),
      Home: () => (col = 0),
      End: () => (col = grid.layers.length - 1),
    };
    if (moves[e.key]) {
      e.preventDefault();
      if (focused) moves[e.key]();
      onFocus({ module: grid.modules[row], layer: grid.layers[col] });
      setHover(null);
      setKeyboardTip(true);
    } else if ((e.key === 'Enter' || e.key === ' ') && focused) {
      e.preventDefault();
      onOpen(focused);
    } else if (e.key === 'Escape' && !e.defaultPrevented) {
      // (a press that closed the detail or a popover keeps the grid's place)
      onFocus(null);
    }
  };

  const focusTip = keyboardTip && focused && !hover ? focusPosition(grid, layout, focused) : null;
  const tip = hover ?? focusTip;
  return (
    <div className="heatmap" ref={wrap}>
      <canvas
        ref={canvas}
        tabIndex={0}
        role="grid"
        aria-label={`${label}: ${grid.modules.length} ${axisNames ? `${axisNames.module}s` : 'module types'} × ${grid.layers.length} ${axisNames?.layer ?? 'layer'}s. Arrow keys move between cells, Enter opens one.`}
        onKeyDown={onKeyDown}
        onMouseMove={(e) => {
          if (keyboardTip && e.movementX === 0 && e.movementY === 0) return;
          const cell = cellAt(e);
          setHover(cell ? { cell, x: e.nativeEvent.offsetX, y: e.nativeEvent.offsetY } : null);
        }}
        onMouseLeave={() => setHover(null)}
        onMouseDown={() => setKeyboardTip(false)}
        onFocus={() => {
          setHasFocus(true);
          // the cursor starts on the last cell used, else the first, so that Enter opens one at once
          const inGrid = focused && grid.modules.includes(focused.module) && grid.layers.includes(focused.layer);
          if (!inGrid && grid.modules.length > 0 && grid.layers.length > 0) onFocus({ module: grid.modules[0], layer: grid.layers[0] });
        }}
        onBlur={() => {
          setKeyboardTip(false);
          setHasFocus(false);
        }}
        onClick={(e) => {
          const cell = cellAt(e);
          if (cell) {
            onFocus(cell);
            onOpen(cell);
          }
        }}
        data-cells={grid.modules.length * grid.layers.length}
        data-rows={grid.modules.length}
        data-cols={grid.layers.length}
        data-left={layout.left}
        data-flagged={painter.flag ? [...grid.cells.values()].filter((r) => painter.flag!(r)).length : undefined}
        data-fingers={painter.finger ? [...grid.cells.values()].filter((r) => painter.finger!(r)).length : undefined}
      />
      {below?.(layout)}
      {tip && (
        <div
          className="tip"
          role="tooltip"
          // the box clips what overflows it (it scrolls sideways): below the lower half's cells, the tip opens upwards
          style={{
            left: Math.min(tip.x + 14, layout.width - 260),
            top: tip.y > layout.height / 2 ? tip.y - 8 : tip.y + 16,
            transform: tip.y > layout.height / 2 ? 'translateY(-100%)' : undefined,
          }}
        >
          {renderTip(
            grid.cells.get(cellKey(tip.cell.module, tip.cell.layer)),
            tip.cell,
            grid.failed.get(cellKey(tip.cell.module, tip.cell.layer)),
          )}
        </div>
      )}
    </div>
  );
}

function focusPosition(grid: HeatmapGrid, l: HeatmapLayout, cell: Cell) {
  const col = grid.layers.indexOf(cell.layer);
  const row = grid.modules.indexOf(cell.module);
  if (col < 0 || row < 0) return null;
  return { cell, x: l.left + col * l.cellW + l.cellW / 2, y: l.top + row * l.cellH + l.cellH / 2 };
}

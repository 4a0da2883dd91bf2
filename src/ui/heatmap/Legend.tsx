import { pageScanMode } from '../../state/scan-controller.ts';
import { NOT_SELECTED, SELECTED, type Painter } from './colors.ts';

/** `?mode=fast`: the page's scans give estimates first, drawn with a dashed outline (draw.ts). */
const FAST_MODE = pageScanMode() === 'fast';

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toPrecision(3));

/** The key to the colours: green/red in selection mode, the metric's scale otherwise, the caller's own swatches, and the hatch. */
export function Legend({
  painter,
  percent,
  metricLabel,
  swatches = [],
  flagLabel,
  fingerLabel,
}: {
  painter: Painter;
  percent: number;
  metricLabel: string;
  swatches?: { color: string; label: string }[];
  /** the key to SNR sanity's corner flags, where the grid has any */
  flagLabel?: string;
  /** the key to the alpha-fit disagreement marks, where the grid shows any */
  fingerLabel?: string;
}) {
  const s = painter.scale;
  return (
    <div className="legend" aria-label="Legend">
      {s ? (
        <>
          <span>
            {metricLabel}
            {s.log ? ' (log scale)' : ''}
          </span>
          <span>{fmt(s.domain[0])}</span>
          <span
            className="ramp"
            title={s.marks.length ? "alpha between 2 and 6 is WeightWatcher's well-trained band" : undefined}
            style={{
              background: `linear-gradient(to right, ${Array.from({ length: 11 }, (_, i) => {
                const t = i / 10;
                const v = s.log ? s.domain[0] * (s.domain[1] / s.domain[0]) ** t : s.domain[0] + t * (s.domain[1] - s.domain[0]);
                return s.color(v);
              }).join(', ')})`,
            }}
          >
            {s.marks.map((m) => {
              const t = s.log
                ? Math.log(m / s.domain[0]) / Math.log(s.domain[1] / s.domain[0])
                : (m - s.domain[0]) / (s.domain[1] - s.domain[0]);
              return (
                <span key={m} className="ramp-mark" style={{ left: `${(100 * t).toFixed(1)}%` }}>
                  <span>{m}</span>
                </span>
              );
            })}
          </span>
          <span>{fmt(s.domain[1])}</span>
          {s.marks.length > 0 && <span className="muted">(marks: WeightWatcher's well-trained band 2–6)</span>}
        </>
      ) : (
        <>
          <span className="legend-item">
            <span className="swatch" style={{ background: SELECTED }} /> top {percent}% of its module type by Spectrum SNR
          </span>
          <span className="legend-item">
            <span className="swatch" style={{ background: NOT_SELECTED }} /> not selected
          </span>
        </>
      )}
      {swatches.map((w) => (
        <span key={w.label} className="legend-item">
          <span className="swatch" style={{ background: w.color }} /> {w.label}
        </span>
      ))}
      {flagLabel && (
        <span className="legend-item" data-testid="legend-snr-flag">
          <span className="swatch snr-flag" /> {flagLabel}
        </span>
      )}
      {fingerLabel && (
        <span className="legend-item" data-testid="legend-alpha-finger">
          <span className="swatch alpha-finger" /> {fingerLabel}
        </span>
      )}
      {FAST_MODE && (
        <span className="legend-item" data-testid="legend-estimate">
          <span className="swatch" style={{ background: NOT_SELECTED, outline: '1px dashed #fff', outlineOffset: -3 }} /> estimate (fast
          mode)
        </span>
      )}
      <span className="legend-item">
        <span className="swatch hatch" /> non-finite weights
      </span>
      <span className="legend-item">
        <span className="swatch failed" /> unreadable
      </span>
      <span className="legend-item">
        <span className="swatch pending" /> not analysed yet
      </span>
    </div>
  );
}

import { NOT_SELECTED, SELECTED, type Painter } from './colors.ts';

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toPrecision(3));

/** The key to the colours: green/red in selection mode, the metric's scale otherwise, and the hatch. */
export function Legend({ painter, percent, metricLabel }: { painter: Painter; percent: number; metricLabel: string }) {
  const s = painter.scale;
  return (
    <div className="legend" aria-label="Legend">
      {s ? (
        <>
          <span>{metricLabel}{s.log ? ' (log scale)' : ''}</span>
          <span>{fmt(s.domain[0])}</span>
          <span
            className="ramp"
            style={{
              background: `linear-gradient(to right, ${Array.from({ length: 11 }, (_, i) => {
                const t = i / 10;
                const v = s.log ? s.domain[0] * (s.domain[1] / s.domain[0]) ** t : s.domain[0] + t * (s.domain[1] - s.domain[0]);
                return s.color(v);
              }).join(', ')})`,
            }}
          />
          <span>{fmt(s.domain[1])}</span>
        </>
      ) : (
        <>
          <span className="swatch" style={{ background: SELECTED }} /> top {percent}% of its module type by Spectrum SNR
          <span className="swatch" style={{ background: NOT_SELECTED }} /> not selected
        </>
      )}
      <span className="swatch hatch" /> non-finite weights
      <span className="swatch failed" /> unreadable
      <span className="swatch pending" /> not analysed yet
    </div>
  );
}

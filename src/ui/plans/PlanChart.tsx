/** One bar per layer or step (its mean), with a whisker from the layer's lowest to its highest where they differ. */
export interface PlanBar {
  layer: number;
  value: number;
  min?: number;
  max?: number;
}

const W = 320;
const H = 96;
const PAD = { left: 52, right: 6, top: 8, bottom: 18 };

/**
 * A small per-layer bar chart (a plan's learning rate or sparsity against depth): an SVG that scales to its
 * box, with the y range and the layer axis labelled, and a text alternative naming the extremes.
 */
export function PlanChart({
  bars,
  domain,
  label,
  format,
  reference,
  xName = 'layer',
}: {
  bars: readonly PlanBar[];
  /** the y range drawn (the rule's bounds, so that bars compare across settings) */
  domain: [number, number];
  label: string;
  format(v: number): string;
  /** a dashed horizontal line (the base rate η, the target S) */
  reference?: { value: number; label: string };
  /** what the bars are (the x axis): layers, or a run's steps */
  xName?: string;
}) {
  if (bars.length === 0) return null;
  const [lo, hi] = domain[1] > domain[0] ? domain : [domain[0] - 1, domain[0] + 1];
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const bw = innerW / bars.length;
  const y = (v: number) => PAD.top + innerH * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo));
  const base = y(lo);
  const lowest = bars.reduce((a, b) => (b.value < a.value ? b : a));
  const highest = bars.reduce((a, b) => (b.value > a.value ? b : a));
  const every = Math.max(1, Math.ceil(bars.length / 8));
  return (
    <svg
      className="plan-chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`${label}: ${xName} ${lowest.layer} lowest (${format(lowest.value)}), ${xName} ${highest.layer} highest (${format(highest.value)})`}
    >
      <text x={PAD.left - 4} y={PAD.top + 4} textAnchor="end" className="axis">
        {format(hi)}
      </text>
      <text x={PAD.left - 4} y={base} textAnchor="end" className="axis">
        {format(lo)}
      </text>
      <line x1={PAD.left} x2={W - PAD.right} y1={base} y2={base} stroke="#adb5bd" />
      {bars.map((b, i) => {
        const x = PAD.left + i * bw;
        const top = y(b.value);
        return (
          <g key={b.layer}>
            <rect x={x + bw * 0.15} y={top} width={Math.max(1, bw * 0.7)} height={Math.max(0, base - top)} fill="#4c6ef5">
              <title>{`${xName} ${b.layer}: ${format(b.value)}${b.min !== undefined && b.max !== undefined && b.min !== b.max ? ` (${format(b.min)}–${format(b.max)})` : ''}`}</title>
            </rect>
            {b.min !== undefined && b.max !== undefined && b.min !== b.max && (
              <line x1={x + bw / 2} x2={x + bw / 2} y1={y(b.min)} y2={y(b.max)} stroke="#212529" strokeWidth={1} />
            )}
            {i % every === 0 && (
              <text x={x + bw / 2} y={H - 4} textAnchor="middle" className="axis">
                {b.layer}
              </text>
            )}
          </g>
        );
      })}
      {reference && reference.value >= lo && reference.value <= hi && (
        <g>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(reference.value)} y2={y(reference.value)} stroke="#d9480f" strokeDasharray="4 3" />
          <text x={PAD.left - 4} y={y(reference.value) + 3} textAnchor="end" className="axis ref">
            {reference.label}
          </text>
        </g>
      )}
    </svg>
  );
}

import { line } from 'd3';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { num } from '../format.ts';
import { logScales, PLOT, PlotFrame } from './PlotFrame.tsx';

const { width: W, height: H, margin: M } = PLOT;

/**
 * The empirical spectral density as a complementary CDF on log–log axes (λ = σ², no rescaling, as
 * WeightWatcher forms it), with the power law fitted from xmin and the Marchenko–Pastur bulk edge.
 */
export function EsdPlot({ record }: { record: MatrixRecord }) {
  const sv = record.singularValues;
  const h = record.htsr;
  if (!sv || !h) return null;
  const lambdas = Array.from(sv, (s) => s * s)
    .filter((l) => l > 1e-12)
    .sort((a, b) => a - b);
  const n = lambdas.length;
  if (n < 2) return <p className="note">Too few positive eigenvalues for an ESD.</p>;
  const points = lambdas.map((l, i) => ({ l, p: (n - i) / n }));
  const { x, y } = logScales([lambdas[0], lambdas[n - 1] * 1.1], [1 / n / 1.5, 1.05]);
  const ccdf =
    line<{ l: number; p: number }>()
      .x((d) => x(d.l))
      .y((d) => y(d.p))(points) ?? '';
  let fit = '';
  if (h.alpha !== null && h.xmin !== null && h.num_pl_spikes) {
    const share = h.num_pl_spikes / n;
    const xs = [h.xmin, lambdas[n - 1]];
    fit =
      line<number>()
        .x((v) => x(v))
        .y((v) => y(share * (v / h.xmin!) ** (1 - h.alpha!)))(xs) ?? '';
  }
  return (
    <PlotFrame
      label={`Eigenvalue distribution of ${record.name}: complementary CDF, power-law fit alpha ${num(h.alpha)}`}
      x={x}
      y={y}
      xTickCount={4}
      yTickCount={4}
      xLabel="λ = σ²"
      yLabel="P(Λ ≥ λ)"
    >
      <path d={ccdf} fill="none" stroke="#1c7ed6" strokeWidth={1.6} />
      {fit && <path d={fit} fill="none" stroke="#e8590c" strokeWidth={1.6} strokeDasharray="6 3" />}
      {h.xmin !== null && <line x1={x(h.xmin)} x2={x(h.xmin)} y1={M.top} y2={H - M.bottom} stroke="#e8590c" strokeWidth={0.8} />}
      {h.bulk_max !== null && h.bulk_max > lambdas[0] && h.bulk_max < lambdas[n - 1] * 1.1 && (
        <g>
          <line x1={x(h.bulk_max)} x2={x(h.bulk_max)} y1={M.top} y2={H - M.bottom} stroke="#5f3dc4" strokeDasharray="3 3" />
          <text x={x(h.bulk_max) + 3} y={H - M.bottom - 6} fontSize={10} fill="#5f3dc4">
            MP edge
          </text>
        </g>
      )}
      {fit && (
        <text x={W - M.right - 4} y={M.top + 10} textAnchor="end" fontSize={10} fill="#e8590c">
          power law from xmin, α = {num(h.alpha)}
        </text>
      )}
    </PlotFrame>
  );
}

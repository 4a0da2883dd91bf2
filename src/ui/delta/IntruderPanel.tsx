import { useSyncExternalStore } from 'react';
import { INTRUDER_DEFAULTS, type IntruderMatrixReport } from '../../core/metrics/intruders.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { IntruderRuns } from '../../state/low-rank.ts';
import { pageIntruders } from '../../state/low-rank-page.ts';
import { useApp } from '../../state/store.ts';

const BAR = 90;

/**
 * Intruder dimensions of one ΔW matrix, on demand (two full SVDs in the low-rank worker): the
 * fine-tuned matrix's top singular vectors, each with its largest |cos| against the base's, with the
 * paper's code's defaults stated. The run lives in the state layer: closing the detail or a change
 * of layout keeps it; Cancel stops it.
 */
export function IntruderPanel({ record }: { record: MatrixRecord }) {
  const computed = useApp((s) => s.delta.computed);
  const names = useApp((s) => s.checkpoints);
  const key = computed ? IntruderRuns.key(computed, record.name) : '';
  const run = useSyncExternalStore(pageIntruders.subscribe, () => pageIntruders.get(key));
  if (!computed || record.vector) return null;
  const nameOf = (id: string) => (Object.hasOwn(names, id) ? names[id].name : id);
  const { k, threshold } = INTRUDER_DEFAULTS;
  return (
    <section className="intruders" aria-label="Intruder dimensions">
      <h3>Intruder dimensions</h3>
      <p className="note">
        The top {k} left singular vectors of {nameOf(computed.toId)}'s matrix, each with its largest |cos| against every left singular
        vector of {nameOf(computed.fromId)}'s; below {threshold} it is an intruder (Shuttleworth et al. 2024, arXiv 2410.21228; k, the
        threshold and the side are the defaults of the paper's published code). Two full SVDs, computed in a worker.
      </p>
      {run?.status === 'running' ? (
        <p role="status">
          Computing the SVDs… <button onClick={() => pageIntruders.cancel(key)}>Cancel</button>
        </p>
      ) : (
        <button onClick={() => void pageIntruders.start(computed, record.name)}>
          {run?.status === 'done' ? 'Compute again' : 'Intruder dimensions'}
        </button>
      )}
      {run?.status === 'cancelled' && <p className="note">Cancelled.</p>}
      {run?.status === 'failed' && <p className="warn error-line">{run.message}</p>}
      {run?.status === 'done' && <IntruderTable report={run.report} />}
    </section>
  );
}

function IntruderTable({ report }: { report: IntruderMatrixReport }) {
  const x = (c: number) => c * BAR;
  return (
    <>
      <p data-testid="intruder-count">
        <strong>
          {report.intruders} of {report.k}
        </strong>{' '}
        top singular vectors are intruders (compared with {report.baseVectors} base singular vectors).
      </p>
      <table className="delta-changes intruder-table" aria-label="Intruder dimensions of the top singular vectors">
        <thead>
          <tr>
            <th>#</th>
            <th>σ</th>
            <th>max |cos|</th>
            <th aria-hidden="true"></th>
            <th>intruder</th>
          </tr>
        </thead>
        <tbody>
          {report.dimensions.map((d) => (
            <tr key={d.index}>
              <td>{d.index + 1}</td>
              <td>{d.sigma.toPrecision(5)}</td>
              <td title={`closest: base singular vector ${d.baseIndex + 1}`}>{d.maxCos.toFixed(4)}</td>
              <td aria-hidden="true">
                <svg width={BAR} height={10} role="presentation">
                  <rect x={0} y={1} width={BAR} height={8} fill="#e9ecef" />
                  <rect x={0} y={1} width={x(d.maxCos)} height={8} fill={d.intruder ? '#c92a2a' : '#1c7ed6'} />
                  <line x1={x(report.threshold)} x2={x(report.threshold)} y1={0} y2={10} stroke="#212529" strokeDasharray="2 1" />
                </svg>
              </td>
              <td>{d.intruder ? <strong className="warn">yes</strong> : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

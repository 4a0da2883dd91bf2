import { formatBytes, formatDuration } from '../../core/scan/progress.ts';
import { scanner } from '../../state/scanner.ts';
import type { DeltaState } from '../../state/types.ts';

const STATUS: Record<DeltaState['status'], string> = {
  idle: 'Not computed yet',
  queued: 'Waiting for the scans in progress',
  scanning: 'Computing ΔW',
  done: 'Done',
  cancelled: 'Cancelled: the matrices done so far are kept',
  failed: 'Could not compute ΔW',
};

/** ΔW matrices done, bytes read (both checkpoints), throughput, ETA, and Cancel. */
export function DeltaProgress({ delta }: { delta: DeltaState }) {
  const p = delta.progress;
  const done = Object.keys(delta.records).length;
  const running = delta.status === 'scanning' || delta.status === 'queued';
  return (
    <div className="progress" aria-live="polite" data-testid="delta-progress">
      <div className="progress-line">
        <strong>{STATUS[delta.status]}</strong>
        <span>
          {done} / {delta.totalJobs} matrices
          {p && ` · ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ${formatBytes(p.bytesPerSecond)}/s`}
          {delta.status === 'scanning' && p?.etaMs != null && ` · ETA ${formatDuration(p.etaMs)}`}
          {p && ` · ${formatDuration(p.elapsedMs)} elapsed`}
        </span>
        {running && (
          <button className="cancel" onClick={() => scanner.cancelDelta()}>
            Cancel
          </button>
        )}
      </div>
      <progress max={Math.max(1, delta.totalJobs)} value={done} aria-label="ΔW matrices analysed" />
    </div>
  );
}

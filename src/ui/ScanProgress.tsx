import { ownValue } from '../core/data-record.ts';
import { formatBytes, formatDuration } from '../core/scan/progress.ts';
import { scanner } from '../state/scanner.ts';
import type { CheckpointState } from '../state/types.ts';

/** Matrices and bytes done, throughput, ETA, and Cancel (which keeps what is done). */
export function ScanProgress({ checkpoint }: { checkpoint: CheckpointState }) {
  const p = checkpoint.progress;
  const done = Object.keys(checkpoint.records).length;
  const total = checkpoint.totalJobs;
  const statusText: Record<CheckpointState['status'], string> = {
    opening: 'Reading the headers…',
    scanning: 'Scanning',
    done: checkpoint.fromCache && !p ? 'From the cache (scanned before)' : 'Done',
    cancelled: 'Cancelled: the matrices done so far are kept (drop the file again to resume)',
    failed: 'Could not open',
  };
  return (
    <div className="progress" aria-live="polite">
      <div className="progress-line">
        <strong>{ownValue(statusText, checkpoint.status) ?? checkpoint.status}</strong>
        <span>
          {done} / {total} matrices
          {p && ` · ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ${formatBytes(p.bytesPerSecond)}/s`}
          {checkpoint.status === 'scanning' && p?.etaMs != null && ` · ETA ${formatDuration(p.etaMs)}`}
          {p && ` · ${formatDuration(p.elapsedMs)} elapsed`}
          {/* a resumed scan computes only the matrices the cache lacks: say how many */}
          {checkpoint.fromCache && p && ` · resumed: ${p.matricesTotal} left to compute, the rest from the cache`}
        </span>
        {checkpoint.status === 'scanning' && (
          <button className="cancel" onClick={() => scanner.cancelScan(checkpoint.id)}>
            Cancel
          </button>
        )}
      </div>
      <progress max={Math.max(1, total)} value={done} aria-label="Matrices analysed" />
    </div>
  );
}

import { ownValue } from '../core/data-record.ts';
import { formatBytes, formatDuration } from '../core/scan/progress.ts';
import { scanner } from '../state/scanner.ts';
import { groupErrors, whatFailed } from '../state/error-groups.ts';
import type { CheckpointState } from '../state/types.ts';

/** Why a checkpoint that opened gave no matrix: the commonest error, or that it holds none. */
function nothingReason(c: CheckpointState): string {
  if (c.errors.length > 0) {
    const [common] = groupErrors(c.errors);
    const all = common.errors.length === c.errors.length;
    return `${whatFailed(c.errors)}: ${common.detail}${all ? '' : ` (${common.errors.length} of them; the others below)`}`;
  }
  if (c.status === 'cancelled') return 'cancelled before the first matrix was done';
  if (c.skipped.length > 0) {
    const [first] = c.skipped;
    const all = c.skipped.every((s) => s.reason === first.reason);
    return `the file holds no weight matrix: its ${c.skipped.length} tensors are skipped (${all ? first.reason : 'below'})`;
  }
  return 'the file holds no weight matrix (its header lists no tensor to analyse)';
}

/** Matrices and bytes done, throughput, ETA, and Cancel (which keeps what is done). */
export function ScanProgress({ checkpoint }: { checkpoint: CheckpointState }) {
  const p = checkpoint.progress;
  const done = Object.keys(checkpoint.records).length;
  const total = checkpoint.totalJobs;
  // A file that opened but gave no matrix at all is an error, not "Done 0 / 0": say what went wrong.
  const nothingAnalysed = done === 0 && (checkpoint.status === 'done' || checkpoint.status === 'cancelled');
  const failed = checkpoint.status === 'failed' || (nothingAnalysed && checkpoint.status === 'done');
  const statusText: Record<CheckpointState['status'], string> = {
    opening: 'Reading the headers…',
    scanning: 'Scanning',
    done: nothingAnalysed ? 'Nothing analysed' : checkpoint.fromCache && !p ? 'From the cache (scanned before)' : 'Done',
    cancelled: 'Cancelled: the matrices done so far are kept (drop the file again to resume)',
    failed: 'Could not open',
  };
  return (
    <div className={failed ? 'progress failed' : 'progress'} aria-live="polite">
      <div className="progress-line">
        <strong>{ownValue(statusText, checkpoint.status) ?? checkpoint.status}</strong>
        {checkpoint.status === 'failed' ? (
          <span>the file opened no matrix (the reason is below)</span>
        ) : nothingAnalysed ? (
          <span>{nothingReason(checkpoint)}</span>
        ) : (
          <span>
            {done} / {total} matrices
            {p && ` · ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ${formatBytes(p.bytesPerSecond)}/s`}
            {checkpoint.status === 'scanning' && p?.etaMs != null && ` · ETA ${formatDuration(p.etaMs)}`}
            {p && ` · ${formatDuration(p.elapsedMs)} elapsed`}
            {/* a resumed scan computes only the matrices the cache lacks: say how many */}
            {checkpoint.fromCache && p && ` · resumed: ${p.matricesTotal} left to compute, the rest from the cache`}
          </span>
        )}
        {checkpoint.status === 'scanning' && (
          <button className="cancel" onClick={() => scanner.cancelScan(checkpoint.id)}>
            Cancel
          </button>
        )}
      </div>
      {!failed && <progress max={Math.max(1, total)} value={done} aria-label="Matrices analysed" />}
    </div>
  );
}

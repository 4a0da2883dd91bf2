import { useStore } from 'zustand';
import { ownValue } from '../core/data-record.ts';
import { workspace } from '../state/scanner.ts';
import type { CheckpointState } from '../state/types.ts';
import { reopenGives, sourceLabel } from '../state/workspace-persistence.ts';

/**
 * On a tab restored from the last visit without its files: what the tab shows comes from the cache,
 * and what re-opening the files would add. Where the browser kept a handle to them, one click asks
 * for permission to read them again (the browser only asks after a click).
 */
export function ReopenBanner({ checkpoint }: { checkpoint: CheckpointState }) {
  const detached = useStore(workspace.reopen, (s) => ownValue(s.detached, checkpoint.id));
  const source = useStore(workspace.reopen, (s) => ownValue(s.sources, checkpoint.id));
  if (!detached || checkpoint.status === 'opening' || checkpoint.status === 'scanning') return null;
  const files = source ? sourceLabel(source) : 'its files';
  const gives = reopenGives(checkpoint);
  const canAsk = !!source && source.handles.length > 0;
  return (
    <div className="reopen-banner" role="status" data-testid="reopen-banner">
      <p>
        Restored from your last visit without its files.{' '}
        {canAsk ? (
          <>
            Read {files} again {gives}.
          </>
        ) : (
          <>
            Re-open {files} {gives} (drop {source && source.paths.length > 1 ? 'them' : 'it'} on the page, or use <em>Open files…</em>)
          </>
        )}
      </p>
      {canAsk && <button onClick={() => void workspace.reconnect(checkpoint.id, { prompt: true })}>Allow reading {files}</button>}
      {detached.problem && <p className="warn">{detached.problem}</p>}
    </div>
  );
}

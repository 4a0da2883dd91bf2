import { useEffect } from 'react';
import { scanner } from '../state/scanner.ts';
import { useApp } from '../state/store.ts';
import { formatBytes } from '../core/scan/progress.ts';

/** What the scan cache holds on this machine, and a button that empties it. */
export function CacheControl() {
  const usage = useApp((s) => s.cache.usage);
  useEffect(() => {
    void scanner.refreshCacheUsage();
  }, []);
  return (
    <span className="cache-control" data-testid="cache-control">
      <span>
        Cached scans: {usage ? `${usage.scans} checkpoint${usage.scans === 1 ? '' : 's'}` : '…'}
        {usage?.bytes != null && ` · ${formatBytes(usage.bytes)} used by this page`}
      </span>
      <button
        type="button"
        disabled={usage?.scans === 0}
        title="Forget every cached matrix on this machine: an opened file is then computed again. Saved sessions stay."
        onClick={() => void scanner.clearCache()}
      >
        Clear cached scans
      </button>
    </span>
  );
}

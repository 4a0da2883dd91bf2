import { indexedDbScanCache } from './cache.ts';
import { ScanController } from './scan-controller.ts';
import { appStore } from './store.ts';
import { BrowserScanPool } from './worker-pool.ts';

/** The page's one scan controller: the app store, Web Workers, the IndexedDB cache. */
export const scanner = new ScanController({ store: appStore, makePool: () => new BrowserScanPool(), cache: indexedDbScanCache });

/** The embedded demo (public/demo), fetched from this page's own origin. */
export function loadDemo(): Promise<void> {
  return scanner.loadDemo(async (name) => {
    const response = await fetch(`${import.meta.env.BASE_URL}demo/${name}`);
    if (!response.ok) throw new Error(`demo/${name}: HTTP ${response.status}`);
    return response.blob();
  });
}

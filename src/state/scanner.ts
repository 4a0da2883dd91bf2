import { indexedDbScanCache, indexedDbWorkspaceStorage } from './cache.ts';
import { ScanController } from './scan-controller.ts';
import { appStore } from './store.ts';
import { BrowserScanPool } from './worker-pool.ts';
import { WorkspacePersistence } from './workspace-persistence.ts';

/** One file of the embedded demo (public/demo), fetched from this page's own origin. */
async function fetchDemoFile(name: string): Promise<Blob> {
  const response = await fetch(`${import.meta.env.BASE_URL}demo/${name}`);
  if (!response.ok) throw new Error(`demo/${name}: HTTP ${response.status}`);
  return response.blob();
}

/** The page's one scan controller: the app store, Web Workers, the IndexedDB cache. */
export const scanner = new ScanController({
  store: appStore,
  makePool: () => new BrowserScanPool(),
  cache: indexedDbScanCache,
  onAdopted: (from, into) => workspace.adopted(from, into),
  onAttached: (id) => workspace.attached(id),
  onReplaced: () => workspace.replaced(),
});

/** The workspace kept in IndexedDB for a reload or a new tab. */
export const workspace = new WorkspacePersistence({
  store: appStore,
  controller: scanner,
  cache: indexedDbScanCache,
  storage: indexedDbWorkspaceStorage,
  fetchDemo: fetchDemoFile,
});

/** The embedded demo's four checkpoints, each remembered with its files (a reload fetches them again). */
export function loadDemo(): Promise<void> {
  return scanner.loadDemo(fetchDemoFile, (id, files) =>
    workspace.remember(id, { origin: 'demo', paths: files.map((f) => f.name), folder: null, handles: [] }),
  );
}

/** The demo training run (public/demo/timeline): its manifest lists the checkpoints and their files, since a page cannot list a folder. */
const DEMO_RUN = 'timeline';

function demoRunManifest(text: string): { checkpoints: string[]; files: string[] } {
  const m: unknown = JSON.parse(text);
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string' && /^[\w.-]+$/.test(x));
  if (typeof m !== 'object' || m === null || !('checkpoints' in m) || !('files' in m) || !strings(m.checkpoints) || !strings(m.files))
    throw new Error(`${DEMO_RUN}/manifest.json: expected lists of checkpoint folders and file names`);
  return { checkpoints: m.checkpoints as string[], files: m.files as string[] };
}

/** Open the demo training run on the Run page: every file fetched from this page's own origin, then scanned newest and oldest first. */
export async function loadDemoRun(): Promise<void> {
  const manifest = demoRunManifest(await (await fetchDemoFile(`${DEMO_RUN}/manifest.json`)).text());
  const checkpoints = await Promise.all(
    manifest.checkpoints.map(async (folder) => {
      const path = `${DEMO_RUN}/${folder}`;
      const files = await Promise.all(manifest.files.map(async (name) => new File([await fetchDemoFile(`${path}/${name}`)], name)));
      const trainerState = files.find((f) => f.name === 'trainer_state.json') ?? null;
      return { path, files: files.filter((f) => f !== trainerState), trainerState };
    }),
  );
  await scanner.openRun({ name: DEMO_RUN, origin: 'demo', order: 'steps', checkpoints });
}

/**
 * Open the page: the workspace of the last visit if there is one, else the demo; from then on
 * every change to the workspace is saved.
 */
export async function startPage(): Promise<void> {
  const outcome = await workspace.restore().catch((e: unknown) => {
    const why = e instanceof Error ? e.message : String(e);
    appStore
      .getState()
      .setCache({ problem: `The workspace of your last visit could not be restored (${why}), so the page opens on the demo.` });
    return 'unreadable' as const;
  });
  workspace.start();
  // a tab going away saves what the last few hundred milliseconds changed
  window.addEventListener('pagehide', () => void workspace.save());
  if (outcome !== 'restored') await loadDemo();
}

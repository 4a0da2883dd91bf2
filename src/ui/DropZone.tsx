import { useEffect, useRef, useState } from 'react';
import { groupCheckpoints, ignoredFiles, runOfDrop, type PickedFile } from '../state/group-files.ts';
import { appStore } from '../state/store.ts';
import { scanner, workspace } from '../state/scanner.ts';
import { checkpointSource, type ReadableHandle } from '../state/workspace-persistence.ts';

/** Files of a dropped folder, walked through the entries API, with their paths inside it. */
async function entryFiles(entry: FileSystemEntry, prefix = ''): Promise<PickedFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ file, path: prefix + file.name }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: PickedFile[] = [];
  // readEntries returns at most 100 entries per call: read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const e of batch) out.push(...(await entryFiles(e, `${prefix}${entry.name}/`)));
  }
  return out;
}

/** Spectrum's own result files (snr_results_<model>.json) open as phases without weights. */
const isSpectrumJson = (name: string) => /^snr_results_.*\.json$/i.test(name);

/** `handles`: the dropped items' File System Access handles by name (Chromium), kept so that a reload can read them again. */
function open(picked: PickedFile[], handles: ReadonlyMap<string, ReadableHandle> = new Map()): void {
  for (const p of picked.filter((x) => isSpectrumJson(x.file.name))) void scanner.importSpectrumJson(p.file);
  const weights = picked.filter((x) => !isSpectrumJson(x.file.name));
  // a training run's output folder (checkpoint-<step>/ …) opens on the Run page, its checkpoints scanned as one run
  const run = runOfDrop(weights);
  if (run) {
    void scanner.openRun({ ...run, origin: 'user', order: 'steps' });
    appStore.getState().setView({ page: 'run' });
    return;
  }
  for (const group of groupCheckpoints(weights)) {
    const id = scanner.addCheckpoint(group.files, group.folder ? { folder: group.folder } : {});
    workspace.remember(id, checkpointSource(group.files, group.folder, picked, handles));
  }
  // what opened nothing is said, never dropped in silence (a new drop replaces the list)
  appStore.getState().setIgnored(ignoredFiles(weights));
}

/** Drop files or a folder anywhere on the page, or pick them; each checkpoint found is scanned. */
export function DropZone() {
  const [dragging, setDragging] = useState(false);
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);

  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      depth++;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => e.preventDefault();
    // preventDefault and the entries are taken before the first await, while the drop event is still live
    const dropped = async (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const items = [...(e.dataTransfer?.items ?? [])].filter((i) => i.kind === 'file');
      const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
      const handleOf = (i: DataTransferItem) =>
        (i as DataTransferItem & { getAsFileSystemHandle?(): Promise<ReadableHandle | null> }).getAsFileSystemHandle?.().catch(() => null);
      const handles = items.map(handleOf);
      const picked =
        entries.length > 0
          ? (await Promise.all(entries.map((en) => entryFiles(en)))).flat()
          : [...(e.dataTransfer?.files ?? [])].map((file) => ({ file, path: file.name }));
      const kept = (await Promise.all(handles)).filter((h): h is ReadableHandle => !!h);
      open(picked, new Map(kept.map((h) => [h.name, h])));
    };
    // a folder the browser cannot walk (permissions) leaves its error in the console: there is nothing to scan
    const drop = (e: DragEvent) => void dropped(e);
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);

  const fromInput = (input: HTMLInputElement | null) => {
    const list = [...(input?.files ?? [])];
    open(list.map((file) => ({ file, path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name })));
    if (input) input.value = '';
  };

  return (
    <div className="dropzone">
      <p>
        Drop a <code>.safetensors</code> or <code>.gguf</code> file, shards with their <code>model.safetensors.index.json</code>, a LoRA
        adapter with its <code>adapter_config.json</code> (with its base model too: the merged weights), a whole folder, or Spectrum's own{' '}
        <code>snr_results_*.json</code> anywhere on this page.
      </p>
      <div className="buttons">
        <button onClick={() => files.current?.click()}>Open files…</button>
        <button onClick={() => folder.current?.click()}>Open folder…</button>
      </div>
      <input
        ref={files}
        type="file"
        multiple
        accept=".safetensors,.gguf,.json"
        hidden
        data-testid="file-input"
        onChange={(e) => fromInput(e.currentTarget)}
      />
      <input
        ref={folder}
        type="file"
        hidden
        data-testid="folder-input"
        {...{ webkitdirectory: '' }}
        onChange={(e) => fromInput(e.currentTarget)}
      />
      {dragging && (
        <div className="drop-overlay">
          <span>Drop to analyse: nothing leaves this machine</span>
        </div>
      )}
    </div>
  );
}

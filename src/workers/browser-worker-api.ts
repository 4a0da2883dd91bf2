import { openCheckpoint, type CheckpointInfo } from '../core/formats/checkpoint.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';
import { createAnalyzer, type Analyzer } from './analyzer.ts';
import { blobSource } from './blob-source.ts';

/** A file of a checkpoint, as the page refers to it across the worker boundary. */
export function fileRef(checkpointId: string, fileName: string): string {
  return `${checkpointId}/${fileName}`;
}

export interface BrowserWorkerApi extends Analyzer<string> {
  /** hand the worker a checkpoint's files (File objects are handles: nothing is read yet) */
  attach(checkpointId: string, files: File[]): void;
  detach(checkpointId: string): void;
  /** read the headers only, and say what the checkpoint holds */
  open(checkpointId: string, name: string | undefined): Promise<CheckpointInfo>;
}

/** The page's scan worker: the shared analyzer, with File handles as the way to the bytes. */
export function createBrowserWorkerApi(): BrowserWorkerApi {
  const files = new Map<string, File>();
  const analyzer = createAnalyzer<string>((ref) => {
    const file = files.get(ref);
    if (!file) throw new Error(`${ref.split('/').pop()}: the file is no longer attached`);
    return blobSource(file);
  });
  return {
    ...analyzer,
    attach(checkpointId, list) {
      for (const f of list) files.set(fileRef(checkpointId, f.name), f);
    },
    detach(checkpointId) {
      for (const key of [...files.keys()]) if (key.startsWith(`${checkpointId}/`)) files.delete(key);
    },
    async open(checkpointId, name) {
      const sources: ByteSource[] = [...files.entries()].filter(([k]) => k.startsWith(`${checkpointId}/`)).map(([, f]) => blobSource(f));
      const { sources: _sources, ...info } = await openCheckpoint(sources, name);
      return info;
    },
  };
}

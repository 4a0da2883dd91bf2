import { ScanError } from '../core/errors.ts';
import type { ByteSink, OutputFolder } from '../core/rewrite/sink.ts';

/** A folder the user picked in the page (File System Access API; Chromium-based browsers). */
export type DirectoryHandle = FileSystemDirectoryHandle;

/**
 * An OutputFolder in a picked folder. Each file is written through a FileSystemWritableFileStream,
 * which the browser keeps in a temporary file until it is closed: `commit` closes them all (each then
 * replaces its name at once), `abort` discards them and removes the names it made. A file already in
 * the folder is refused before anything is written, as the CLI does without --force.
 */
export async function directoryOutput(dir: DirectoryHandle, opts: { replace?: boolean } = {}): Promise<OutputFolder> {
  const open = new Map<string, FileSystemWritableFileStream>();
  const failed = (name: string, e: unknown) =>
    new ScanError('WRITE_FAILED', name, undefined, `could not be written in ${dir.name}: ${e instanceof Error ? e.message : String(e)}`);
  return {
    async create(name): Promise<ByteSink> {
      if (!opts.replace) {
        const exists = await dir.getFileHandle(name).then(
          () => true,
          () => false,
        );
        if (exists) throw new ScanError('WRITE_FAILED', name, undefined, `${dir.name}/${name} exists: pick an empty folder`);
      }
      const stream = await dir
        .getFileHandle(name, { create: true })
        .then((h) => h.createWritable())
        .catch((e: unknown) => {
          throw failed(name, e);
        });
      open.set(name, stream);
      return {
        write: (bytes) =>
          stream.write(bytes as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
            throw failed(name, e);
          }),
        close: async () => {},
      };
    },
    async commit() {
      for (const [name, stream] of open)
        await stream.close().catch((e: unknown) => {
          throw failed(name, e);
        });
      open.clear();
    },
    async abort() {
      // getFileHandle(create) made an empty file for each: they go too
      for (const [name, stream] of open) {
        await stream.abort().catch(() => {});
        await dir.removeEntry(name).catch(() => {});
      }
      open.clear();
    },
  };
}

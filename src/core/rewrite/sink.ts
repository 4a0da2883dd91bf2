/**
 * Where rewritten checkpoints go, without saying how: the CLI writes files inside --out (temporary
 * names, renamed at the end), the page a File System Access folder or Blobs. Core streams into a
 * ByteSink and never holds a whole output file.
 */
export interface ByteSink {
  /** append these bytes (the sink may keep the array until the promise settles, not after) */
  write(bytes: Uint8Array): Promise<void>;
  /** every byte written: the file is complete (it may still be renamed into place by commit) */
  close(): Promise<void>;
}

/** A folder of output files, all or nothing: `commit` puts every file in place, `abort` leaves none. */
export interface OutputFolder {
  /** a new file of this name (a plain name, no folder) */
  create(name: string): Promise<ByteSink>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** The files kept in memory (tests, and the page's download of a small output as Blobs). */
export interface MemoryOutput extends OutputFolder {
  /** the committed files by name (empty until commit) */
  readonly files: Map<string, Uint8Array>;
}

export function memoryOutput(): MemoryOutput {
  const open = new Map<string, Uint8Array[]>();
  const files = new Map<string, Uint8Array>();
  return {
    files,
    async create(name) {
      if (open.has(name)) throw new Error(`${name} is created twice`);
      const chunks: Uint8Array[] = [];
      open.set(name, chunks);
      return {
        async write(bytes) {
          chunks.push(bytes.slice());
        },
        async close() {},
      };
    },
    async commit() {
      for (const [name, chunks] of open) files.set(name, concatBytes(chunks));
      open.clear();
    },
    async abort() {
      open.clear();
    },
  };
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export function textBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ExportFile } from '../core/exports/spectrum-bundle.ts';
import { UsageError } from './args.ts';

/** The system's words for the errors a user can fix by choosing another folder. */
const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENOENT: 'the folder above takes no new entries',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

function errnoOf(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : '';
}

function reason(e: unknown): string {
  const code = errnoOf(e);
  return Object.hasOwn(WHY, code) ? `${WHY[code]} (${code})` : e instanceof Error ? e.message : String(e);
}

const statOrNull = (path: string) =>
  stat(path).catch((e: unknown) => {
    if (errnoOf(e) === 'ENOENT') return null;
    throw e;
  });

/**
 * mkdir -p, one level at a time: Node 20's recursive mkdir never settles where the parent exists but
 * refuses new entries (`/proc/x`), and this also says which part of the path is a file.
 */
async function makeFolder(path: string, flag: string, given: string): Promise<void> {
  const info = await statOrNull(path).catch((e: unknown) => {
    if (errnoOf(e) !== 'ENOTDIR') throw new UsageError(`${flag} ${given}: ${reason(e)}`, false);
    return null; // a part above is a file: found while walking up
  });
  if (info?.isDirectory()) return;
  if (info) {
    const where = path === resolve(given) ? 'is a file, not a folder' : `is under ${path}, which is a file`;
    throw new UsageError(`${flag} ${given} ${where}`, false);
  }
  const parent = dirname(path);
  if (parent !== path) await makeFolder(parent, flag, given);
  await mkdir(path).catch(async (e: unknown) => {
    if (errnoOf(e) === 'EEXIST' && (await statOrNull(path))?.isDirectory()) return;
    const at = path === resolve(given) ? '' : ` (at ${path})`;
    throw new UsageError(`${flag} ${given} cannot be created${at}: ${reason(e)}`, false);
  });
}

/** Create a folder and its parents (a folder that exists is fine); a path through a file is a one-line UsageError. */
export async function ensureFolder(given: string, flag = '--out'): Promise<void> {
  await makeFolder(resolve(given), flag, given);
}

/**
 * Check the output folder before any work: create it (and its parents), and prove that a file can be
 * written there, so that a scan of hours never ends in EEXIST or ENOTDIR. A mistake is one line naming it.
 */
export async function prepareOutputFolder(given: string, flag = '--out'): Promise<void> {
  const path = resolve(given);
  await ensureFolder(given, flag);
  const probe = join(path, `.spectral-workbench-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (e) {
    throw new UsageError(`${flag} ${given} is not a folder this user can write to: ${reason(e)}`, false);
  }
  await unlink(probe).catch(() => {});
}

/** Temporary files not yet renamed into place: removed if the process exits before they are. */
const pending = new Set<string>();
let cleanupInstalled = false;

function track(tmp: string): void {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.on('exit', () => {
      for (const p of pending) {
        try {
          unlinkSync(p);
        } catch {
          // already gone
        }
      }
    });
  }
  pending.add(tmp);
}

/**
 * Write each file to a temporary file in the same folder, and rename them into place only once all are
 * written: a run stopped midway (a signal, a full disk) leaves the previous files as they were.
 */
export async function writeFilesAtomically(dir: string, files: readonly ExportFile[]): Promise<void> {
  const tmps = files.map((f) => join(dir, `.${f.name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`));
  try {
    for (const [i, f] of files.entries()) {
      track(tmps[i]);
      await writeFile(tmps[i], f.text, { flag: 'wx' });
    }
    for (const [i, f] of files.entries()) {
      await rename(tmps[i], join(dir, f.name));
      pending.delete(tmps[i]);
    }
  } finally {
    for (const t of tmps.filter((x) => pending.has(x))) {
      pending.delete(t);
      await unlink(t).catch(() => {});
    }
  }
}

/**
 * Whether `dir` holds a complete result: its `marker` file (metrics.json, delta.json) exists and is not
 * marked `"complete": false`. A marker that cannot be read counts as complete: it is not ours to replace.
 */
export function holdsCompleteResult(dir: string, marker: string): boolean {
  let text: string;
  try {
    text = readFileSync(join(dir, marker), 'utf8');
  } catch (e) {
    return errnoOf(e) !== 'ENOENT';
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return !(typeof parsed === 'object' && parsed !== null && 'complete' in parsed && parsed.complete === false);
  } catch {
    return true;
  }
}

/** A new folder for a partial result inside `dir`: partial-<UTC time>/ (with -2, -3… if the second is taken). */
export async function newPartialFolder(dir: string, now = new Date()): Promise<string> {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  for (let n = 1; ; n++) {
    const path = join(dir, `partial-${stamp}${n > 1 ? `-${n}` : ''}`);
    try {
      await mkdir(path);
      return path;
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
    }
  }
}

/**
 * A result file of a scan that stopped early, from the JSON object text its writer made (2-space indent):
 * `"complete": false` and the matrices not analysed added as its last fields, the bytes before unchanged.
 */
export function markIncomplete(json: string, notAnalysed: readonly string[]): string {
  const end = json.lastIndexOf('\n}');
  if (end < 0) throw new Error('markIncomplete: not a JSON object written with JSON.stringify(…, null, 2)');
  const list = JSON.stringify(notAnalysed, null, 2).replace(/\n/g, '\n  ');
  return `${json.slice(0, end)},\n  "complete": false,\n  "not_analysed": ${list}${json.slice(end)}`;
}

/**
 * Where a run's files go, and what to tell the user: its folder, unless the run stopped early and the
 * folder holds a complete result, which only `--force` replaces (`replacing`); else a new partial-<time>/ inside it.
 */
export async function resultFolder(
  dir: string,
  complete: boolean,
  force: boolean,
  marker: string,
): Promise<{ dir: string; replacing: boolean; note?: string }> {
  if (complete || !holdsCompleteResult(dir, marker)) return { dir, replacing: false };
  if (force) return { dir, replacing: true };
  const partial = await newPartialFolder(dir);
  return {
    dir: partial,
    replacing: false,
    note: `${dir} holds a complete result, kept as it was: this partial one is in ${partial}/ (--force replaces it)`,
  };
}

import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** A CLI child process whose stderr is followed: what it wrote so far, and a wait for its n-th line matching a pattern. */
export interface WatchedChild {
  exited: Promise<number | null>;
  stderr(): string;
  /** resolves once stderr holds `count` matches of `pattern`; rejects (with stderr) if the process exits first or after `hangGuardMs` */
  waitFor(pattern: RegExp, count?: number): Promise<void>;
}

export function followStderr(child: ChildProcess & { stderr: Readable }, what: string, hangGuardMs: number): WatchedChild {
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code: number | null) => resolve(code)));
  return {
    exited,
    stderr: () => stderr,
    waitFor(pattern, count = 1) {
      const global = new RegExp(pattern.source, 'g');
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if ((stderr.match(global) ?? []).length >= count) resolve();
        };
        waiters.push(check);
        check();
        void exited.then((code) => reject(new Error(`${what} exited (${code}) before ${pattern}:\n${stderr}`)));
        setTimeout(() => reject(new Error(`no ${pattern} from ${what}:\n${stderr}`)), hangGuardMs).unref();
      });
    },
  };
}

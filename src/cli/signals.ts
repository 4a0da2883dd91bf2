/** How a scan is stopped from outside: Ctrl-C once, Ctrl-C twice, or SIGTERM. */
export interface ScanStop {
  /** aborted by the first Ctrl-C (or a SIGTERM): the scan hands out no more matrices and keeps what is done */
  signal: AbortSignal;
  /** aborted by a second Ctrl-C or a SIGTERM: the scan returns what is done at once, without the matrices in progress */
  now: AbortSignal;
}

export interface Interruption extends ScanStop {
  /** the exit code for the signal that came (130 for Ctrl-C, 143 for SIGTERM), or null */
  readonly exitCode: number | null;
  /** stop listening (the process then reacts to signals as by default) */
  dispose(): void;
}

/** Once stopping at once, the most the results are waited for before the process exits anyway. */
const FLUSH_LIMIT_MS = 30_000;

/**
 * Signals for a command that scans: the first Ctrl-C cancels (the matrices in progress finish, what is
 * done is written); a second Ctrl-C, or SIGTERM, stops at once and still writes what is done; a third
 * exits without waiting for anything.
 */
export function interruptOnSignals(stderr: NodeJS.WritableStream = process.stderr): Interruption {
  const cancel = new AbortController();
  const now = new AbortController();
  let exitCode: number | null = null;
  const stopNow = (message: string) => {
    if (now.signal.aborted) {
      stderr.write('\nstopped without writing\n');
      process.exit(exitCode ?? 130);
    }
    stderr.write(message);
    cancel.abort();
    now.abort();
    setTimeout(() => process.exit(exitCode ?? 130), FLUSH_LIMIT_MS).unref();
  };
  const onInt = () => {
    exitCode ??= 130;
    if (!cancel.signal.aborted) {
      stderr.write('\ncancelling: keeping what is done… (Ctrl-C again to stop now)\n');
      cancel.abort();
    } else {
      stopNow('\nstopping now: writing what is done\n');
    }
  };
  const onTerm = () => {
    exitCode = 143;
    stopNow('\nSIGTERM: stopping now, writing what is done\n');
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: cancel.signal,
    now: now.signal,
    get exitCode() {
      return exitCode;
    },
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** Resolves when `signal` aborts (at once if it has); `release` drops the listener when it no longer matters. */
export function whenAborted(signal: AbortSignal): { aborted: Promise<void>; release(): void } {
  let release = () => {};
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const on = () => resolve();
    signal.addEventListener('abort', on, { once: true });
    release = () => signal.removeEventListener('abort', on);
  });
  return { aborted, release };
}

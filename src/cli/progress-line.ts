import { formatBytes, formatDuration, type ScanProgress } from '../core/scan/progress.ts';

/** Progress on stderr: one line rewritten in place on a terminal, a line every few seconds in a log. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): { update(p: ScanProgress): void; done(): void } {
  let last = 0;
  const tty = stream.isTTY === true;
  return {
    update(p) {
      const now = Date.now();
      const finished = p.matricesDone === p.matricesTotal;
      if (!finished && now - last < (tty ? 200 : 5000)) return;
      last = now;
      const pct = p.matricesTotal ? ((100 * p.matricesDone) / p.matricesTotal).toFixed(0) : '100';
      const line = [
        `[${String(p.matricesDone).padStart(String(p.matricesTotal).length)}/${p.matricesTotal}] ${pct}%`,
        `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
        `${formatBytes(p.bytesPerSecond)}/s`,
        p.etaMs === null ? 'ETA …' : `ETA ${formatDuration(p.etaMs)}`,
        `${formatDuration(p.elapsedMs)} elapsed`,
      ].join(' · ');
      stream.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

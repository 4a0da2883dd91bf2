import { readFileSync } from 'node:fs';
import type { Browser } from '@playwright/test';

/**
 * The memory of Chromium's processes, as the operating system sees it. Array buffers (the decoded
 * matrices) live outside V8's heap, and a page's Web Workers run in its renderer process, so the
 * renderer's resident set is what measures "the tab": performance.measureUserAgentSpecificMemory
 * needs cross-origin isolation that this page does not have, and CDP's JSHeapUsedSize sees neither.
 * Linux only (/proc).
 */
export interface ProcessSample {
  pid: number;
  type: string;
  rssMiB: number;
}

export async function chromiumProcesses(browser: Browser): Promise<{ pid: number; type: string }[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { id: number; type: string }[] };
    return processInfo.map((p) => ({ pid: p.id, type: p.type }));
  } finally {
    await cdp.detach();
  }
}

export function rssMiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s*(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null; // the process ended
  }
}

/** Samples the resident memory of Chromium's processes every `everyMs` until stopped: the peak of each. */
export class MemorySampler {
  private readonly peaks = new Map<number, ProcessSample>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private procs: { pid: number; type: string }[] = [];

  constructor(private readonly browser: Browser) {}

  async start(everyMs = 50): Promise<Map<number, ProcessSample>> {
    this.procs = await chromiumProcesses(this.browser);
    const baseline = this.sample();
    this.timer = setInterval(() => {
      for (const s of this.sample().values()) {
        const p = this.peaks.get(s.pid);
        if (!p || s.rssMiB > p.rssMiB) this.peaks.set(s.pid, s);
      }
    }, everyMs);
    return baseline;
  }

  /** processes started since (a new renderer, a utility process) are picked up too */
  async refresh(): Promise<void> {
    this.procs = await chromiumProcesses(this.browser);
  }

  stop(): Map<number, ProcessSample> {
    clearInterval(this.timer);
    return this.peaks;
  }

  private sample(): Map<number, ProcessSample> {
    const out = new Map<number, ProcessSample>();
    for (const { pid, type } of this.procs) {
      const rss = rssMiB(pid);
      if (rss !== null) out.set(pid, { pid, type, rssMiB: rss });
    }
    return out;
  }
}

import { jobBytes, type MatrixJob } from './plan.ts';

/** Where a scan stands, for progress bars: counts, bytes, throughput and an ETA. */
export interface ScanProgress {
  matricesDone: number;
  matricesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  elapsedMs: number;
  /** bytes read per second so far */
  bytesPerSecond: number;
  /** null until there is enough done to say */
  etaMs: number | null;
}

/**
 * The cost of a job, for the ETA and for the order jobs start in (longestFirst): the Gram of the
 * smaller side is min² · max multiply-adds, the tridiagonalization of it 4/3 · min³ flops at about
 * half the Gram's rate, and reading is proportional to the bytes. All three are weighed so that a
 * scan of many small matrices and one of a few huge ones both get a sensible estimate.
 */
export function jobCost(job: MatrixJob): number {
  const n = Math.min(job.rows, job.cols);
  const m = Math.max(job.rows, job.cols);
  // ~1 GFLOP/s of f64 Gram against ~1 GB/s of reading, in the same unit (nanoseconds).
  return n * n * m + 2 * n * n * n + jobBytes(job);
}

/**
 * The jobs in the order to start them on a pool: the costliest first (ties in the given order). A
 * pool of w workers then ends within about one small job of the perfect balance; in plan order a
 * checkpoint's largest matrix (the embedding, which plans put last) ran alone at the end while the
 * other workers idled.
 */
export function longestFirst<J extends MatrixJob>(jobs: readonly J[]): J[] {
  const cost = new Map(jobs.map((j) => [j, jobCost(j)]));
  return [...jobs].sort((a, b) => cost.get(b)! - cost.get(a)!);
}

/**
 * Counts, bytes and the ETA of a scan. The ETA is the work left over the rate the workers have shown: each
 * finished job's cost over the time it ran gives one worker's rate, the jobs still running are credited with
 * what that rate has done of them so far (at most 95 % of each), and the rest is shared by the jobs running at
 * once. With the costliest jobs first, counting finished jobs only put the ETA at 3× the truth early on (the
 * embedding, a quarter of the work, finishes after many smaller matrices).
 */
export class ProgressTracker {
  private readonly started: number;
  private costDone = 0;
  private readonly costTotal: number;
  /** finished jobs' cost and the time they ran, summed */
  private finishedCost = 0;
  private finishedMs = 0;
  private readonly running = new Map<MatrixJob, number>();
  /** the most jobs seen running at once: the pool's size */
  private workers = 1;
  private progress: ScanProgress;

  constructor(
    jobs: readonly MatrixJob[],
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
    this.costTotal = jobs.reduce((a, j) => a + jobCost(j), 0);
    this.progress = {
      matricesDone: 0,
      matricesTotal: jobs.length,
      bytesDone: 0,
      bytesTotal: jobs.reduce((a, j) => a + jobBytes(j), 0),
      elapsedMs: 0,
      bytesPerSecond: 0,
      etaMs: null,
    };
  }

  bytes(n: number): ScanProgress {
    this.progress.bytesDone += n;
    return this.snapshot();
  }

  jobStarted(job: MatrixJob): void {
    this.running.set(job, this.now());
    this.workers = Math.max(this.workers, this.running.size);
  }

  jobDone(job: MatrixJob): ScanProgress {
    this.progress.matricesDone++;
    const cost = jobCost(job);
    this.costDone += cost;
    const since = this.running.get(job);
    if (since !== undefined) {
      this.running.delete(job);
      this.finishedCost += cost;
      this.finishedMs += this.now() - since;
    }
    return this.snapshot();
  }

  snapshot(): ScanProgress {
    const now = this.now();
    const elapsedMs = now - this.started;
    const p = this.progress;
    p.elapsedMs = elapsedMs;
    p.bytesPerSecond = elapsedMs > 0 ? (p.bytesDone * 1000) / elapsedMs : 0;
    p.etaMs = this.eta(now, elapsedMs);
    return { ...p };
  }

  private eta(now: number, elapsedMs: number): number | null {
    if (this.costDone <= 0 || elapsedMs <= 0) return null;
    if (this.finishedMs <= 0 || this.finishedCost <= 0) {
      // no job's own time known (jobStarted never called): finished work over the time so far
      return (elapsedMs * (this.costTotal - this.costDone)) / this.costDone;
    }
    const perWorker = this.finishedCost / this.finishedMs;
    let left = this.costTotal - this.costDone;
    for (const [job, since] of this.running) left -= Math.min(0.95 * jobCost(job), (now - since) * perWorker);
    // the workers that still have something to do: all of them until the jobs left are fewer
    const notStarted = this.progress.matricesTotal - this.progress.matricesDone - this.running.size;
    const busy = Math.max(1, Math.min(this.workers, this.running.size + notStarted));
    return Math.max(0, left) / (perWorker * busy);
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

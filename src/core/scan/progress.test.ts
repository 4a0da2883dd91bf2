import { describe, expect, it } from 'vitest';
import type { MatrixJob } from './plan.ts';
import { ProgressTracker } from './progress.ts';

/** An n × n job of no bytes: its cost is n²·n + 2·n³ = 3·n³ (the Gram and the eigensolver, jobCost). */
const square = (name: string, n: number) =>
  ({ name, rows: n, cols: n, tensor: { name, file: 'm.safetensors', byteLength: 0 } }) as MatrixJob;

describe('ProgressTracker ETA', () => {
  it('is the work left over the rate finished jobs ran at, crediting the running ones, shared by the busy workers', () => {
    let t = 0;
    // A: 3·20³ = 24000; B, C, D: 3·10³ = 3000 each; total 33000
    const [a, b, c, d] = [square('a', 20), square('b', 10), square('c', 10), square('d', 10)];
    const tracker = new ProgressTracker([a, b, c, d], () => t);
    tracker.jobStarted(a);
    tracker.jobStarted(b);
    expect(tracker.snapshot().etaMs).toBeNull();
    t = 100;
    // B ran 100 ms: 30 per ms per worker. Left: 33000 − 3000 (B) − 100 · 30 (A so far) = 27000, on 2 workers:
    // 27000 / 60 = 450 ms (counting finished jobs only said 100 · 30000 / 3000 = 1000 ms; the truth is 700).
    expect(tracker.jobDone(b).etaMs).toBeCloseTo(450, 9);
    tracker.jobStarted(c);
    t = 200;
    tracker.jobDone(c);
    tracker.jobStarted(d);
    t = 300;
    // D done: only A runs, nothing waits, one busy worker: 33000 − 9000 − 300 · 30 = 15000, / 30 = 500 ms,
    // which is when A, 24000 at 30 per ms, ends (at 800 ms).
    expect(tracker.jobDone(d).etaMs).toBeCloseTo(500, 9);
    t = 790;
    // A's credit stops at 95 %: 33000 − 9000 − 0.95 · 24000 = 1200, / 30 = 40 ms
    expect(tracker.snapshot().etaMs).toBeCloseTo(40, 9);
  });

  it('without job start times, finished work over the time so far', () => {
    let t = 0;
    const [a, b] = [square('a', 10), square('b', 10)];
    const tracker = new ProgressTracker([a, b], () => t);
    t = 100;
    expect(tracker.jobDone(a).etaMs).toBeCloseTo(100, 9);
  });
});

/**
 * The long computations are generators that yield between blocks: run synchronously they are
 * drained in one go; the engine's async driver instead returns to the event loop now and then,
 * so that an abort message can arrive and be acted on.
 */
export type Steps = Generator<void, void, void>;

export function drain(steps: Steps): void {
  for (let r = steps.next(); !r.done; r = steps.next()) {
    // nothing to do between blocks
  }
}

/** How long the driver computes before it lets the event loop run (ms). */
const SLICE_MS = 50;

function nextTick(): Promise<void> {
  // setTimeout exists in Node, browsers and both kinds of workers; a macrotask lets messages in.
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Drains the steps, yielding to the event loop about every SLICE_MS and calling check() there
 * (which throws to stop, e.g. on abort).
 */
export async function drainAsync(steps: Steps, check: () => void): Promise<void> {
  check();
  let last = performance.now();
  for (let r = steps.next(); !r.done; r = steps.next()) {
    const now = performance.now();
    if (now - last >= SLICE_MS) {
      await nextTick();
      check();
      last = performance.now();
    }
  }
}

/**
 * GPU buffers by size and usage, kept for reuse between matrices (a scan analyses hundreds of
 * matrices of a handful of shapes, and creating buffers is not free). Sizes are rounded up to an
 * eighth of their power of two, so a buffer fits shapes a little smaller than its own at ≤ 12.5 %
 * waste. Counts the bytes it holds; dispose() destroys everything.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly inUse = new Set<GPUBuffer>();
  private held = 0;

  constructor(
    private readonly device: GPUDevice,
    /** bytes of idle buffers kept at most; more are destroyed on release */
    private readonly keepBytes = 512 * 1024 * 1024,
  ) {}

  static bucket(size: number): number {
    const s = Math.max(256, Math.ceil(size / 4) * 4);
    const step = 2 ** Math.max(8, Math.floor(Math.log2(s)) - 3);
    return Math.ceil(s / step) * step;
  }

  /** bytes held, idle or in use */
  get bytes(): number {
    return this.held;
  }

  acquire(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const bytes = BufferPool.bucket(size);
    const list = this.free.get(`${bytes}:${usage}`);
    const reused = list?.pop();
    const buffer = reused ?? this.device.createBuffer({ label, size: bytes, usage });
    if (!reused) this.held += bytes;
    this.inUse.add(buffer);
    return buffer;
  }

  release(...buffers: GPUBuffer[]): void {
    for (const b of buffers) {
      if (!this.inUse.delete(b)) continue;
      if (this.idleBytes() + b.size > this.keepBytes) {
        this.held -= b.size;
        b.destroy();
        continue;
      }
      const key = `${b.size}:${b.usage}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(b);
    }
  }

  private idleBytes(): number {
    let n = 0;
    for (const list of this.free.values()) for (const b of list) n += b.size;
    return n;
  }

  /** Destroys every buffer, idle or not (the device is going away, or the engine is). */
  dispose(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    for (const b of this.inUse) b.destroy();
    this.free.clear();
    this.inUse.clear();
    this.held = 0;
  }
}

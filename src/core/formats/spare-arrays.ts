/**
 * Typed arrays kept for the next use of about the same size. A fresh array of tens of MB costs its page faults
 * every time it is first written (in a virtual machine about 12 µs per 4 KiB: seconds of system time over a
 * checkpoint), where a kept one costs nothing. take() hands out a kept array that needs at least 4/5 of it (a
 * view of `count` values), or a new one, and lets go of every other spare, so that nothing larger than the work
 * at hand is held; give() keeps it for the next take (two at most: a worker runs at most two jobs at once).
 */
export class SpareArrays<T extends Float32Array | Uint8Array> {
  private spare: T[] = [];

  constructor(private readonly make: (count: number) => T) {}

  take(count: number): T {
    const fits = this.spare.find((a) => a.length >= count && a.length * 0.8 <= count);
    this.spare = [];
    return fits ? (fits.subarray(0, count) as T) : this.make(count);
  }

  /** `array` (or a view from take) is not used any more by whoever had it */
  give(array: T): void {
    const whole = array.length * array.BYTES_PER_ELEMENT === array.buffer.byteLength ? array : (this.view(array) as T);
    this.spare = [whole, ...this.spare].slice(0, 2);
  }

  private view(array: T): Float32Array | Uint8Array {
    return array instanceof Float32Array ? new Float32Array(array.buffer) : new Uint8Array(array.buffer);
  }
}

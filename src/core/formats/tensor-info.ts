/** Where one tensor's bytes are, as the file's header says, after validation. */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** the file that holds it (ByteSource name) */
  file: string;
  /** absolute byte offset in the file */
  begin: number;
  byteLength: number;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The page's GPU (a Web Worker's too, in Chromium): navigator.gpu, when the browser has WebGPU. */
export async function browserGpu(): Promise<GPU | null> {
  return typeof navigator !== 'undefined' && 'gpu' in navigator ? navigator.gpu : null;
}

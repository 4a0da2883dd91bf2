// The page half of `npm run bench:read`: the Blob reader the scan workers use, in a Web Worker.
import { blobSource } from '../../src/workers/blob-source.ts';
import { measureReads } from './measure.ts';

self.onmessage = async (e: MessageEvent<File>) => {
  try {
    self.postMessage(await measureReads(blobSource(e.data)));
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};

// The conformance suite against each engine: the float64 CPU reference, and WebGPU through Dawn
// (SwiftShader here and on CI), on its one-workgroup path for small matrices and on its blocked
// path (forced with smallN = 0). A software GPU is slow (≈ 0.3 s for a 128 × 352 matrix), so the
// GPU runs check a spread-out subset of the demo; SW_SLOW_TESTS=1 runs every demo matrix and
// checks the selections too (webgpu-demo measures it in the report).
import { CpuEngine } from './cpu/cpu-engine.ts';
import { describeConformance } from './conformance.ts';
import { slowTests, testEngine } from './webgpu/testing.ts';

describeConformance('cpu (float64)', async () => new CpuEngine(), { eps: 2 ** -53, snrTolerance: 1e-6, demo: 'all' });

describeConformance('webgpu (Dawn), one-workgroup reduction', () => testEngine(), {
  eps: 2 ** -24,
  snrTolerance: 1e-4,
  demo: slowTests ? 'all' : 6,
});

describeConformance('webgpu (Dawn), blocked reduction', () => testEngine({ smallN: 0 }), {
  eps: 2 ** -24,
  snrTolerance: 1e-4,
  demo: slowTests ? 'all' : 2,
});

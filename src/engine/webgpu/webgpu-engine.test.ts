import { describe, expect, it } from 'vitest';
import { singularValuesSync } from '../cpu/cpu-engine.ts';
import { gaussian } from '../cpu/testing.ts';
import { expectSpectrum, expectedSpectra, fixtureMatrices } from '../conformance.ts';
import { spectrumScore } from '../../core/metrics/spectrum.ts';
import { BufferPool } from './buffer-pool.ts';
import { isDeviceLost } from './device.ts';
import { gramChunkSteps, gramShape } from './gram.ts';
import { nodeGpu } from './node-gpu.ts';
import { SNR_SENSITIVITY_LIMIT, snrSensitivity } from './precision-guard.ts';
import { nodeShaders } from './shaders-node.ts';
import { testEngine, testKit } from './testing.ts';
import { inputScale, WebGpuEngine } from './webgpu-engine.ts';

const F32 = 2 ** -24;
/** A software GPU compiles each pipeline for seconds on first use. */
const GPU_TIMEOUT = 300_000;

describe('BufferPool', () => {
  it('rounds sizes up to an eighth of their power of two, at least 256 bytes', () => {
    expect(BufferPool.bucket(1)).toBe(256);
    expect(BufferPool.bucket(4096)).toBe(4096);
    expect(BufferPool.bucket(4097)).toBe(4608);
    expect(BufferPool.bucket(283_115_520)).toBeLessThanOrEqual(283_115_520 * 1.125);
  });
});

describe('input scan', () => {
  it('finds the largest magnitude and a power-of-two scale, and any NaN or Infinity, wherever they are', () => {
    // Values exact in f32; −6.5 put at every position in turn. The largest is 2^126 − 2^102 (a quarter of f32's
    // largest) unless −6.5 took its place: then 6.5, scale 2^-3.
    const values = [0, -0, 1.5, -2.75, 1e-45, -(2 ** 126 - 2 ** 102), 2 ** -126, 0.019999999552965164];
    for (let at = 0; at < values.length; at++) {
      const m = Float32Array.from(values);
      m[at] = -6.5;
      const want = at === 5 ? { maxAbs: 6.5, scale: 2 ** -3 } : { maxAbs: 2 ** 126 - 2 ** 102, scale: 2 ** -126 };
      expect(inputScale(m, m.length), `−6.5 at ${at}`).toEqual({ finite: true, ...want });
    }
    expect(inputScale(Float32Array.of(6.5, -3), 2)).toEqual({ finite: true, maxAbs: 6.5, scale: 1 / 8 });
    expect(inputScale(Float32Array.of(-0.75, 0.5), 2)).toEqual({ finite: true, maxAbs: 0.75, scale: 1 });
    expect(inputScale(Float32Array.of(0, -0), 2)).toEqual({ finite: true, maxAbs: 0, scale: 1 });
    expect(inputScale(Float32Array.of(1e-45), 1)).toEqual({ finite: true, maxAbs: 2 ** -149, scale: 2 ** 126 });
    expect(inputScale(Float32Array.of(3e38), 1).scale).toBe(2 ** -126);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let at = 0; at < 5; at++) {
        const m = Float32Array.of(1, -2, 3, -4, 5);
        m[at] = bad;
        expect(inputScale(m, 5).finite, `${bad} at ${at}`).toBe(false);
      }
    }
    // Only the first len values count, from the view's own offset in its buffer.
    const whole = Float32Array.of(100, 1, -2, 0.5, NaN);
    expect(inputScale(whole.subarray(1), 3)).toEqual({ finite: true, maxAbs: 2, scale: 1 / 2 });
  });
});

describe('Gram chunking plan', () => {
  it('takes the whole long side when it fits one binding, else multiples of the 32-step tile', () => {
    const shape = gramShape(896, 4864);
    expect(shape).toEqual({ n: 896, k: 4864, wide: true });
    expect(gramChunkSteps(shape, 1 << 30)).toBe(4864);
    expect(gramChunkSteps(shape, 896 * 4 * 100)).toBe(96);
    expect(() => gramChunkSteps(shape, 896 * 4 * 31)).toThrow(/exceed/);
  });
});

describe('WebGpuEngine', async () => {
  const made = await testEngine();
  const skip = 'skip' in made ? made.skip : '';
  const engine = made as WebGpuEngine;

  it.skipIf(skip)(
    'sums the Gram chunk by chunk when W exceeds the chunk limit (wide and tall), as in one upload',
    async () => {
      for (const [r, c] of [
        [40, 300],
        [300, 40],
      ]) {
        const m = gaussian(r * c, r + c);
        // 32 steps of 40 values per chunk: ten chunks, the last one short.
        const chunked = new WebGpuEngine(engine.kit, { maxChunkBytes: 40 * 4 * 32 });
        const got = await chunked.singularValues(m, r, c);
        expectSpectrum(got, singularValuesSync(m, r, c), F32, `${r}x${c} chunked`);
        expectSpectrum(got, await engine.singularValues(m, r, c), F32, `${r}x${c} chunked vs whole`);
      }
    },
    GPU_TIMEOUT,
  );

  it.skipIf(skip)(
    'the blocked reduction at the edges of its panels (32 columns) and row blocks (64 rows), and past columns already reduced',
    async () => {
      const blocked = new WebGpuEngine(engine.kit, { smallN: 0 });
      for (const n of [33, 63, 64, 65, 97, 129, 160]) {
        const m = gaussian(n * (n + 17), 3 * n);
        expectSpectrum(await blocked.singularValues(m, n, n + 17), singularValuesSync(m, n, n + 17), F32, `${n}x${n + 17}`);
      }
      // Every third row zero: the Gram's matching rows and columns are zero, so some columns find nothing
      // left to reduce (τ = 0) between ones that do, across panels and row blocks.
      const [r, c] = [150, 170];
      const m = gaussian(r * c, 11);
      for (let i = 0; i < r; i += 3) m.fill(0, i * c, (i + 1) * c);
      expectSpectrum(await blocked.singularValues(m, r, c), singularValuesSync(m, r, c), F32, `${r}x${c}, every third row zero`);
    },
    GPU_TIMEOUT,
  );

  it.skipIf(skip)(
    'serves concurrent calls one at a time, each with its own result',
    async () => {
      const shapes = [
        [20, 30],
        [30, 20],
        [7, 64],
      ];
      const ms = shapes.map(([r, c]) => gaussian(r * c, r * c));
      const got = await Promise.all(shapes.map(([r, c], i) => engine.singularValues(ms[i], r, c)));
      shapes.forEach(([r, c], i) => expectSpectrum(got[i], singularValuesSync(ms[i], r, c), F32, `${r}x${c}`));
    },
    GPU_TIMEOUT,
  );

  it.skipIf(skip)(
    'recomputes in float64 the matrices whose SNR f32 cannot hold (the precision guard)',
    async () => {
      const exp = expectedSpectra('test-fixtures/expected/reference-model.json');
      const all = await fixtureMatrices('test-fixtures/reference/reference-model.safetensors');
      const { job, values } = all.find((x) => x.job.name === 'model.layers.1.self_attn.o_proj.weight')!;
      const want = exp.tensors[job.name].spectrum.snr;
      const raw = new WebGpuEngine(engine.kit, { precisionFallback: null });
      const f32 = await raw.singularValues(values, job.rows, job.cols);
      // σmax/σmin ≈ 5·10⁴ here: f32 holds the large σ but not the smallest, and says so.
      expect(snrSensitivity(f32, job.rows, job.cols)).toBeGreaterThan(SNR_SENSITIVITY_LIMIT);
      const before = engine.stats.recomputedInFloat64;
      const guarded = await engine.singularValues(values, job.rows, job.cols);
      expect(engine.stats.recomputedInFloat64).toBe(before + 1);
      expect(Math.abs(spectrumScore(guarded, job.rows, job.cols).snr - want) / want).toBeLessThan(1e-9);
      console.log(
        `o_proj of layer 1: f32 SNR error ${(Math.abs(spectrumScore(f32, job.rows, job.cols).snr - want) / want).toExponential(2)}, guarded ${(Math.abs(spectrumScore(guarded, job.rows, job.cols).snr - want) / want).toExponential(2)}`,
      );
      // A well-conditioned matrix stays on the GPU.
      const m = gaussian(24 * 40, 3);
      const before2 = engine.stats.recomputedInFloat64;
      await engine.singularValues(m, 24, 40);
      expect(engine.stats.recomputedInFloat64).toBe(before2);
    },
    GPU_TIMEOUT,
  );

  it.skipIf(skip)(
    'compiles every kernel it used without errors or warnings',
    async () => {
      expect((await engine.kit.pipelines.messages()).filter((m) => / (error|warning): /.test(m))).toEqual([]);
    },
    GPU_TIMEOUT,
  );
});

describe('device loss', async () => {
  const kit = await testKit();
  it.skipIf('skip' in kit)(
    'a lost device rejects with DeviceLostError, not a hang',
    async () => {
      const own = await WebGpuEngine.create((await nodeGpu())!, nodeShaders(), { allowFallbackAdapter: true });
      if ('reason' in own) throw new Error(own.reason);
      own.kit.device.destroy();
      const err = await own.singularValues(gaussian(64, 1), 8, 8).catch((e: unknown) => e);
      expect(isDeviceLost(err)).toBe(true);
      expect(own.lostReason).toMatch(/destroyed/);
      own.dispose();
    },
    GPU_TIMEOUT,
  );
});

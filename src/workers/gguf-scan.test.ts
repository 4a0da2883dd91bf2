import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGguf, ggufFromSafetensors, ggufName } from '../../test-fixtures/builders/gguf.ts';
import { gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';
import { memorySource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { readTensorAsF32 } from '../core/formats/read-tensor.ts';
import { planScan } from '../core/scan/plan.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { analyzeJob } from './analyze.ts';

const root = join(import.meta.dirname, '../..');
const engine = new CpuEngine();
const demo = new Uint8Array(readFileSync(join(root, 'public/demo/phase0-base.safetensors')));
const config = JSON.parse(readFileSync(join(root, 'public/demo/config.json'), 'utf8')) as Record<string, number>;

async function scan(name: string, bytes: Uint8Array): Promise<Map<string, MatrixRecord>> {
  const source = memorySource(name, bytes);
  const plan = planScan(await openCheckpoint([source]));
  const out = new Map<string, MatrixRecord>();
  for (const job of plan.jobs) {
    const r = await analyzeJob(job, source, engine);
    if (!r.ok) throw new Error(r.error.message);
    out.set(r.record.spectrumModule ?? r.record.name, r.record);
  }
  return out;
}

const frobenius = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

describe('GGUF written from the demo checkpoint: the same matrices give the same SNR within the quantization error', () => {
  /**
   * How far Spectrum's value can move when W moves by E: every σ_i moves by at most ‖E‖₂ (Weyl), so,
   * to first order, signal by n_signal·‖E‖₂, noise by n_noise·‖E‖₂ and σ_max by ‖E‖₂; a σ that crosses
   * τ moves at most τ + 2‖E‖₂ from one sum to the other. SNR = signal / (noise · σ_max).
   */
  function snrBound(s: NonNullable<MatrixRecord['spectrum']>, n: number, e2: number, crossings: number): number {
    const first = e2 * (s.n_signal / s.signal + (n - s.n_signal) / s.noise + 1 / s.sigma_max);
    return 1.1 * first + crossings * (s.tau + 2 * e2) * (1 / s.signal + 1 / s.noise);
  }

  it.each([
    ['F16', 1e-6],
    ['Q8_0', 0.1],
  ])(
    '%s',
    async (type, tol) => {
      const reference = await scan('phase0-base.safetensors', demo);
      const gguf = await ggufFromSafetensors(demo, () => type, config);
      const records = await scan('phase0-base.gguf', gguf);
      expect(records.size).toBe(reference.size);
      const st = await openCheckpoint([memorySource('s.safetensors', demo)]);
      const gg = await openCheckpoint([memorySource('g.gguf', gguf)]);
      let worst = 0;
      let worstName = '';
      let tightest = 0;
      for (const t of st.tensors.filter((x) => x.shape.length === 2)) {
        const g = gg.tensors.find((x) => x.name === ggufName(t.name))!;
        expect(g.dtype).toBe(type);
        const a = await readTensorAsF32(memorySource('s', demo), t);
        const b = await readTensorAsF32(memorySource('g', gguf), g);
        const e = b.map((v, i) => v - a[i]);
        const e2 = (await engine.singularValues(e, t.shape[0], t.shape[1]))[0];
        const name = t.name.replace(/\.weight$/, '');
        const [r, q] = [reference.get(name)!, records.get(name)!];
        expect([q.layer, q.module, q.rows, q.cols]).toEqual([r.layer, r.module, r.rows, r.cols]);
        // Weyl: every singular value within ‖E‖₂
        r.singularValues!.forEach((s, i) => expect(Math.abs(q.singularValues![i] - s)).toBeLessThanOrEqual(e2 * (1 + 1e-9) + 1e-12));
        const dev = Math.abs(q.spectrum!.snr - r.spectrum!.snr) / Math.abs(r.spectrum!.snr);
        const bound = snrBound(r.spectrum!, r.singularValues!.length, e2, Math.abs(q.spectrum!.n_signal - r.spectrum!.n_signal));
        expect(dev, `${name}: SNR moved ${dev} beyond what ‖E‖₂ = ${e2} allows (${bound})`).toBeLessThanOrEqual(bound + 1e-7);
        tightest = Math.max(tightest, dev / (bound + 1e-300));
        if (dev > worst) [worst, worstName] = [dev, name];
      }
      console.log(
        `${type}: worst relative SNR deviation ${worst.toExponential(2)} (${worstName}) over ${reference.size} matrices; at most ${(100 * tightest).toFixed(0)}% of the perturbation bound`,
      );
      expect(worst).toBeLessThan(tol);
    },
    120_000,
  );

  it.each([
    ['Q6_K', 0.01],
    ['Q5_K', 0.03],
    ['Q4_K', 0.06],
    ['Q4_0', 0.08],
  ])('%s: singular values within Weyl’s bound, σ_max within %s', async (type, tol) => {
    // K-quants need rows of 256: the demo's embedding, stored transposed (128 × 256), has the same σ
    const st = await openCheckpoint([memorySource('s.safetensors', demo)]);
    const embed = st.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    const w = await readTensorAsF32(memorySource('s', demo), embed);
    const wt = new Float32Array(w.length);
    for (let i = 0; i < 256; i++) for (let j = 0; j < 128; j++) wt[j * 256 + i] = w[i * 128 + j];
    const gguf = buildGguf([{ name: 'token_embd.weight', type, shape: [128, 256], values: wt }], {
      'general.architecture': { type: 'string', value: 'llama' },
    });
    const source = memorySource('e.gguf', gguf);
    const ckpt = await openCheckpoint([source]);
    const job = planScan(ckpt).jobs[0];
    const out = await analyzeJob(job, source, engine);
    if (!out.ok) throw new Error(out.error.message);
    const want = await engine.singularValues(w, 256, 128);
    const got = out.record.singularValues!;
    const bound = frobenius(await readTensorAsF32(source, ckpt.tensors[0]), wt);
    want.forEach((s, i) => expect(Math.abs(got[i] - s)).toBeLessThanOrEqual(bound * (1 + 1e-9)));
    expect(Math.abs(got[0] - want[0]) / want[0]).toBeLessThan(tol);
    console.log(
      `${type}: ‖ΔW‖_F/σ_max ${(bound / want[0]).toExponential(2)}, σ_max off by ${(Math.abs(got[0] - want[0]) / want[0]).toExponential(2)}`,
    );
  });
});

describe('GGUF mixture of experts', () => {
  it('splits a stacked [experts, out, in] tensor into one matrix per expert, by byte range', async () => {
    const experts = Array.from({ length: 3 }, (_, e) => gaussianMatrix(16, 64, 10 + e));
    const stack = Float32Array.from(experts.flatMap((m) => [...m]));
    const gguf = buildGguf([{ name: 'blk.2.ffn_down_exps.weight', type: 'Q8_0', shape: [3, 16, 64], values: stack }], {
      'general.architecture': { type: 'string', value: 'qwen3moe' },
    });
    const records = await scan('moe.gguf', gguf);
    expect([...records.keys()]).toEqual([0, 1, 2].map((e) => `model.layers.2.mlp.experts.${e}.down_proj`));
    for (const [e, m] of experts.entries()) {
      const r = records.get(`model.layers.2.mlp.experts.${e}.down_proj`)!;
      expect([r.name, r.layer, r.module, r.expert, r.rows, r.cols]).toEqual([
        `blk.2.ffn_down_exps.${e}`,
        2,
        'mlp.experts.down_proj',
        e,
        16,
        64,
      ]);
      const want = await engine.singularValues(m, 16, 64);
      expect(Math.abs(r.singularValues![0] - want[0]) / want[0]).toBeLessThan(0.01);
    }
  });
});

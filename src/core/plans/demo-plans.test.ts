// The plans of the demo's phase 1 checkpoint from a scan's records with their singular values (as the page
// holds them), against test-fixtures/expected/plans-reference.json: TempBalance's own estimator and
// tb_linear_map, and the energy ranks, computed by test-fixtures/make-plans.py from a float64 numpy SVD.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanFile } from '../../../test-fixtures/builders/scan-file.ts';
import type { MatrixRecord } from '../scan/record.ts';
import { tempBalance } from './learning-rates.ts';
import { planMatrices, type PlanMatrix } from './plan-matrix.ts';

interface Reference {
  tempbalance_phase1: { lr: number; alpha_mid: Record<string, number>; scheduled_lr: Record<string, number>; untuned: string[] };
  energy_ranks_phase1: Record<string, Record<'90' | '95' | '99', number>>;
}
const ref = JSON.parse(readFileSync('test-fixtures/expected/plans-reference.json', 'utf8')) as Reference;

describe("the demo's plans from its records", () => {
  let matrices: PlanMatrix[];
  beforeAll(async () => {
    const records: MatrixRecord[] = [...(await scanFile('public/demo/phase1-25pct.safetensors')).values()];
    matrices = planMatrices(records);
  }, 240_000);

  it("TempBalance: alpha_mid and the learning rates of TempBalance's code (numpy port), the same first and last layers", () => {
    const t = ref.tempbalance_phase1;
    // the plan's model order is LlamaForCausalLM's named_modules order of its Linear layers, then the embedding
    expect(matrices.map((m) => m.name).filter((n) => n in t.alpha_mid)).toEqual(Object.keys(t.alpha_mid));
    for (const m of matrices.filter((x) => x.name in t.alpha_mid)) {
      // the CPU engine's singular values agree with numpy's float64 SVD to about 1e-11 relative
      expect(Math.abs(m.alphaMid! / t.alpha_mid[m.name] - 1), m.name).toBeLessThan(1e-9);
    }
    const plan = tempBalance(matrices, { lr: t.lr, minRatio: 0.5, maxRatio: 1.5 });
    expect(plan.metric).toBe('alpha_mid');
    for (const e of plan.entries) {
      if (e.name in t.scheduled_lr) {
        expect(e.tuned, e.name).toBe(true);
        expect(Math.abs(e.lr / t.scheduled_lr[e.name] - 1), e.name).toBeLessThan(1e-8);
      } else {
        expect(e, e.name).toMatchObject({ tuned: false, lr: t.lr });
      }
    }
    expect(plan.entries.filter((e) => !e.tuned).map((e) => e.name)).toEqual([...t.untuned, 'model.embed_tokens.weight']);
  });

  it('energy ranks equal numpy cumsum ranks of the float64 SVD', () => {
    const expected = ref.energy_ranks_phase1;
    let compared = 0;
    for (const m of matrices) {
      if (!(m.name in expected)) continue;
      expect(m.energyRank, m.name).toEqual({ 90: expected[m.name]['90'], 95: expected[m.name]['95'], 99: expected[m.name]['99'] });
      compared++;
    }
    expect(compared).toBe(7 * 16 + 2);
  });
});

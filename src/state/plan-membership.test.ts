import { describe, expect, it } from 'vitest';
import { architectureDifference, architectureOf, settleMembership, type Architecture } from './plan-membership.ts';
import { createAppStore } from './store.ts';
import type { CheckpointState, PlanStep } from './types.ts';

/** The places of a Llama-like scan: `modules` per layer, the norms, the embedding and the head outside the blocks. */
function llama(layers: number, modules = ['self_attn.q_proj', 'self_attn.k_proj', 'mlp.down_proj']) {
  const places = [];
  for (let l = 0; l < layers; l++) {
    for (const m of modules) places.push({ layer: l, module: m, vector: false, spectrumModule: `model.layers.${l}.${m}` });
    places.push({ layer: l, module: 'input_layernorm', vector: true, spectrumModule: `model.layers.${l}.input_layernorm` });
  }
  places.push({ layer: null, module: 'model.embed_tokens', vector: false, spectrumModule: 'model.embed_tokens' });
  places.push({ layer: null, module: 'lm_head', vector: false, spectrumModule: 'lm_head' });
  return places;
}

const step = (checkpointId: string, included = true): PlanStep => ({ checkpointId, percent: 25, included });

describe('architectureOf', () => {
  it('counts the layers and the module types of the block matrices, and keeps every Spectrum name', () => {
    const a = architectureOf(llama(3), 'weights');
    expect(a.layers).toBe(3);
    // grid order: q k v o, then the MLP; norms (1-D) and matrices outside the blocks are not module types
    expect(a.modules).toEqual(['self_attn.q_proj', 'self_attn.k_proj', 'mlp.down_proj']);
    expect(a.names).toHaveLength(3 * 4 + 2);
    expect(a.names).toContain('lm_head');
  });

  it('an empty checkpoint has no layers', () => {
    expect(architectureOf([], 'weights')).toEqual({ source: 'weights', modules: [], layers: 0, names: [] });
  });
});

describe('architectureDifference', () => {
  const base = architectureOf(llama(16), 'weights');

  it('is null for the same grid, whatever the weights', () => {
    expect(architectureDifference(base, architectureOf(llama(16), 'weights'))).toBeNull();
  });

  it('names the layer count and the module types that differ', () => {
    expect(architectureDifference(base, architectureOf(llama(28), 'weights'))).toBe('28 layers, not 16');
    const other = architectureOf(llama(16, ['self_attn.q_proj', 'self_attn.v_proj']), 'weights');
    expect(architectureDifference(base, other)).toBe(
      'module types not in the first: self_attn.v_proj; without self_attn.k_proj, mlp.down_proj',
    );
  });

  it('compares Spectrum JSONs by their sets of names: 28 layers against 16 is 48 names more', () => {
    const json = (layers: number): Architecture => architectureOf(llama(layers), 'spectrum');
    expect(architectureDifference(json(16), json(16))).toBeNull();
    // 12 layers × (3 matrices + 1 norm) = 48 names only in the 28-layer file
    expect(architectureDifference(json(16), json(28))).toBe(
      '48 Spectrum names not in the first (model.layers.16.input_layernorm and 47 more)',
    );
    // a JSON against a scan of the same model: the same grid, even when the JSON leaves out the norms
    const withoutNorms = architectureOf(
      llama(16).filter((p) => !p.vector),
      'spectrum',
    );
    expect(architectureDifference(base, withoutNorms)).toBeNull();
    expect(architectureDifference(base, json(28))).toBe('28 layers, not 16');
  });
});

describe('settleMembership', () => {
  const arch = {
    base: architectureOf(llama(16), 'weights'),
    p1: architectureOf(llama(16), 'weights'),
    qwen: architectureOf(llama(48), 'spectrum'),
    tiny: architectureOf(llama(2), 'weights'),
  };

  it('keeps the steps of the first step’s architecture and leaves the others out', () => {
    const plan = [step('base'), step('qwen'), step('p1'), step('tiny')];
    expect(settleMembership(plan, arch, new Set()).map((s) => [s.checkpointId, s.included])).toEqual([
      ['base', true],
      ['qwen', false],
      ['p1', true],
      ['tiny', false],
    ]);
  });

  it('changes nothing while the first step’s architecture is not known, and leaves unread steps as they are', () => {
    const plan = [step('opening'), step('qwen')];
    expect(settleMembership(plan, arch, new Set())).toEqual(plan);
    const later = [step('base'), step('opening'), step('qwen')];
    expect(settleMembership(later, arch, new Set()).map((s) => s.included)).toEqual([true, true, false]);
  });

  it('never overrides a choice made by hand; a first step taken out by hand hands the reference to the next', () => {
    const plan = [step('base'), step('qwen', true), step('tiny')];
    expect(settleMembership(plan, arch, new Set(['qwen'])).map((s) => s.included)).toEqual([true, true, false]);
    const withoutBase = [step('base', false), step('tiny'), step('p1')];
    expect(settleMembership(withoutBase, arch, new Set(['base'])).map((s) => s.included)).toEqual([false, true, false]);
  });
});

describe('the store: who joins the phase plan', () => {
  const checkpoint = (id: string, origin: CheckpointState['origin'] = 'user'): CheckpointState => ({
    id,
    name: id,
    fingerprint: null,
    origin,
    status: 'opening',
    failure: null,
    progress: null,
    records: {},
    errors: [],
    skipped: [],
    unmapped: [],
    missing: [],
    totalJobs: 0,
    engine: 'cpu',
    fromCache: false,
  });

  it('an unrelated model opened beside the demo waits outside the plan, even when it is read before the demo; Add brings it in', () => {
    const store = createAppStore();
    const s = () => store.getState();
    for (const id of ['base', 'qwen', 'p1']) s().addCheckpoint(checkpoint(id, id === 'qwen' ? 'import' : 'user'));
    // the Spectrum JSON is read at once, while the base's headers are still being read: nothing is settled yet
    s().setArchitecture('qwen', architectureOf(llama(48), 'spectrum'));
    expect(s().plan.map((p) => p.included)).toEqual([true, true, true]);
    s().setArchitecture('base', architectureOf(llama(16), 'weights'));
    s().setArchitecture('p1', architectureOf(llama(16), 'weights'));
    expect(s().plan.map((p) => [p.checkpointId, p.included])).toEqual([
      ['base', true],
      ['qwen', false],
      ['p1', true],
    ]);
    // added by hand, it stays when later checkpoints settle
    s().setPlanIncluded('qwen', true);
    s().addCheckpoint(checkpoint('tiny'));
    s().setArchitecture('tiny', architectureOf(llama(2), 'weights'));
    expect(s().plan.map((p) => p.included)).toEqual([true, true, true, false]);
  });
});

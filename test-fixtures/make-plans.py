#!/usr/bin/env python3
"""Reference values for the plans (src/core/plans/*.test.ts, src/cli/plan-cli.test.ts), computed here
the way each method's published code computes them, independently of the project's TypeScript:

- TempBalance (github.com/YefanZhou/TempBalance, tempbalance.py): `net_esd_estimator` with its defaults
  (pl_fitting='median', xmin_pos=2, filter_zeros=False) on every nn.Linear of the demo's phase 1 checkpoint
  in LlamaForCausalLM's named_modules order, the first and last removed, `tb_linear_map` with np.interp
  between lr_min_ratio·η and lr_max_ratio·η (0.5, 1.5; η = 2e-5).
- Energy ranks: the fewest leading singular values whose Σσ² reaches 90/95/99 % (np.cumsum).
- AlphaPruning (github.com/haiquanlu/AlphaPruning, lib/prune.py `ww_sparsity`, mapping_type='block_wise')
  on seeded per-matrix metric values with the demo's shapes (16 blocks of 7 Linear layers).
- The SNR rule's ranks with scipy.stats.rankdata (method='average').

    python3 test-fixtures/make-plans.py      # writes test-fixtures/expected/plans-reference.json
"""
import importlib.util
import json
import os

import numpy as np
from scipy.stats import rankdata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, 'test-fixtures', 'expected', 'plans-reference.json')

spec = importlib.util.spec_from_file_location('make_spectra', os.path.join(REPO, 'test-fixtures', 'make-spectra.py'))
make_spectra = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_spectra)

LAYERS = 16
# LlamaDecoderLayer's named_modules order: self_attn (q, k, v, o), then mlp (gate, up, down)
MODULES = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj',
           'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']
LINEAR = [f'model.layers.{l}.{m}.weight' for l in range(LAYERS) for m in MODULES] + ['lm_head.weight']


def alpha_median(sv):
    """tempbalance.py net_esd_estimator, pl_fitting='median', xmin_pos=2, filter_zeros=False (float64 here)."""
    eigs = np.sort(np.square(np.asarray(sv, dtype=np.float64)))
    nz_eigs = eigs
    N = len(nz_eigs)
    log_nz_eigs = np.log(nz_eigs)
    i = int(len(nz_eigs) / 2)
    n = float(N - i)
    return float(1 + n / (np.sum(log_nz_eigs[i:]) - n * log_nz_eigs[i]))


def tempbalance(spectra, lr):
    names = LINEAR
    alphas = [alpha_median(spectra[n]['sv']) for n in names]
    # remove_first_layer, remove_last_layer
    tuned = names[1:-1]
    scores = np.array(alphas[1:-1])
    temps = np.interp(scores, [scores.min(), scores.max()], [0.5 * lr, 1.5 * lr])
    return {
        'lr': lr,
        'alpha_mid': dict(zip(names, alphas)),
        'scheduled_lr': dict(zip(tuned, [float(t) for t in temps])),
        'untuned': [names[0], names[-1]],
    }


def energy_ranks(spectra):
    out = {}
    for name, t in spectra.items():
        e = np.square(np.asarray(t['sv'], dtype=np.float64))
        c = np.cumsum(e)
        out[name] = {str(p): int(np.argmax(c >= (p / 100) * c[-1]) + 1) for p in (90, 95, 99)}
    return out


def ww_sparsity(metrics, prunables, n_blocks, sparsity_ratio, epsilon):
    """lib/prune.py ww_sparsity with mapping_type='block_wise', in float64."""
    s1, s2 = 1.0 - epsilon, 1.0 + epsilon
    layer_num_in_block = int(len(prunables) / n_blocks)
    block_metrics = [np.mean(metrics[i:i + layer_num_in_block]) for i in range(0, len(metrics), layer_num_in_block)]
    metrics = [i for i in block_metrics for j in range(layer_num_in_block)]
    scores = np.array(metrics, dtype=np.float64)
    prunables = np.array(prunables, dtype=np.float64)
    mx, mn = scores.max(), scores.min()
    ratios = ((scores - mn) / (mx - mn)) * (s2 - s1) + s1
    scaler = np.sum(prunables) * sparsity_ratio / np.sum(prunables * ratios)
    return [float(r) for r in ratios * scaler], [float(b) for b in block_metrics]


def alphapruning_cases():
    shapes = {'self_attn.q_proj': (128, 128), 'self_attn.k_proj': (128, 128), 'self_attn.v_proj': (128, 128),
              'self_attn.o_proj': (128, 128), 'mlp.gate_proj': (352, 128), 'mlp.up_proj': (352, 128),
              'mlp.down_proj': (128, 352)}
    names = LINEAR[:-1]
    prunables = [shapes[n.split('.', 3)[3].rsplit('.', 1)[0]][0] * shapes[n.split('.', 3)[3].rsplit('.', 1)[0]][1] for n in names]
    rng = np.random.default_rng(20261130)
    metrics = rng.uniform(2.0, 6.0, len(names))
    cases = []
    for s, eps in ((0.5, 0.3), (0.7, 0.2)):
        ratios, block_metrics = ww_sparsity(metrics, prunables, LAYERS, s, eps)
        cases.append({'sparsity': s, 'epsilon': eps, 'ratios': ratios, 'block_metrics': block_metrics})
    return {'names': names, 'params': prunables, 'metrics': [float(m) for m in metrics], 'cases': cases}


def snr_rule():
    snr = [1.0, 3.0, 3.0, float('inf'), 0.5, 7.0]
    ranks = rankdata(snr, method='average') - 1
    n = len(snr)
    lr = 2e-5
    return {'snr': ['Infinity' if np.isinf(x) else x for x in snr], 'lr': lr,
            'scheduled_lr': [float(lr * (0.5 + 1.0 * r / (n - 1))) for r in ranks]}


def main():
    phase1 = make_spectra.spectra(os.path.join(REPO, 'public', 'demo', 'phase1-25pct.safetensors'))
    doc = {
        'generator': 'test-fixtures/make-plans.py',
        'tempbalance_phase1': tempbalance(phase1, 2e-5),
        'energy_ranks_phase1': energy_ranks(phase1),
        'alphapruning': alphapruning_cases(),
        'snr_rule': snr_rule(),
    }
    with open(OUT, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()

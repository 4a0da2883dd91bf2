#!/usr/bin/env python3
"""Reference values for alpha_peak (WeightWatcher's fix_fingers='xmin_peak') and FARMS alpha.

An independent float64 numpy re-implementation of the published code paths, not of ours:

- alpha_peak, two ways that must agree:
  * WeightWatcher 0.7.x `fit_powerlaw(..., fix_fingers='xmin_peak')`: nz = evals[evals > 1e-5];
    h = np.histogram(np.log10(nz), bins=100); xmin2 = 10 ** h[1][argmax(h[0])];
    xmin_range = (np.log10(0.95 * xmin2), 1.5 * xmin2), handed to the `powerlaw` package's Fit, whose
    find_xmin scans the unique data values (but the last) inside the range: alpha = 1 + n / Σ ln(x/xmin)
    over x ≥ xmin, D = max(D+, D-) against its empirical CDF (arange(n)/n for distinct data), the
    first smallest D wins. (`powerlaw` is not installed here, so that part is written out.)
  * AlphaPruning's / FARMS' `net_esd_estimator(fix_fingers='xmin_peak')` loop: the same histogram,
    `continue` below log10(0.95 xmin2), `break` above 1.5 xmin2, Ds initialised to 1, torch.argmin.
- FARMS (arXiv 2506.06280, `fixed_number_of_sampling_ops` + `analysis_esd`): windows of
  100 x 200 (num_row_samples=100, Q_ratio=2.0), 10 per side, the eigenvalues (sigma^2) of every
  window pooled, then `net_esd_estimator_farms`' default fit, fix_fingers='xmin_mid' (xmin at the
  pooled ESD's median eigenvalue, i = int(N / 2); filter_zeros=False), and also its xmin_peak loop.
  Run on two seeded Gaussian (Marchenko-Pastur) matrices of aspect 1 and 4, written as little-endian
  f32 files beside the expected values, with their plain alphas (WeightWatcher's default fit: every
  candidate, first smallest one-sided D) and the same xmin_mid fit of their whole ESD.

    python3 test-fixtures/make-alpha-peak.py

Reads test-fixtures/spectra/{reference-model,phase0-base}.json (make-spectra.py); writes
test-fixtures/expected/alpha-peak.json, test-fixtures/expected/farms-mp.json and
test-fixtures/reference/mp-aspect{1,4}.f32.
"""
import json
import math
import os

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, 'test-fixtures')
EVALS_THRESH = 1e-5


def peak_of(nz):
    h = np.histogram(np.log10(nz), bins=100)
    ih = int(np.argmax(h[0]))
    return 10 ** h[1][ih]


def ww_xmin_peak(evals):
    """WeightWatcher's path: histogram peak, then the powerlaw package's xmin scan over the range."""
    evals = np.sort(np.asarray(evals, dtype=np.float64))
    nz = evals[evals > EVALS_THRESH]
    xmin2 = peak_of(nz)
    lo, hi = np.log10(0.95 * xmin2), 1.5 * xmin2
    data = nz
    xmins = np.unique(data)[:-1]
    xmins = xmins[(xmins >= lo) & (xmins <= hi)]
    best = None
    for xmin in xmins:
        tail = data[data >= xmin]
        n = len(tail)
        alpha = 1 + n / np.sum(np.log(tail / xmin))
        # powerlaw's cdf(): distinct values -> arange(n)/n at each sorted value
        uniq, first = np.unique(tail, return_index=True)
        actual = np.searchsorted(tail, tail, side='left')[first] / n
        theoretical = 1 - (uniq / xmin) ** (1 - alpha)
        diff = theoretical - actual
        D = max(diff.max(), -diff.min())
        if best is None or D < best[0]:
            best = (D, float(xmin), float(alpha), n)
    D, xmin, alpha, n = best
    return {'alpha_peak': alpha, 'xmin_peak': xmin, 'D': float(D), 'peak': float(xmin2), 'tail': n}


def alphapruning_xmin_peak(evals, thresh=EVALS_THRESH, filter_zeros=True):
    """AlphaPruning / FARMS net_esd_estimator(fix_fingers='xmin_peak'), in numpy float64."""
    eigs = np.sort(np.asarray(evals, dtype=np.float64))
    nz = eigs[eigs > thresh] if filter_zeros else eigs
    N = len(nz)
    log_nz = np.log(nz)
    xmin2 = peak_of(nz)
    xmin_min, xmin_max = np.log10(0.95 * xmin2), 1.5 * xmin2
    alphas = np.zeros(N - 1)
    Ds = np.ones(N - 1)
    for i, xmin in enumerate(nz[:-1]):
        if xmin < xmin_min:
            continue
        if xmin > xmin_max:
            break
        n = float(N - i)
        seq = np.arange(n)
        alpha = 1 + n / (np.sum(log_nz[i:]) - n * log_nz[i])
        alphas[i] = alpha
        if alpha > 1:
            Ds[i] = np.max(np.abs(1 - (nz[i:] / xmin) ** (-alpha + 1) - seq / n))
    k = int(np.argmin(Ds))
    return {'alpha_peak': float(alphas[k]), 'xmin_peak': float(nz[k]), 'D': float(Ds[k])}


def xmin_mid_alpha(evals, xmin_pos=2):
    """analysis_esd(fix_fingers='xmin_mid', filter_zeros=False): xmin at index int(N / xmin_pos)."""
    nz = np.sort(np.asarray(evals, dtype=np.float64))
    N = len(nz)
    i = int(N / xmin_pos)
    n = float(N - i)
    log_nz = np.log(nz)
    return float(1 + n / (np.sum(log_nz[i:]) - n * log_nz[i])), float(nz[i])


def ww_plain_alpha(evals):
    """WeightWatcher's default fit (its WWFit): every candidate, first smallest one-sided D."""
    data = np.sort(np.asarray(evals, dtype=np.float64))
    data = data[data > EVALS_THRESH]
    N = len(data)
    log_data = np.log(data)
    alphas = np.zeros(N - 1)
    Ds = np.ones(N - 1)
    for i, xmin in enumerate(data[:-1]):
        n = float(N - i)
        alpha = 1 + n / (np.sum(log_data[i:]) - n * log_data[i])
        alphas[i] = alpha
        if alpha > 1:
            Ds[i] = np.max(np.abs(1 - (data[i:] / xmin) ** (-alpha + 1) - np.arange(n) / n))
    k = int(np.argmin(Ds))
    return float(alphas[k])


def farms_eigs(W, num_row_samples=100, Q_ratio=2.0, per_dim=10):
    """fixed_number_of_sampling_ops, for matrices at least one window large."""
    rows, cols = W.shape
    num_col_samples = int(num_row_samples * Q_ratio)
    row_step = max(1, math.floor((rows - num_row_samples) / (per_dim - 1)))
    col_step = max(1, math.floor((cols - num_col_samples) / (per_dim - 1)))
    n_row = min(per_dim, max(1, (rows - num_row_samples) // row_step + 1))
    n_col = min(per_dim, max(1, (cols - num_col_samples) // col_step + 1))
    eigs = []
    for i in range(n_row):
        for j in range(n_col):
            r0 = min(i * row_step, rows - num_row_samples)
            c0 = min(j * col_step, cols - num_col_samples)
            s = np.linalg.svd(W[r0:r0 + num_row_samples, c0:c0 + num_col_samples], compute_uv=False)
            eigs.append(s ** 2)
    return np.sort(np.concatenate(eigs)), n_row * n_col


def alpha_peak_fixtures():
    out = {}
    for name in ('reference-model', 'phase0-base'):
        spectra = json.load(open(os.path.join(FIX, 'spectra', f'{name}.json')))['tensors']
        tensors = {}
        for t, v in spectra.items():
            sv = np.asarray(v['sv'], dtype=np.float64)
            if len(sv) < 2:
                continue
            evals = sv ** 2
            ww = ww_xmin_peak(evals)
            ap = alphapruning_xmin_peak(evals)
            assert abs(ww['alpha_peak'] - ap['alpha_peak']) <= 1e-12 * ww['alpha_peak'], (name, t, ww, ap)
            tensors[t] = ww
        out[name] = tensors
    return out


def farms_fixture():
    rng = np.random.default_rng(20261130)
    out = {}
    for aspect, shape in ((1, (400, 400)), (4, (200, 800))):
        W = (rng.standard_normal(shape) / math.sqrt(shape[1])).astype('<f4')
        W.tofile(os.path.join(FIX, 'reference', f'mp-aspect{aspect}.f32'))
        W64 = W.astype(np.float64)
        sv = np.linalg.svd(W64, compute_uv=False)
        pooled, windows = farms_eigs(W64)
        alpha_farms, xmin_farms = xmin_mid_alpha(pooled)
        out[f'aspect{aspect}'] = {
            'file': f'test-fixtures/reference/mp-aspect{aspect}.f32',
            'shape': list(shape),
            'alpha': ww_plain_alpha(sv ** 2),
            'alpha_peak': ww_xmin_peak(sv ** 2)['alpha_peak'],
            'alpha_mid': xmin_mid_alpha(sv ** 2)[0],
            'alpha_farms': alpha_farms,
            'xmin_farms': xmin_farms,
            'alpha_farms_xmin_peak': alphapruning_xmin_peak(pooled, filter_zeros=False)['alpha_peak'],
            'windows': windows,
            'pooled_count': int(len(pooled)),
        }
    return out


if __name__ == '__main__':
    note = 'make-alpha-peak.py: float64 numpy re-implementation of WeightWatcher/AlphaPruning/FARMS code paths'
    with open(os.path.join(FIX, 'expected', 'alpha-peak.json'), 'w') as f:
        json.dump({'source': note, 'fixtures': alpha_peak_fixtures()}, f, indent=1)
    with open(os.path.join(FIX, 'expected', 'farms-mp.json'), 'w') as f:
        json.dump({'source': note, 'seed': 20261130, 'matrices': farms_fixture()}, f, indent=1)
    print(json.dumps(json.load(open(os.path.join(FIX, 'expected', 'farms-mp.json')))['matrices'], indent=1))

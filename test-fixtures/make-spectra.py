#!/usr/bin/env python3
"""Write the float64 singular values of every 2-D tensor of the HT-SR fixtures.

The metrics tests (src/core/metrics/htsr.test.ts) need full spectra, but the expected JSONs
keep only a head and a tail of them; this regenerates test-fixtures/spectra/<file>.json from
the fixture safetensors files (decoded here, independently of the project's own reader), plus
gaussian.json: a seeded pure-noise matrix (no heavy tail, no spikes) for the closed-form tests.

    python3 test-fixtures/make-spectra.py

It reads test-fixtures/reference/reference-model.safetensors and public/demo/phase0-base.safetensors.
"""
import json
import os
import struct
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, 'test-fixtures', 'spectra')
SOURCES = {
    'reference-model': 'test-fixtures/reference/reference-model.safetensors',
    'phase0-base': 'public/demo/phase0-base.safetensors',
}


def decode(raw, dtype, shape):
    if dtype == 'F32':
        a = np.frombuffer(raw, dtype='<f4').astype(np.float64)
    elif dtype == 'F16':
        a = np.frombuffer(raw, dtype='<f2').astype(np.float64)
    elif dtype == 'BF16':
        # bf16 is the top half of an f32
        a = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view('<f4').astype(np.float64)
    elif dtype == 'F64':
        a = np.frombuffer(raw, dtype='<f8').astype(np.float64)
    else:
        raise ValueError(f'unsupported dtype {dtype}')
    return a.reshape(shape)


def spectra(path):
    with open(path, 'rb') as f:
        data = f.read()
    (hlen,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + hlen])
    body = data[8 + hlen:]
    out = {}
    for name in sorted(header):
        if name == '__metadata__':
            continue
        info = header[name]
        if len(info['shape']) != 2:
            continue
        start, end = info['data_offsets']
        w = decode(body[start:end], info['dtype'], info['shape'])
        sv = np.linalg.svd(w, compute_uv=False)  # descending, min(rows, cols) of them
        out[name] = {'shape': info['shape'], 'dtype': info['dtype'], 'sv': [float(x) for x in sv]}
    return out


def gaussian():
    """A pure-noise matrix: its ESD is Marchenko-Pastur, with no heavy tail and no spikes."""
    rng = np.random.default_rng(20240917)
    shape = [512, 1536]
    w = rng.standard_normal(shape) / np.sqrt(shape[1])
    sv = np.linalg.svd(w, compute_uv=False)
    return {'gaussian-512x1536': {'shape': shape, 'dtype': 'F64', 'sv': [float(x) for x in sv]}}


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'gaussian.json'), 'w') as f:
        doc = {'file': None, 'precision': 'float64 numpy.linalg.svd of N(0, 1/1536) entries, numpy default_rng(20240917)',
               'tensors': gaussian()}
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    for key, rel in SOURCES.items():
        doc = {'file': os.path.basename(rel), 'precision': 'float64 numpy.linalg.svd of the decoded tensor',
               'tensors': spectra(os.path.join(REPO, rel))}
        with open(os.path.join(OUT, key + '.json'), 'w') as f:
            json.dump(doc, f, separators=(',', ':'))
            f.write('\n')


if __name__ == '__main__':
    main()

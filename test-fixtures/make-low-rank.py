"""Float64 references for the randomized SVD (src/engine/conformance.ts, src/engine/low-rank/*.test.ts).

A 128 × 192 matrix W = U₀ diag(s) V₀ᵀ with random orthonormal U₀, V₀ (numpy's QR of seeded Gaussians),
a head of 12 singular values 10·0.7^i over a tail between 0.05 and 0.075, rounded to f32 as a checkpoint
holds it; then numpy's float64 SVD of the rounded values: every σ and the top 16 singular vectors.

  python3 test-fixtures/make-low-rank.py   # writes test-fixtures/reference/low-rank-128x192.f32
                                           # and test-fixtures/expected/low-rank-128x192.json
"""

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ROWS, COLS, HEAD, VECTORS = 128, 192, 12, 16


def main():
    rng = np.random.default_rng(20261130)
    u0, _ = np.linalg.qr(rng.standard_normal((ROWS, ROWS)))
    v0, _ = np.linalg.qr(rng.standard_normal((COLS, ROWS)))
    s = np.concatenate([10 * 0.7 ** np.arange(HEAD), 0.05 + 0.025 * rng.random(ROWS - HEAD)])
    w = ((u0 * s) @ v0.T).astype(np.float32)
    (ROOT / "test-fixtures" / "reference" / f"low-rank-{ROWS}x{COLS}.f32").write_bytes(w.astype("<f4").tobytes())
    u, sigma, vt = np.linalg.svd(w.astype(np.float64), full_matrices=False)
    out = {
        "rows": ROWS,
        "cols": COLS,
        "head": HEAD,
        "sigma": sigma.tolist(),
        "u": u[:, :VECTORS].flatten().tolist(),
        "v": vt[:VECTORS].T.flatten().tolist(),
        "vectors": VECTORS,
    }
    (ROOT / "test-fixtures" / "expected" / f"low-rank-{ROWS}x{COLS}.json").write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()

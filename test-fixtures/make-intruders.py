"""Float64 references for intruder dimensions (src/core/metrics/intruders.test.ts, src/cli/intruders-cli.test.ts).

Intruder dimensions as the paper's published code computes them (reeceshuttle/intruder-dimensions,
find_intruder_dimensions.py): a thin SVD of the base and the fine-tuned matrix, |U_tunedᵀ U_base|, the
largest entry per fine-tuned vector, the top k = 10 checked against ε = 0.5. Here with numpy in float64.

  python3 test-fixtures/make-intruders.py   # writes test-fixtures/expected/intruders-*.json
"""

import json
import struct
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-fixtures" / "expected"


def max_abs_cos(tuned_vectors, base_vectors):
    """For each column of tuned_vectors, the largest |cos| with any column of base_vectors, and which."""
    cos = np.abs(tuned_vectors.T @ base_vectors)
    return cos.max(axis=1), cos.argmax(axis=1)


def small_case():
    """A 9 × 6 base and base + a rank-2 change, both rounded to f32; their SVDs and the cosines on both sides."""
    rng = np.random.default_rng(20241028)
    base = rng.standard_normal((9, 6)).astype(np.float32).astype(np.float64)
    change = 3.0 * np.outer(rng.standard_normal(9), rng.standard_normal(6)) + 2.0 * np.outer(rng.standard_normal(9), rng.standard_normal(6))
    tuned = (base + change).astype(np.float32).astype(np.float64)
    svd = {}
    for name, m in (("base", base), ("tuned", tuned)):
        u, s, vt = np.linalg.svd(m, full_matrices=False)
        svd[name] = {"sigma": s.tolist(), "u": u.flatten().tolist(), "v": vt.T.flatten().tolist()}
    left, left_at = max_abs_cos(np.array(svd["tuned"]["u"]).reshape(9, 6), np.array(svd["base"]["u"]).reshape(9, 6))
    right, right_at = max_abs_cos(np.array(svd["tuned"]["v"]).reshape(6, 6), np.array(svd["base"]["v"]).reshape(6, 6))
    return {
        "rows": 9,
        "cols": 6,
        "base": svd["base"],
        "tuned": svd["tuned"],
        "left": {"max_cos": left.tolist(), "base_index": left_at.tolist()},
        "right": {"max_cos": right.tolist(), "base_index": right_at.tolist()},
    }


def read_safetensors(path):
    """Every BF16 tensor of a safetensors file, as float64 arrays (bf16 is the top half of an f32)."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "BF16", t["dtype"]
        lo, hi = t["data_offsets"]
        raw = np.frombuffer(data[8 + n + lo : 8 + n + hi], dtype="<u2").astype(np.uint32) << 16
        tensors[name] = raw.view(np.float32).astype(np.float64).reshape(t["shape"])
    return tensors


def demo_case():
    """The demo: phase 1 against the base, for a changed square, a changed tall and an unchanged matrix."""
    base = read_safetensors(ROOT / "public/demo/phase0-base.safetensors")
    tuned = read_safetensors(ROOT / "public/demo/phase1-25pct.safetensors")
    matrices = {}
    for name in (
        "model.layers.0.self_attn.q_proj.weight",
        "model.layers.2.mlp.gate_proj.weight",
        "model.layers.1.self_attn.q_proj.weight",
    ):
        ub, _, _ = np.linalg.svd(base[name], full_matrices=False)
        ut, st, _ = np.linalg.svd(tuned[name], full_matrices=False)
        best, at = max_abs_cos(ut[:, :10], ub)
        matrices[name] = {
            "shape": list(base[name].shape),
            "sigma": st[:10].tolist(),
            "max_cos": best.tolist(),
            "base_index": at.tolist(),
            "intruders": int((best < 0.5).sum()),
        }
    return {"base": "phase0-base", "tuned": "phase1-25pct", "k": 10, "threshold": 0.5, "matrices": matrices}


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "intruders-small.json").write_text(json.dumps(small_case(), indent=1) + "\n")
    (OUT / "intruders-demo.json").write_text(json.dumps(demo_case(), indent=1) + "\n")

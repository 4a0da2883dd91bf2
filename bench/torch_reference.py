"""PyTorch's times on the shapes of bench/gpu.bench.ts, on the same GPU, for its ratio columns.

Usage: python3 bench/torch_reference.py [--shapes 896x4864,...] [--reps 3] [--out torch.json] [--device cuda|cpu]

torch.linalg.svdvals on float32 is what Spectrum runs; the Gram of the small side followed by
torch.linalg.eigvalsh is the same algorithm as our exact mode. The matrix is the one
bench/hash-matrix.ts builds (uniform in [-1, 1) from a 32-bit hash of the index). Times are the
best of --reps after a warm-up, with torch.cuda.synchronize() around each.
"""
import argparse, json, sys, time

import torch

# The bench's matrix, the same numbers as bench/hash-matrix.ts (the script's folder is on sys.path).
from numpy_svdvals import hash_matrix

SHAPES = "896x4864,2048x5632,4096x4096,4096x14336,5120x13824"


def best_ms(fn, reps, sync):
    fn()
    sync()
    best = float("inf")
    for _ in range(reps):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, (time.perf_counter() - t) * 1e3)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="bench/results/torch-reference.json")
    ap.add_argument("--device", default="cuda", help="cuda, or cpu to try the script where there is no GPU")
    a = ap.parse_args()
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    name = torch.cuda.get_device_name(0) if cuda else f"CPU ({torch.get_num_threads()} threads)"
    out = {"device": name, "torch": torch.__version__, "shapes": {}}
    for s in a.shapes.split(","):
        r, c = (int(x) for x in s.split("x"))
        w = torch.from_numpy(hash_matrix(r, c)).to(dev)
        gram = (lambda: w @ w.T) if r <= c else (lambda: w.T @ w)
        g = gram()
        row = {
            "svdvals_ms": best_ms(lambda: torch.linalg.svdvals(w), a.reps, sync),
            "gram_ms": best_ms(gram, a.reps, sync),
            "eigvalsh_ms": best_ms(lambda: torch.linalg.eigvalsh(g), a.reps, sync),
        }
        out["shapes"][s] = row
        print(json.dumps({s: row}), file=sys.stderr, flush=True)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

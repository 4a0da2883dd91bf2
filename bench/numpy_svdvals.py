"""Time NumPy/LAPACK singular values on the shapes of bench/cpu.bench.ts, by hand.

Usage: python3 bench/numpy_svdvals.py [--shapes 896x4864,...] [--threads 1,2] [--out bench/results/numpy-svdvals.json]
       python3 bench/numpy_svdvals.py --shapes 896x4864,2048x5632 --accuracy bench/results/numpy-sigma.json

Runs itself once per thread count (OPENBLAS_NUM_THREADS must be set before numpy
loads) and merges the timings into one JSON that `npm run bench:cpu` reads to
print the ratio. float32 input is what Spectrum hands to svdvals; float64 is
given too. `gram_eigvalsh` is the same algorithm as our CPU engine (Gram of the
small side + eigvalsh), in LAPACK, for comparison.
"""
import argparse, json, os, subprocess, sys, time

SHAPES = "896x4864,2048x5632,4096x4096,4096x14336,5120x13824"


def child(shapes, reps, svd_only):
    import numpy as np
    rng = np.random.default_rng(0)
    out = {}
    for s in shapes:
        r, c = (int(x) for x in s.split("x"))
        a32 = rng.standard_normal((r, c), dtype=np.float32)
        row = {}
        for name, a in (("f32", a32), ("f64", a32.astype(np.float64))):
            best = float("inf")
            for _ in range(reps):
                t = time.perf_counter()
                np.linalg.svd(a, compute_uv=False)
                best = min(best, time.perf_counter() - t)
            row["svd_" + name] = best
        if svd_only:
            out[s] = row
            print(json.dumps({s: row}), file=sys.stderr, flush=True)
            continue
        a = a32.astype(np.float64)
        t = time.perf_counter()
        g = a @ a.T if r <= c else a.T @ a
        tg = time.perf_counter() - t
        t = time.perf_counter()
        np.linalg.eigvalsh(g)
        row["gram_f64"] = tg
        row["eigvalsh_f64"] = time.perf_counter() - t
        out[s] = row
        print(json.dumps({s: row}), file=sys.stderr, flush=True)
    return out


def hash_matrix(rows, cols):
    """The matrix bench/cpu.bench.ts builds (hashMatrix there): value i from a 32-bit hash of i,
    uniform in [-1, 1), float32; so both sides see the same numbers without a file."""
    import numpy as np
    h = np.arange(rows * cols, dtype=np.uint32) * np.uint32(0x9E3779B1)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return (h.astype(np.float64) / 2147483648.0 - 1.0).astype(np.float32).reshape(rows, cols)


def accuracy(shapes, out):
    """float64 LAPACK singular values of the bench's own matrices, for its accuracy column."""
    import numpy as np
    res = {}
    for s in shapes:
        r, c = (int(x) for x in s.split("x"))
        res[s] = np.linalg.svd(hash_matrix(r, c).astype(np.float64), compute_uv=False).tolist()
        print(s, file=sys.stderr, flush=True)
    with open(out, "w") as f:
        json.dump(res, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "numpy-svdvals.json"))
    ap.add_argument("--svd-only", action="store_true", help="skip the Gram + eigvalsh timings")
    ap.add_argument("--accuracy", metavar="FILE", help="instead of timing, write float64 svdvals of the bench's matrices to FILE")
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    shapes = a.shapes.split(",")
    if a.accuracy:
        accuracy(shapes, a.accuracy)
        return
    if a.child:
        print(json.dumps(child(shapes, a.reps, a.svd_only)))
        return
    import numpy as np
    res = {"numpy": np.__version__, "threads": {}}
    if os.path.exists(a.out):
        with open(a.out) as f:
            res = json.load(f)
        res.setdefault("threads", {})
    for t in a.threads.split(","):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=t, OMP_NUM_THREADS=t)
        p = subprocess.run([sys.executable, __file__, "--child", "--shapes", a.shapes, "--reps", str(a.reps)] + (["--svd-only"] if a.svd_only else []),
                           env=env, check=True, stdout=subprocess.PIPE, text=True)
        for shape, row in json.loads(p.stdout).items():
            res["threads"].setdefault(t, {}).setdefault(shape, {}).update(row)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()

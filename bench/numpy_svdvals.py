"""Time NumPy/LAPACK singular values on the shapes of bench/cpu.bench.ts, by hand.

Usage: python3 bench/numpy_svdvals.py [--shapes 896x4864,...] [--threads 1,2] [--out bench/results/numpy-svdvals.json]
       python3 bench/numpy_svdvals.py --shapes 896x4864,2048x5632 --accuracy bench/results/numpy-sigma.json
       OPENBLAS_NUM_THREADS=2 python3 bench/numpy_svdvals.py --checkpoint model.safetensors --threads 2
       python3 bench/numpy_svdvals.py --checkpoint model.safetensors --device cuda

Runs itself once per thread count (OPENBLAS_NUM_THREADS must be set before numpy
loads) and merges the timings into one JSON that `npm run bench:cpu` reads to
print the ratio. float32 input is what Spectrum hands to svdvals; float64 is
given too. `gram_eigvalsh` is the same algorithm as our CPU engine (Gram of the
small side + eigvalsh), in LAPACK, for comparison. When torch is importable,
`torch.linalg.svdvals` on the float32 matrix (what spectrum.py runs) is timed too.

--checkpoint does what spectrum.py does to a whole bf16/f16/f32 safetensors file
(bench/checkpoint.bench.ts runs it): each 2-D tensor to float32, then
torch.linalg.svdvals, or without torch NumPy's float64 Gram + eigvalsh; it
prints one JSON line (method, matrices, seconds, sigma_max per tensor).
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
        try:
            import torch
            torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
            ta = torch.from_numpy(a32)
            best = float("inf")
            for _ in range(reps):
                t = time.perf_counter()
                torch.linalg.svdvals(ta)
                best = min(best, time.perf_counter() - t)
            row["torch_svdvals_f32"] = best
        except ImportError:
            pass
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


def checkpoint(path, threads, device):
    """Spectrum's path over one safetensors file: every 2-D tensor to float32, then its singular values.

    device "cuda": each tensor goes to the GPU first, as spectrum.py's model lives there on a GPU machine; the
    seconds include CUDA's start (our CLI's include Dawn's), reported apart as init_seconds."""
    import numpy as np
    try:
        import torch
        torch.set_num_threads(threads)
        method = f"torch.linalg.svdvals (float32, {device})"
    except ImportError:
        if device != "cpu":
            raise SystemExit(f"--device {device} needs torch")
        torch = None
        method = "numpy float64 Gram + eigvalsh"
    t0 = time.perf_counter()
    init = 0.0
    if torch is not None and device != "cpu":
        torch.zeros(1, device=device)
        torch.cuda.synchronize()
        init = time.perf_counter() - t0
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    sigma_max = {}
    for name, t in header.items():
        if name == "__metadata__" or len(t["shape"]) != 2:
            continue
        a0, a1 = t["data_offsets"]
        raw = data[a0:a1]
        if t["dtype"] == "BF16":
            w = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif t["dtype"] == "F16":
            w = raw.view(np.float16).astype(np.float32)
        elif t["dtype"] == "F32":
            w = np.array(raw.view(np.float32))
        else:
            raise SystemExit(f"{name}: dtype {t['dtype']} not handled here")
        w = w.reshape(t["shape"])
        if torch is not None:
            s = torch.linalg.svdvals(torch.from_numpy(w).to(device)).double().cpu().numpy()
        else:
            a = w.astype(np.float64)
            g = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
            s = np.sqrt(np.maximum(np.linalg.eigvalsh(g), 0))[::-1]
        sigma_max[name] = float(s[0])
    seconds = time.perf_counter() - t0
    print(json.dumps({"method": method, "matrices": len(sigma_max), "seconds": seconds, "init_seconds": init, "sigma_max": sigma_max}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "numpy-svdvals.json"))
    ap.add_argument("--svd-only", action="store_true", help="skip the Gram + eigvalsh timings")
    ap.add_argument("--accuracy", metavar="FILE", help="instead of timing, write float64 svdvals of the bench's matrices to FILE")
    ap.add_argument("--checkpoint", metavar="FILE", help="instead, Spectrum's path over every 2-D tensor of a safetensors file")
    ap.add_argument("--device", default="cpu", help="with --checkpoint: where torch computes (cpu or cuda)")
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    if a.checkpoint:
        checkpoint(a.checkpoint, int(a.threads.split(",")[0]), a.device)
        return
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

"""The whole-checkpoint table of bench/gpu-h100.sh, from the runs it left in one folder.

Usage: python3 bench/gpu_checkpoint_report.py DIR CHECKPOINT

DIR holds times.tsv (bench/timed.py's lines), one folder per CLI scan (scan-<label>/ with metrics.json and the
YAMLs) and one JSON per Spectrum-style run (torch-<label>.json, bench/numpy_svdvals.py --checkpoint's line). Labels:
webgpu-N (CLI, WebGPU engine, exact), webgpu-fast (CLI, fast mode), cpu (CLI, float64 CPU engine), torch-cuda-N and
torch-cpu (Spectrum's path). Prints wall time, MB/s and peak memory per run, the ratios of best times, and how far
each path's σ_max, SNR and YAML bytes are from the float64 CPU engine's.
"""
import glob, json, os, sys


def main():
    folder, checkpoint = sys.argv[1], sys.argv[2]
    mb = os.path.getsize(checkpoint) / 1e6
    runs = {}
    for line in open(os.path.join(folder, "times.tsv")):
        label, seconds, peak, status = line.rstrip("\n").split("\t")
        runs[label] = (float(seconds), float(peak), int(status))
    print(f"whole checkpoint: {os.path.basename(checkpoint)}, {mb:.0f} MB")
    print(f"{'run':<16} {'seconds':>8} {'MB/s':>7} {'peak MiB':>9}  exit  note")
    for label, (seconds, peak, status) in runs.items():
        note = ""
        torch_file = os.path.join(folder, f"{label}.json")
        if os.path.exists(torch_file):
            t = json.load(open(torch_file))
            note = f"{t['method']}, {t['matrices']} matrices, {t['seconds']:.2f} s inside"
            if t["init_seconds"]:
                note += f" ({t['init_seconds']:.2f} s of it starting CUDA)"
        print(f"{label:<16} {seconds:>8.2f} {mb / seconds:>7.0f} {peak:>9.0f}  {status:>4}  {note}")

    groups = {  # label -> the runs it names: passes of one path, or one run
        "WebGPU exact": lambda label: label.startswith("webgpu-") and label[7:].isdigit(),
        "WebGPU fast": lambda label: label == "webgpu-fast",
        "CPU float64": lambda label: label == "cpu",
        "torch CUDA": lambda label: label.startswith("torch-cuda"),
        "torch CPU": lambda label: label.startswith("torch-cpu"),
    }

    def best(group):
        times = [s for label, (s, _, status) in runs.items() if groups[group](label) and status == 0]
        return min(times) if times else None

    print("ratios of best wall times (< 1: the first is faster)")
    for a, b in (("WebGPU exact", "torch CUDA"), ("WebGPU fast", "torch CUDA"), ("WebGPU fast", "WebGPU exact"),
                 ("CPU float64", "torch CPU"), ("WebGPU exact", "CPU float64")):
        ta, tb = best(a), best(b)
        if ta is not None and tb is not None:
            print(f"  {a:<12} / {b:<12} {ta / tb:.2f}  ({ta:.2f} s against {tb:.2f} s)")

    def scan(label):
        path = os.path.join(folder, f"scan-{label}", "metrics.json")
        if not os.path.exists(path):
            return None
        return {m["name"]: m for m in json.load(open(path))["matrices"] if m["status"] == "ok"}

    reference = scan("cpu")
    if reference is None:
        print("no float64 CPU scan to compare with")
        return
    print(f"against the float64 CPU engine ({len(reference)} matrices)")
    for label in sorted(runs):
        other = scan(label) if label != "cpu" else None
        if other is not None:
            worst = {"sigma_max": 0.0, "snr": 0.0}
            for name, m in other.items():
                r = reference.get(name)
                for key in worst:
                    if r is not None and m.get(key) is not None and r.get(key):
                        worst[key] = max(worst[key], abs(m[key] - r[key]) / abs(r[key]))
            yamls = sorted(os.path.basename(p) for p in glob.glob(os.path.join(folder, "scan-cpu", "*.yaml")))
            same = [y for y in yamls if os.path.exists(os.path.join(folder, f"scan-{label}", y))
                    and open(os.path.join(folder, f"scan-{label}", y), "rb").read() == open(os.path.join(folder, "scan-cpu", y), "rb").read()]
            print(f"  {label:<14} {len(other)} matrices; largest relative difference: σ_max {worst['sigma_max']:.1e}, SNR {worst['snr']:.1e}; "
                  f"YAML identical byte for byte: {len(same)} of {len(yamls)}")
        torch_file = os.path.join(folder, f"{label}.json")
        if os.path.exists(torch_file):
            sigma = json.load(open(torch_file))["sigma_max"]
            diffs = [abs(v - reference[n]["sigma_max"]) / reference[n]["sigma_max"] for n, v in sigma.items() if n in reference]
            print(f"  {label:<14} {len(diffs)} matrices; largest relative difference: σ_max {max(diffs):.1e} (float32 svdvals)")


if __name__ == "__main__":
    main()

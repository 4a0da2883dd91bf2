"""Runs a command and appends its wall time and peak memory to a tab-separated file (bench/gpu-h100.sh's steps).

Usage: python3 bench/timed.py LABEL TIMES.tsv -- COMMAND [ARGS...]

Appends `LABEL <tab> seconds <tab> peak RSS MiB <tab> exit status`; the command's output passes through. The peak is
the largest resident set of the command (worker threads included), from getrusage of the one child. Exits with the
command's status.
"""
import resource, subprocess, sys, time


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        raise SystemExit(__doc__.strip().splitlines()[2])
    label, times, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    t = time.perf_counter()
    status = subprocess.run(command).returncode
    seconds = time.perf_counter() - t
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    with open(times, "a") as f:
        f.write(f"{label}\t{seconds:.3f}\t{peak_mib:.0f}\t{status}\n")
    sys.exit(status)


if __name__ == "__main__":
    main()

"""Runs every benchmark, each in its own process (so that bench_large's ru_maxrss is its own), and prints
their tables after the date, ``uptime``'s load and each command (copy them into bench/RESULTS.md).
``make bench`` runs it from bench/; the comparison with neural-tangents comes first."""

import datetime
import os
import subprocess
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app sets it (ntklab/cli.py), before NumPy loads

BENCHES = [  # (title, script and arguments)
    ("NTK Lab beside neural-tangents 0.6.5 (issue 15)", ["compare_peer.py"]),
    ("Analytic kernels", ["bench_kernels.py"]),
    ("N = 20,000", ["bench_large.py"]),
    ("Training step at width 4096", ["bench_step.py"]),
    ("Training in the window", ["bench_training.py"]),
    ("Training in the window at width 4096", ["bench_training.py", "wide"]),
    ("Spectra at n = 1000", ["bench_spectra.py"]),
    ("Sweeps: seeds batched with vmap", ["bench_sweep.py"]),
    ("Time estimate of session/resources.py", ["bench_resources.py"]),
    ("Start-up", ["bench_startup.py"]),
    ("Memory of a long run", ["bench_memory.py"]),
]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    only = sys.argv[1:]
    for title, args in BENCHES:
        if only and args[0] not in only:
            continue
        print(f"## {title}\n")
        print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, `{' '.join(['python', 'bench/' + args[0], *args[1:]])}`, "
              f"before: `{uptime()}`\n", flush=True)
        out = subprocess.run([sys.executable, *args], capture_output=True, text=True)
        print(out.stdout.rstrip() if out.returncode == 0 else f"FAILED ({out.returncode}): {out.stderr[-2000:]}")
        print(f"\nafter: `{uptime()}`\n", flush=True)


if __name__ == "__main__":
    main()

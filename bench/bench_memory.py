"""Memory of a long run stays bounded: 200,000 steps, 2000 snapshots, the kernel at every snapshot, n = 300.

Before the bounded RunRecord (issue 10) such a run kept every snapshot's kernel images (~1.2 MB each at
n = 300) and a second copy when written: 4.8 GB. Now the CLI keeps every snapshot's scalars and at most
512 snapshots' arrays and 64 kernel updates' images, and the window at most 4096 points per curve and
2048 snapshots per heatmap. Peak RSS of `ntklab run` and of the window (offscreen, `--screenshot`, which
trains the whole run before it saves), each in its own process; width 64 so that the 200k steps take
minutes, not hours.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ntklab.session import ExperimentSpec, dump_spec

BOUND_GIB = 1.0  # the documented bound (README, "Limits and memory")
# the peak RSS of one command, measured by a parent of its own (RUSAGE_CHILDREN is a maximum over children)
_PEAK = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def peak_gib(args: list[str]) -> tuple[float, float]:
    """(peak RSS in GiB, seconds) of ``python -m ntklab *args`` in its own process."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, "-m", "ntklab", *args],
                          capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return int(proc.stdout.split()[-1]) / 2**20, seconds  # KiB -> GiB (Linux)


def run(steps: int = 200_000, snapshots: int = 2000) -> list[str]:
    spec = ExperimentSpec().with_changes(model={"width": 64}, data={"n_train": 300, "n_test": 200},
                                         train={"steps": steps, "snapshots": snapshots, "kernel_every": 1,
                                                "learning_rate": 0.05})
    rows = [
        "| where | steps | snapshots | kernel every | n | peak RSS (GiB) | bound (GiB) | time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "long.toml"
        config.write_text(dump_spec(spec))
        for where, args in (("CLI (`ntklab run`)", ["run", str(config), "--out", str(Path(tmp) / "out"), "--quiet"]),
                            ("window (offscreen)", ["--config", str(config), "--screenshot",
                                                    str(Path(tmp) / "shot.png")])):
            peak, seconds = peak_gib(args)
            rows.append(f"| {where} | {steps:,} | {snapshots:,} | 1 | 300 | {peak:.2f} | {BOUND_GIB} | {seconds:.0f} |")
    return rows


if __name__ == "__main__":
    print("\n".join(run()))

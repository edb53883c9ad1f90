"""Memory of a long run stays bounded: 200,000 steps, 2000 snapshots, the kernel at every snapshot, n = 300.

Before the bounded RunRecord (issue 10) such a run kept every snapshot's kernel images (~1.2 MB each at
n = 300) and a second copy when written: 4.8 GB. Now the CLI keeps every snapshot's scalars and at most
512 snapshots' arrays and 64 kernel updates' images. Peak RSS of `ntklab run` in its own process
(ru_maxrss of the child), width 64 so that the 200k steps take minutes, not hours.
"""

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ntklab.session import ExperimentSpec, dump_spec

BOUND_GIB = 1.0  # the documented bound (README, "Memory")


def run(steps: int = 200_000, snapshots: int = 2000) -> list[str]:
    spec = ExperimentSpec().with_changes(model={"width": 64}, data={"n_train": 300, "n_test": 200},
                                         train={"steps": steps, "snapshots": snapshots, "kernel_every": 1,
                                                "learning_rate": 0.05})
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "long.toml"
        config.write_text(dump_spec(spec))
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ntklab", "run", str(config), "--out", str(Path(tmp) / "out"),
                               "--quiet"], capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        size = sum(p.stat().st_size for p in (Path(tmp) / "out").iterdir())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB (Linux)
    return [
        "| steps | snapshots | kernel every | n | peak RSS (GiB) | bound (GiB) | files (MB) | time (s) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {steps:,} | {snapshots:,} | 1 | 300 | {peak:.2f} | {BOUND_GIB} | {size / 1e6:.1f} | {seconds:.0f} |",
    ]


if __name__ == "__main__":
    print("\n".join(run()))

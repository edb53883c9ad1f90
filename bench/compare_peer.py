"""NTK Lab beside neural-tangents 0.6.5 on this machine, in one run: time(ntklab)/time(nt) per workload.

As ``../shared/peer/compare.sh``: for each workload the two programs run alternately, 3 pairs, so that the
machine's drift hits both alike; each program prints the median of several calls after warm-up. The
scripts are in ``bench/peer/``: ``time_kernel.py`` and ``time_empirical.py`` are the shared ones verbatim,
``time_training.py`` keeps nt's side verbatim and steps ntklab as a run does (the network with its factored
gradient, the linearization in function space, or with ``parameter`` in parameter space as a run with
``train.linearization = "parameter"`` does; the nt side ignores that argument). nt runs in its own virtual
environment (``../shared/peer/peer-venv.sh`` builds it; never a dependency). Target (issue 15): every
median ≤ 0.5 (the parameter-space row is for information: issue 15's pair is a run's default).
Usage: ``python bench/compare_peer.py [NT_PYTHON]``.
"""

import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_VENV = ROOT.parent / "shared" / "peer" / "peer-venv.sh"
WORKLOADS = [  # (script, arguments, what)
    ("time_kernel.py", ["4000"], "analytic NTK + NNGP, N = 4000"),
    ("time_empirical.py", ["1024"], "empirical NTK, width 1024, N = 256"),
    ("time_training.py", [], "network + linearization step, width 1024, N = 256"),
    ("time_training.py", ["parameter"], "the same, ntklab's linearization in parameter space"),
]
PAIRS = 3


def nt_python() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    return subprocess.run([str(PEER_VENV)], capture_output=True, text=True, check=True).stdout.strip()


def seconds(python: str, script: str, which: str, args: list[str]) -> tuple[float, list[str]]:
    """The last line of the script's output (seconds), and its other lines."""
    env = dict(os.environ, PYTHONPATH=str(ROOT)) if which == "ntklab" else None  # this checkout's ntklab
    out = subprocess.run([python, str(HERE / "peer" / script), which, *args], capture_output=True, text=True,
                         env=env, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{which} {script}: {out.stderr[-2000:]}")
    lines = out.stdout.strip().splitlines()
    return float(lines[-1]), lines[:-1]


def run() -> list[str]:
    nt = nt_python()
    rows = ["| workload | ntklab (s) | nt 0.6.5 (s) | ratios of the 3 pairs | median ratio | target | met |",
            "|---|---|---|---|---|---|---|"]
    notes = []
    for script, args, what in WORKLOADS:
        ours, theirs, ratios = [], [], []
        for _ in range(PAIRS):
            a, extra = seconds(sys.executable, script, "ntklab", args)
            b, _ = seconds(nt, script, "nt", args)
            ours.append(a)
            theirs.append(b)
            ratios.append(a / b)
            notes += [f"{script}: {line}" for line in extra]
        med = statistics.median(ratios)
        rows.append(f"| {what} (`{' '.join([script, *args])}`) | {statistics.median(ours):.4f} | "
                    f"{statistics.median(theirs):.4f} | {', '.join(f'{r:.3f}' for r in ratios)} | {med:.3f} | ≤ 0.5 | "
                    f"{'yes' if med <= 0.5 else 'NO'} |")
    rows += ["", "Seconds: medians over the 3 runs of each program (each run itself a median of 5–7 calls)."]
    if notes:
        rows += ["ntklab's one-time set-up, not in the per-step figure: " + "; ".join(sorted(set(notes))[:3]) + "."]
    return rows


if __name__ == "__main__":
    print("\n".join(run()))

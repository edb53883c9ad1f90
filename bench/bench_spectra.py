"""Training throughput at n = 1000 training points with the Spectra panel open vs with it off.

Target (issue 4): in the window, steps/s with spectral views on and the Spectra tab shown ≥ 80% of
steps/s with them off (Training tab shown). Default run otherwise: 2000 steps, 200 snapshots,
kernel and spectra every 4 snapshots (2% of the run). Both runs compute the empirical NTK at that
cadence (the kernel-change curve needs it); the spectra add one eigh of the 1000 × 1000 kernel per
update, the per-mode residuals per snapshot, and the panel's redraws.
"""

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app sets it (ntklab/cli.py), before NumPy loads

import numpy as np  # noqa: E402

from bench_training import in_window, rate  # noqa: E402
from ntklab.session import Experiment, ExperimentSpec  # noqa: E402

SPEC = ExperimentSpec().with_changes(data={"n_train": 1000})
OFF = SPEC.with_changes(spectra={"enabled": False})


def headless(spec) -> float:
    """Steps/s of a headless run (first chunk, with its compilation, excluded)."""
    return rate(list(Experiment(spec).run()))


def run(repeats: int = 3) -> list[str]:
    on_rates, off_rates, head_on_rates, head_off_rates = [], [], [], []
    for _ in range(repeats):  # interleaved: this machine's speed drifts
        off_rates.append(in_window(OFF, tab=0)[0])
        on_rates.append(in_window(SPEC, tab=1)[0])
        head_off_rates.append(headless(OFF))
        head_on_rates.append(headless(SPEC))
    head_off, head_on = np.median(head_off_rates), np.median(head_on_rates)
    on, off = np.median(on_rates), np.median(off_rates)
    return [
        f"Spec: default experiment with n_train = 1000 ({SPEC.train.steps} steps, {SPEC.train.snapshots} "
        f"snapshots, kernel every {SPEC.train.kernel_every}); {repeats} interleaved window runs of each, medians.",
        "",
        "| measure | steps/s | runs | target | met |",
        "|---|---|---|---|---|",
        f"| window, spectra off, Training tab | {off:.1f} | {', '.join(f'{r:.1f}' for r in off_rates)} | | |",
        f"| window, spectra on, Spectra tab | {on:.1f} ({100 * on / off:.0f}% of off) | "
        f"{', '.join(f'{r:.1f}' for r in on_rates)} | ≥ 80% | {'yes' if on >= 0.8 * off else 'NO'} |",
        f"| headless, spectra off / on | {head_off:.1f} / {head_on:.1f} ({100 * head_on / head_off:.0f}%) | "
        f"{', '.join(f'{a:.1f}/{b:.1f}' for a, b in zip(head_off_rates, head_on_rates))} | | |",
        f"| measured {time.strftime('%Y-%m-%d')} | | | | |",
    ]


if __name__ == "__main__":
    print("\n".join(run()))

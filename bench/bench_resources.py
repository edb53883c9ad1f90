"""The time estimate of ``ntklab/session/resources.py`` against measured headless runs.

For a few specs (the default experiment at several widths and training-set sizes) it prints the estimate
``estimate(spec).seconds`` (flops / ``FLOPS``), the measured wall time of the whole run (``Experiment(spec).run()``
to its last snapshot: set-up, compiles, analytic kernels, training and evaluation), and the measured time
of the training loop alone (first to last snapshot's ``wall_time``), each with their ratios. It also prints
the flop/s each run sustained (the estimate's flops over the loop's seconds): the constant that the
estimate would need to hit each one. ``FLOPS`` is set from their median.
Usage: ``python bench/bench_resources.py``.
"""

import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app sets it (ntklab/cli.py), before NumPy loads

from ntklab.session import ExperimentSpec  # noqa: E402
from ntklab.session.experiment import Experiment  # noqa: E402
from ntklab.session.resources import FLOPS, SETUP_SECONDS, estimate  # noqa: E402

CASES = [  # (what, model changes, data changes, train changes)
    ("width 512, n 16", {"width": 512}, {"n_train": 16}, {"steps": 3000, "snapshots": 100}),
    ("width 2048, n 16", {"width": 2048}, {"n_train": 16}, {"steps": 600, "snapshots": 60}),
    ("width 4096, n 16", {"width": 4096}, {"n_train": 16}, {"steps": 300, "snapshots": 30}),
    ("width 1024, depth 3, n 64", {"width": 1024, "depth": 3}, {"n_train": 64}, {"steps": 300, "snapshots": 30}),
    ("width 256, n 512", {"width": 256}, {"n_train": 512}, {"steps": 1000, "snapshots": 50}),
]


def run() -> list[str]:
    rows = [f"FLOPS = {FLOPS:.3g} flop/s, SETUP_SECONDS = {SETUP_SECONDS:g} (resources.py)", "",
            "| spec | estimate (s) | run (s) | estimate / run | training loop (s) | set-up (s) | "
            "sustained flop/s |", "|---|---|---|---|---|---|---|"]
    sustained, ratios = [], []
    for what, model, data, train in CASES:
        spec = ExperimentSpec().with_changes(model=model, data=data, train=train)
        est = estimate(spec).seconds
        started = time.perf_counter()
        snaps = list(Experiment(spec).run())
        total = time.perf_counter() - started
        loop = snaps[-1].wall_time - snaps[0].wall_time
        sustained.append((est - SETUP_SECONDS) * FLOPS / loop)
        ratios.append(est / total)
        rows.append(f"| {what}, {train['steps']} steps, {train['snapshots']} snapshots | {est:.2f} | {total:.2f} | "
                    f"{est / total:.2f} | {loop:.2f} | {total - loop:.2f} | {sustained[-1]:.3g} |")
    rows += ["", f"Median sustained flop/s of the training loops: {statistics.median(sustained):.3g}; "
             f"estimate / run from {min(ratios):.2f} to {max(ratios):.2f}."]
    return rows


if __name__ == "__main__":
    print("\n".join(run()))

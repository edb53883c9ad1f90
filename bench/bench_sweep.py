"""Sweeps: what batching the seeds of one value with vmap costs, and the kernel regime's width slopes.

Target (issue 12): a 3-seed point (one vmapped batch of 3 networks) costs ≤ 1.6× a 1-seed point at
width 512 (default experiment: depth-2 ReLU, 16 training points, 2000 steps), median of interleaved
runs, each batch size compiled before it is timed. ``--full`` also runs the acceptance sweep (widths
64…4096 × 3 seeds, resources/presets/sweep_width.toml: minutes) and prints its fitted slopes.
"""

import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app sets it (ntklab/cli.py), before NumPy loads

import numpy as np  # noqa: E402

from ntklab.appinfo import resource  # noqa: E402
from ntklab.session import ExperimentSpec, load_spec  # noqa: E402
from ntklab.session.sweep import Sweep, fit_slopes, run_batch  # noqa: E402

WIDTH = 512
SPEC = ExperimentSpec().with_changes(sweep={"field": "model.width", "values": [WIDTH], "seeds": 3})


def point_seconds(seeds: tuple[int, ...]) -> float:
    """Wall time of one batch of ``seeds`` at WIDTH: set-up, training, measurement (compiled)."""
    started = time.perf_counter()
    run_batch(SPEC, WIDTH, None, seeds)
    return time.perf_counter() - started


def run(repeats: int = 5) -> list[str]:
    import jax

    one, three = (0,), (0, 1, 2)
    point_seconds(one), point_seconds(three)  # compile each batch shape once
    t1, t3 = [], []
    for _ in range(repeats):  # interleaved: this machine's speed drifts
        t1.append(point_seconds(one))
        t3.append(point_seconds(three))
    ratio = np.median(t3) / np.median(t1)
    return [
        f"Spec: default experiment at width {WIDTH} ({SPEC.train.steps} steps, n_train = {SPEC.data.n_train}), "
        f"one batch per point; {repeats} interleaved runs of each, medians; backend {jax.default_backend()}.",
        "",
        "| batch | seconds | runs | target | met |",
        "|---|---|---|---|---|",
        f"| 1 seed | {np.median(t1):.2f} | {', '.join(f'{t:.2f}' for t in t1)} | | |",
        f"| 3 seeds (vmap) | {np.median(t3):.2f} ({ratio:.2f}× 1 seed) | {', '.join(f'{t:.2f}' for t in t3)} | "
        f"≤ 1.6× | {'yes' if ratio <= 1.6 else 'NO'} |",
        f"| measured {time.strftime('%Y-%m-%d')} | | | | |",
    ]


def full() -> list[str]:
    """The acceptance sweep (preset (a)): the fitted slopes against the issue's ranges."""
    sweep = Sweep(load_spec(resource("presets/sweep_width.toml")))
    started = time.perf_counter()
    points = list(sweep.run())
    seconds = time.perf_counter() - started
    slopes = fit_slopes(points, sweep.columns)
    targets = {"param_change": (-1.1, -0.9), "weight_change[1]": (-0.6, -0.4), "weight_change[3]": (-0.6, -0.4),
               "kernel_change": (-1.1, -0.4), "lin_gap": (-np.inf, -0.3)}
    lines = [f"Preset sweep_width.toml: widths {sweep.values[0]}…{sweep.values[-1]} × {len(sweep.seeds)} seeds, "
             f"{seconds:.0f} s; least squares over every point.", "",
             "| measure | slope ± stderr | target | met |", "|---|---|---|---|"]
    for name in ("param_change", "weight_change[1]", "weight_change[2]", "weight_change[3]", "feature_change[1]",
                 "feature_change[2]", "kernel_change", "lin_gap", "lin_gap_test", "ntk_gap_test"):
        fit = slopes[name]
        lo, hi = targets.get(name, (None, None))
        target = "" if lo is None else (f"≤ {hi:g}" if lo == -np.inf else f"{lo:g} … {hi:g}")
        met = "" if lo is None else ("yes" if lo <= fit["slope"] <= hi else "NO")
        lines.append(f"| {name} | {fit['slope']:.3f} ± {fit['stderr']:.3f} | {target} | {met} |")
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
    if "--full" in sys.argv:
        print()
        print("\n".join(full()))

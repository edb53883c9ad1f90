"""Analytic NTK+NNGP of a depth-3 ReLU net, d = 10, float32, jitted: median of 5 after warm-up.

Targets (issue 3): at most half of neural-tangents 0.6.5 on the 2-core machine,
0.018 / 0.078 / 0.34 / 1.50 s for N = 500 / 1000 / 2000 / 4000.
"""

import statistics
import time

import numpy as np

from ntklab.core import MLPSpec, analytic_kernels

NT_SECONDS = {500: 0.018, 1000: 0.078, 2000: 0.34, 4000: 1.50}


def run() -> list[str]:
    spec = MLPSpec(depth=3, width=512, activation="relu", w_std=2**0.5, b_std=0.1)
    rows = ["| N | ntklab median (s) | nt 0.6.5 (s) | target ≤ (s) | met |", "|---|---|---|---|---|"]
    for n, nt in NT_SECONDS.items():
        x = np.random.default_rng(0).normal(size=(n, 10)).astype(np.float32)
        analytic_kernels(spec, x)  # warm-up (compile)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            analytic_kernels(spec, x)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        rows.append(f"| {n} | {med:.4f} | {nt} | {nt / 2:.3f} | {'yes' if med <= nt / 2 else 'NO'} |")
    return rows


if __name__ == "__main__":
    print("\n".join(run()))

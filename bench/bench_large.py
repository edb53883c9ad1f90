"""N = 20,000 points, float32, depth-3 ReLU, d = 10: both kernels in tiles, with progress and peak memory.

Target (issue 3): fits in 4 GB. The two 20,000² float32 outputs alone are 3.2 GB (1.6 GB each).
"""

import resource
import sys
import time

import numpy as np

from ntklab.core import MLPSpec, analytic_kernels


def run(n: int = 20_000) -> list[str]:
    x = np.random.default_rng(0).normal(size=(n, 10)).astype(np.float32)
    spec = MLPSpec(depth=3, width=512, activation="relu", w_std=2**0.5, b_std=0.1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    last = [0.0]

    def progress(done, total):
        now = time.perf_counter()
        if now - last[0] > 2 or done == total:
            print(f"  tiles {done}/{total}", file=sys.stderr)
            last[0] = now

    t = time.perf_counter()
    k = analytic_kernels(spec, x, progress=progress)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    assert np.isfinite(k.ntk[::997, ::991]).all()
    return [
        "| N | time (s) | peak RSS (GiB) | RSS before (GiB) | outputs (GiB) | fits in 4 GB |",
        "|---|---|---|---|---|---|",
        f"| {n} | {seconds:.1f} | {peak:.2f} | {before:.2f} | {2 * k.ntk.nbytes / 2**30:.2f} | "
        f"{'yes' if peak <= 4 * 1e9 / 2**30 else 'NO'} |",
    ]


if __name__ == "__main__":
    print("\n".join(run()))

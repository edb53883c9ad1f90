"""Runs every benchmark and prints their tables (copy them into bench/RESULTS.md with the date)."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app sets it (ntklab/cli.py), before NumPy loads

import bench_kernels  # noqa: E402
import bench_large  # noqa: E402
import bench_spectra  # noqa: E402
import bench_sweep  # noqa: E402
import bench_training  # noqa: E402

for name, module in (("Analytic kernels", bench_kernels), ("N = 20,000", bench_large),
                     ("Training in the window", bench_training), ("Spectra at n = 1000", bench_spectra),
                     ("Sweeps: seeds batched with vmap", bench_sweep)):
    print(f"## {name}\n")
    print("\n".join(module.run()))
    print()

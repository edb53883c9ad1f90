"""Runs every benchmark and prints their tables (copy them into bench/RESULTS.md with the date)."""

import bench_kernels
import bench_large
import bench_training

for name, module in (("Analytic kernels", bench_kernels), ("N = 20,000", bench_large),
                     ("Training in the window", bench_training)):
    print(f"## {name}\n")
    print("\n".join(module.run()))
    print()

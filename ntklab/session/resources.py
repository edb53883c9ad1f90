"""What a run will cost before anything runs: memory (parameters, kernels, evaluations, snapshots)
and time, against what this machine can hold.

XLA aborts the whole process (SIGABRT) on an allocation it cannot make, so a spec above this
machine's memory is refused with a message naming the setting that costs most, before any array is
made; above a comfort threshold the caller gets a warning with the estimate and may go on.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ntklab.session.spec import ExperimentSpec, SpecError

# Documented maxima of the integer settings (the memory check below usually binds first).
MAX_WIDTH = 65_536
MAX_DEPTH = 64
MAX_TRAIN = 100_000
MAX_TEST = 1_000_000
MEMORY_SHARE = 0.7  # refuse above this share of physical memory
COMFORT_SHARE = 0.25  # warn above this share
COMFORT_SECONDS = 600.0  # warn when a run is estimated to take longer
# Time = SETUP_SECONDS + flops / FLOPS, calibrated on this project's 2-core machine by bench/bench_resources.py
# (bench/RESULTS.md): the training loops sustained 0.8–1.8e11 flop/s (median 1.55e11), set-up (compiles,
# kernels at init) took 2.2–3.5 s; 1e11 keeps the estimate at 0.95–1.5× the measured runs (on the safe side).
FLOPS = 1e11
SETUP_SECONDS = 3.0
RECORD_ARRAYS, RECORD_KERNELS = 512, 64  # RunRecord's bounds (session/record.py)


def physical_memory() -> int:
    """Bytes of physical memory (POSIX sysconf; 8 GiB assumed where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 8 << 30


@dataclass(frozen=True)
class ResourceEstimate:
    """Bytes by part (``parts``: name → (bytes, the setting that drives it)) and seconds for the run."""

    parts: dict[str, tuple[float, str]]
    seconds: float
    params: int

    @property
    def memory(self) -> float:
        return sum(b for b, _ in self.parts.values())

    @property
    def largest(self) -> tuple[str, float, str]:
        name, (size, field) = max(self.parts.items(), key=lambda item: item[1][0])
        return name, size, field


def _param_count(spec: ExperimentSpec, d: int) -> int:
    m = spec.model
    w, depth = m.width, m.depth
    if getattr(m, "architecture", "mlp") == "resnet":
        return d * w + w + depth * (w * w + w) + w + 1
    if depth == 0:
        return d + 1
    return d * w + w + (depth - 1) * (w * w + w) + w + 1


def _input_dim(spec: ExperimentSpec) -> int:
    return int(getattr(spec.data, "dim", 0) or {"plane": 2, "circle": 2, "sphere": 3, "digits": 64}.get(
        getattr(spec.data, "source", "preset"), 1))


def estimate(spec: ExperimentSpec) -> ResourceEstimate:
    """Memory and time of running ``spec`` here (an upper-bound style estimate, within ~2×)."""
    m, data, tr = spec.model, spec.data, spec.train
    b = 8 if tr.precision == "float64" else 4
    d = _input_dim(spec)
    n, n_test = data.n_train, data.n_test
    n_grid = int(getattr(data, "n_grid", 200) or 200)
    if getattr(data, "source", "preset") == "plane":
        n_grid = n_grid * n_grid if n_grid < 512 else n_grid
    n_all = n + n_test + n_grid
    w, layers = m.width, max(m.depth, 1) + (1 if getattr(m, "architecture", "mlp") == "resnet" else 0)
    p = _param_count(spec, d)
    lin_param = tr.linearization == "parameter"
    parts = {
        "parameters and gradients": (b * p * (7 if lin_param else 4), "model.width"),
        "training activations": (b * 4 * n * w * layers, "data.n_train"),
        "evaluation on train, test and grid points": (b * 3 * n_all * w * layers, "data.n_test"),
        "empirical NTK at init and during training": (b * layers * (4 * n * w + 2 * n * n) + 8 * 6 * n * n,
                                                        "data.n_train"),
        "Θ̂₀ between evaluated and training points": (0 if lin_param else b * layers * (n_all * n + 2 * n_all * w),
                                                      "data.n_test"),
        "analytic kernels": (0 if not spec.infinite.enabled else b * 12 * min(n_all, 4096) * max(n, 1)
                             + 8 * 3 * n_all * n, "data.n_train"),
        "kept snapshots": (8 * min(tr.snapshots + 1, RECORD_ARRAYS) * (3 * n_grid + n)
                           + 8 * min(tr.snapshots + 1, RECORD_KERNELS) * (n + 2 * min(n, 256) ** 2)
                           + 8 * 40 * (tr.snapshots + 1), "train.snapshots"),
    }
    step_flops = 6.0 * p * n * (2 if lin_param else 1) + (2.0 * n * n if not lin_param else 0.0)
    eval_flops = 2.0 * p * n_all * (2 if lin_param else 1)
    kernel_updates = math.ceil(min(tr.snapshots, tr.steps) / tr.kernel_every) + 1
    kernel_flops = 2.0 * layers * n * n * w + 6.0 * p * n + 10.0 * n ** 3 * spec.spectra.enabled
    seconds = SETUP_SECONDS + (tr.steps * step_flops + min(tr.snapshots, tr.steps) * eval_flops
                               + kernel_updates * kernel_flops) / FLOPS
    return ResourceEstimate(parts=parts, seconds=seconds, params=p)


def _gib(x: float) -> str:
    return f"{x / 2**30:.1f} GiB" if x >= 2**28 else f"{x / 2**20:.0f} MiB"


def check_limits(spec: ExperimentSpec) -> None:
    """Raises :class:`SpecError` for sizes above the documented maxima."""
    m, data = spec.model, spec.data
    for name, value, top in (("model.width", m.width, MAX_WIDTH), ("model.depth", m.depth, MAX_DEPTH),
                             ("data.n_train", data.n_train, MAX_TRAIN), ("data.n_test", data.n_test, MAX_TEST)):
        if value > top:
            raise SpecError(f"{name}: {value:,} is above the maximum {top:,}; use a smaller value.")


def check_resources(spec: ExperimentSpec, memory: int | None = None) -> list[str]:
    """Refuses (SpecError naming the costliest setting) a spec this machine cannot hold; returns the
    warnings (empty, or one line with the estimate) for one that it can hold but that is large or long."""
    check_limits(spec)
    est = estimate(spec)
    total = physical_memory() if memory is None else memory
    name, size, field = est.largest
    if est.memory > MEMORY_SHARE * total:
        raise SpecError(f"{field}: this run would need about {_gib(est.memory)} of memory (most of it for "
                        f"{name}: {_gib(size)}), more than this machine can give ({_gib(MEMORY_SHARE * total)} "
                        f"of {_gib(total)}); lower {field}.")
    warnings = []
    if est.memory > COMFORT_SHARE * total:
        warnings.append(f"This run needs about {_gib(est.memory)} of memory ({name}: {_gib(size)}); "
                        f"other programs may slow down.")
    if est.seconds > COMFORT_SECONDS:
        warnings.append(f"This run may take about {est.seconds / 60:.0f} minutes here "
                        f"({est.params:,} parameters, {spec.train.steps:,} steps).")
    return warnings

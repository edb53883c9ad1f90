"""A run's snapshots in bounded memory: every snapshot's scalars, a thinned set of the arrays.

Memory does not grow with steps or snapshots past a fixed bound: the scalar fields (and the short
per-layer vectors ``feature_change``/``weight_change``) of every snapshot are kept, the arrays
(predictions on the grid, residuals per mode) of at most ``max_arrays`` snapshots, and the kernel
spectra (eigenvalues and two ≤ 256 × 256 images) of at most ``max_kernels`` kernel updates. When a
set is full, every other entry is dropped and from then on only every other new one is kept
(first and last always kept), so the kept ones stay evenly spread over the run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields, replace

import numpy as np

from ntklab.session.experiment import Snapshot
from ntklab.session.measures import KernelSpectra

MAX_ARRAYS = 512
MAX_KERNELS = 64
RUN_FIELDS = ("data", "infinite", "eta_crit", "backend", "run_spectra", "precision", "steps_total")
ARRAY_FIELDS = ("f_grid_net", "f_grid_lin", "f_grid_ntk", "mode_residual")
VECTOR_FIELDS = ("feature_change", "weight_change")  # short per-layer vectors, kept for every snapshot
SCALAR_FIELDS = tuple(f.name for f in fields(Snapshot)
                      if f.name not in RUN_FIELDS + ARRAY_FIELDS + VECTOR_FIELDS + ("spectra", "notes"))


class _Thinned:
    """Items appended in order; at most ``capacity`` kept, evenly spread, the latest always kept."""

    def __init__(self, capacity: int):
        self.capacity, self.stride, self.count = capacity, 1, 0
        self.items: list[tuple[int, object]] = []  # (append index, item)
        self.latest: tuple[int, object] | None = None

    def append(self, item) -> None:
        index, self.count = self.count, self.count + 1
        self.latest = (index, item)
        if index % self.stride:
            return
        self.items.append((index, item))
        if len(self.items) > self.capacity:
            self.stride *= 2
            self.items = [(i, x) for i, x in self.items if i % self.stride == 0]

    def kept(self) -> list:
        out = list(self.items)
        if self.latest is not None and (not out or out[-1][0] != self.latest[0]):
            out.append(self.latest)
        return [x for _, x in out]


@dataclass(frozen=True)
class KernelUpdate:
    """The kernel spectra of one kernel update, with its step."""

    step: int
    spectra: KernelSpectra


class RunRecord:
    """Appended to by the run's consumer (thread-safe); read by plots, exports and the CLI.

    ``snapshots``: the kept snapshots (arrays present, ``spectra`` removed; see ``kernels``);
    ``scalars[name]``: a 1-D array over every snapshot; ``vectors[name]``: (snapshots, layers);
    ``kernels``: the kept :class:`KernelUpdate` s; ``first``/``last``: the first and latest snapshots
    whole. Bound: about max_arrays·(3G + n) + max_kernels·(n + 2·256²) floats besides the scalars
    (G grid points, n training points).
    """

    def __init__(self, max_arrays: int = MAX_ARRAYS, max_kernels: int = MAX_KERNELS):
        self._lock = threading.Lock()
        self._arrays = _Thinned(max_arrays)
        self._kernels = _Thinned(max_kernels)
        self._scalars: dict[str, list] = {name: [] for name in SCALAR_FIELDS}
        self._vectors: dict[str, list] = {name: [] for name in VECTOR_FIELDS}
        self.first: Snapshot | None = None
        self.last: Snapshot | None = None

    def __getstate__(self) -> dict:  # picklable (a sweep's worker processes send records back)
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._arrays.count

    def append(self, snap: Snapshot) -> None:
        with self._lock:
            if self.first is None:
                self.first = snap
            self.last = snap
            for name, values in self._scalars.items():
                values.append(getattr(snap, name))
            for name, values in self._vectors.items():
                values.append(np.asarray(getattr(snap, name), np.float64))
            self._arrays.append(replace(snap, spectra=None))
            if snap.spectra is not None:
                self._kernels.append(KernelUpdate(snap.step, snap.spectra))

    def clear(self) -> None:
        self.__init__(self._arrays.capacity, self._kernels.capacity)

    @property
    def snapshots(self) -> list[Snapshot]:
        with self._lock:
            return self._arrays.kept()

    @property
    def kernels(self) -> list[KernelUpdate]:
        with self._lock:
            return self._kernels.kept()

    @property
    def scalars(self) -> dict[str, np.ndarray]:
        with self._lock:
            return {name: np.asarray(values) if values and isinstance(values[0], int) else np.asarray(values, np.float64)
                    for name, values in self._scalars.items()}

    @property
    def vectors(self) -> dict[str, np.ndarray]:
        with self._lock:
            out = {}
            for name, values in self._vectors.items():
                width = max((len(v) for v in values), default=0)
                stacked = np.full((len(values), width), np.nan)
                for i, v in enumerate(values):
                    stacked[i, : len(v)] = v
                out[name] = stacked
            return out

    @property
    def notes(self) -> tuple[str, ...]:
        return () if self.last is None else self.last.notes

"""Immutable experiment specs and their TOML form; bad input raises a message naming the field."""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from ntklab.core.data import PRESETS
from ntklab.core.network import MLPSpec


class SpecError(ValueError):
    """An experiment spec or file that cannot be used; the message names the field and the fix."""


def _check(ok: bool, name: str, value: Any, fix: str) -> None:
    if not ok:
        raise SpecError(f"{name}: {value!r} is not valid; {fix}.")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class DataSpec:
    """1-D regression: ``preset`` target on [x_min, x_max], ``n_train`` noisy points, ``n_test`` clean ones."""

    preset: str = "sin"
    n_train: int = 16
    n_test: int = 200
    noise: float = 0.0
    seed: int = 0
    x_min: float = -2.0
    x_max: float = 2.0

    def __post_init__(self):
        _check(self.preset in PRESETS, "data.preset", self.preset, f"choose one of {', '.join(PRESETS)}")
        _check(_is_int(self.n_train) and self.n_train >= 1, "data.n_train", self.n_train, "use an integer ≥ 1")
        _check(_is_int(self.n_test) and self.n_test >= 1, "data.n_test", self.n_test, "use an integer ≥ 1")
        _check(_is_real(self.noise) and self.noise >= 0, "data.noise", self.noise, "use a number ≥ 0")
        _check(_is_int(self.seed) and self.seed >= 0, "data.seed", self.seed, "use an integer ≥ 0")
        _check(_is_real(self.x_min), "data.x_min", self.x_min, "use a finite number")
        _check(_is_real(self.x_max) and self.x_max > self.x_min, "data.x_max", self.x_max, "use a number above data.x_min")


@dataclass(frozen=True)
class TrainSpec:
    """Full-batch gradient descent: ``steps`` steps of size ``learning_rate`` from the init of ``seed``.

    ``snapshots``: how many snapshots the run yields (besides step 0); ``kernel_every``: the empirical
    NTK on the training set, its change and its spectra are recomputed every that many snapshots
    (and at the last one); the default 4 of 200 snapshots is every 2% of the run.
    """

    learning_rate: float = 0.1
    steps: int = 2000
    seed: int = 0
    snapshots: int = 200
    kernel_every: int = 4

    def __post_init__(self):
        _check(_is_real(self.learning_rate) and self.learning_rate > 0, "train.learning_rate",
               self.learning_rate, "use a number > 0")
        _check(_is_int(self.steps) and self.steps >= 1, "train.steps", self.steps, "use an integer ≥ 1")
        _check(_is_int(self.seed) and self.seed >= 0, "train.seed", self.seed, "use an integer ≥ 0")
        _check(_is_int(self.snapshots) and self.snapshots >= 1, "train.snapshots", self.snapshots, "use an integer ≥ 1")
        _check(_is_int(self.kernel_every) and self.kernel_every >= 1, "train.kernel_every",
               self.kernel_every, "use an integer ≥ 1")


@dataclass(frozen=True)
class InfiniteSpec:
    """Infinite-width answers: the NTK gradient-flow prediction and the NNGP posterior.

    ``nngp_diag_reg``: relative diagonal regularizer (noise) of the NNGP posterior, × tr(K)/n.
    """

    enabled: bool = True
    nngp_diag_reg: float = 1e-4

    def __post_init__(self):
        _check(isinstance(self.enabled, bool), "infinite.enabled", self.enabled, "use true or false")
        _check(_is_real(self.nngp_diag_reg) and self.nngp_diag_reg >= 0, "infinite.nngp_diag_reg",
               self.nngp_diag_reg, "use a number ≥ 0")


@dataclass(frozen=True)
class SpectraSpec:
    """The spectral views: eigendecompositions of the training-set kernels at the kernel cadence.

    ``eigenfunctions``: how many top eigenfunctions of the analytic NTK to draw over the input
    interval (Nyström extension of the training-set eigenvectors).
    """

    enabled: bool = True
    eigenfunctions: int = 4

    def __post_init__(self):
        _check(isinstance(self.enabled, bool), "spectra.enabled", self.enabled, "use true or false")
        _check(_is_int(self.eigenfunctions) and 1 <= self.eigenfunctions <= 16, "spectra.eigenfunctions",
               self.eigenfunctions, "use an integer from 1 to 16")


@dataclass(frozen=True)
class ExperimentSpec:
    """Everything a run needs; a run never changes it (stop, build a new spec, restart)."""

    model: MLPSpec = field(default_factory=MLPSpec)
    data: DataSpec = field(default_factory=DataSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    infinite: InfiniteSpec = field(default_factory=InfiniteSpec)
    spectra: SpectraSpec = field(default_factory=SpectraSpec)

    def with_changes(self, **sections: dict[str, Any]) -> "ExperimentSpec":
        """A copy with some fields of some sections replaced: ``spec.with_changes(model={"width": 64})``."""
        return spec_from_dict(_merge(spec_to_dict(self), sections))


_SECTIONS = {"model": MLPSpec, "data": DataSpec, "train": TrainSpec, "infinite": InfiniteSpec,
             "spectra": SpectraSpec}


def _merge(base: dict, changes: dict) -> dict:
    out = {k: dict(v) for k, v in base.items()}
    for section, values in changes.items():
        if section not in out:
            raise SpecError(f"{section!r}: unknown section; use one of {', '.join(_SECTIONS)}.")
        out[section].update(values)
    return out


def spec_to_dict(spec: ExperimentSpec) -> dict[str, dict[str, Any]]:
    out = {name: asdict(getattr(spec, name)) for name in _SECTIONS}
    out["model"]["activation_params"] = dict(spec.model.activation_params)
    return out


def spec_from_dict(data: dict[str, Any]) -> ExperimentSpec:
    """Builds a spec from nested dicts; unknown sections or keys raise a :class:`SpecError`."""
    if not isinstance(data, dict):
        raise SpecError(f"experiment: expected a table of sections ({', '.join(_SECTIONS)}).")
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise SpecError(f"{sorted(unknown)}: unknown section(s); use {', '.join(_SECTIONS)}.")
    parts = {}
    for name, cls in _SECTIONS.items():
        values = data.get(name, {})
        if not isinstance(values, dict):
            raise SpecError(f"[{name}]: expected a table of settings, got {values!r}.")
        valid = {f.name for f in fields(cls)}
        bad = set(values) - valid
        if bad:
            raise SpecError(
                f"{name}.{sorted(bad)[0]}: unknown setting; valid settings of [{name}] are {', '.join(sorted(valid))}."
            )
        try:
            parts[name] = cls(**values)
        except SpecError:
            raise
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{name}.{exc}") from None
    return ExperimentSpec(**parts)


def load_spec(path: str | Path) -> ExperimentSpec:
    """Reads a TOML experiment file; a missing file, bad TOML or bad value gives a clear SpecError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such experiment file; check the path.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc}); fix the file's syntax.") from None
    try:
        return spec_from_dict(data)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def dump_spec(spec: ExperimentSpec) -> str:
    return tomli_w.dumps(spec_to_dict(spec))


def save_spec(spec: ExperimentSpec, path: str | Path) -> None:
    Path(path).write_text(dump_spec(spec), encoding="utf-8")


__all__ = [
    "DataSpec", "ExperimentSpec", "InfiniteSpec", "MLPSpec", "SpecError", "SpectraSpec", "TrainSpec", "dump_spec",
    "load_spec", "replace", "save_spec", "spec_from_dict", "spec_to_dict",
]

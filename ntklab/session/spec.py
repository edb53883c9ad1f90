"""Immutable experiment specs and their TOML form; bad input raises a message naming the field."""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import tomllib
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from ntklab.core.data import LABEL_KINDS, PLANE_PRESETS, PRESETS
from ntklab.core.expression import MAX_DIM, MAX_LENGTH, ExpressionError, parse_expression
from ntklab.core.network import TRAINABLE, MLPSpec
from ntklab.core.training import LINEARIZATIONS


class SpecError(ValueError):
    """An experiment spec or file that cannot be used; the message names the field and the fix."""


MAX_FILE_BYTES = 1 << 20  # experiment files are a few hundred bytes; refuse anything over 1 MB


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: a message never echoes a huge value back."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 12]}… ({len(text):,} chars)"


def _check(ok: bool, name: str, value: Any, fix: str) -> None:
    if not ok:
        raise SpecError(f"{name}: {short(value)} is not valid; {fix}.")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


SOURCES = ("preset", "plane", "circle", "sphere", "expression", "csv", "digits")
MAX_GRID = 100_000
MAX_FREQUENCY = 1000
MAX_DEGREE = 100


def _is_column(v) -> bool:
    return isinstance(v, str) or (_is_int(v) and v >= 0)


def _tuple_of(spec, name: str, ok, fix: str) -> None:
    """A list setting stored as a tuple (hashable specs); every item must pass ``ok``."""
    value = getattr(spec, name)
    _check(isinstance(value, (list, tuple)) and all(ok(v) for v in value), f"data.{name}", value, fix)
    object.__setattr__(spec, name, tuple(value))


@dataclass(frozen=True)
class DataSpec:
    """The run's data: ``source`` and its settings, flat in ``[data]`` (README, "Data").

    preset: today's 1-D targets on [x_min, x_max]; plane: ``plane_target`` on [x_min, x_max]²;
    circle: Σ amplitudes·cos(kθ) + sin_amplitudes·sin(kθ) over ``frequencies``; sphere: the zonal
    harmonic of ``degree``; expression: ``expression`` of x1 … x_``dim`` on [x_min, x_max]^dim; csv:
    ``csv_path``'s ``input_columns`` → ``target_column`` (by header name or 0-based index; empty:
    every other column / the last one), ``standardize``d, refused unless its SHA-256 is
    ``csv_sha256`` when that is set; digits: ``digits_positive`` (+1) vs ``digits_negative`` (−1).
    ``random_labels`` replaces the training targets by ``label_kind`` labels ('sign': ±1,
    'gaussian') from ``seed``. ``n_grid``: how many points the plots evaluate (line and circle:
    n_grid; plane: ⌊√n_grid⌋ per side). Settings of another source are type-checked and ignored.
    """

    source: str = "preset"
    preset: str = "sin"
    n_train: int = 16
    n_test: int = 200
    noise: float = 0.0
    seed: int = 0
    x_min: float = -2.0
    x_max: float = 2.0
    n_grid: int = 200
    random_labels: bool = False
    label_kind: str = "sign"
    plane_target: str = "bump"
    frequencies: tuple = (1, 3)
    amplitudes: tuple = (1.0, 0.5)
    sin_amplitudes: tuple = ()
    degree: int = 2
    expression: str = "sin(2*x)"
    dim: int = 1
    csv_path: str = ""
    input_columns: tuple = ()
    target_column: str | int = ""
    standardize: bool = True
    csv_sha256: str = ""
    digits_positive: tuple = (5, 6, 7, 8, 9)
    digits_negative: tuple = (0, 1, 2, 3, 4)

    def __post_init__(self):
        _check(self.source in SOURCES, "data.source", self.source, f"choose one of {', '.join(SOURCES)}")
        _check(self.preset in PRESETS, "data.preset", self.preset, f"choose one of {', '.join(PRESETS)}")
        _check(_is_int(self.n_train) and self.n_train >= 1, "data.n_train", self.n_train, "use an integer ≥ 1")
        _check(_is_int(self.n_test) and self.n_test >= 1, "data.n_test", self.n_test, "use an integer ≥ 1")
        _check(_is_real(self.noise) and self.noise >= 0, "data.noise", self.noise, "use a number ≥ 0")
        _check(_is_int(self.seed) and self.seed >= 0, "data.seed", self.seed, "use an integer ≥ 0")
        _check(_is_real(self.x_min), "data.x_min", self.x_min, "use a finite number")
        _check(_is_real(self.x_max) and self.x_max > self.x_min, "data.x_max", self.x_max, "use a number above data.x_min")
        _check(_is_int(self.n_grid) and 2 <= self.n_grid <= MAX_GRID, "data.n_grid", self.n_grid,
               f"use an integer from 2 to {MAX_GRID} (the plane uses ⌊√n_grid⌋ points per side)")
        _check(isinstance(self.random_labels, bool), "data.random_labels", self.random_labels, "use true or false")
        _check(self.label_kind in LABEL_KINDS, "data.label_kind", self.label_kind,
               f"choose one of {', '.join(LABEL_KINDS)}")
        _check(self.plane_target in PLANE_PRESETS, "data.plane_target", self.plane_target,
               f"choose one of {', '.join(PLANE_PRESETS)}")
        _tuple_of(self, "frequencies", lambda k: _is_int(k) and 0 <= k <= MAX_FREQUENCY,
                  f"use a list of integers from 0 to {MAX_FREQUENCY}, e.g. [1, 3]")
        _tuple_of(self, "amplitudes", _is_real, "use a list of finite numbers, one per frequency, e.g. [1.0, 0.5]")
        _tuple_of(self, "sin_amplitudes", _is_real, "use a list of finite numbers, one per frequency, or []")
        _check(_is_int(self.degree) and 0 <= self.degree <= MAX_DEGREE, "data.degree", self.degree,
               f"use an integer from 0 to {MAX_DEGREE}")
        _check(isinstance(self.expression, str), "data.expression", self.expression,
               "write the target as text, e.g. 'sin(2*x)'")
        if len(self.expression) > MAX_LENGTH:
            raise SpecError(f"data.expression: {len(self.expression)} characters is too long; "
                            f"keep it to {MAX_LENGTH}.")
        _check(_is_int(self.dim) and 1 <= self.dim <= MAX_DIM, "data.dim", self.dim, f"use an integer from 1 to {MAX_DIM}")
        _check(isinstance(self.csv_path, str), "data.csv_path", self.csv_path, "give the path of a CSV file as text")
        _tuple_of(self, "input_columns", _is_column,
                  "use a list of column names (text) or 0-based indices, or [] for every column but the target")
        _check(_is_column(self.target_column), "data.target_column", self.target_column,
               "use a column name (text), a 0-based index, or '' for the last column")
        _check(isinstance(self.standardize, bool), "data.standardize", self.standardize, "use true or false")
        _check(isinstance(self.csv_sha256, str) and (self.csv_sha256 == "" or re.fullmatch(r"[0-9a-fA-F]{64}", self.csv_sha256)),
               "data.csv_sha256", self.csv_sha256, "use the file's SHA-256 as 64 hexadecimal digits, or '' not to check it")
        for name in ("digits_positive", "digits_negative"):
            _tuple_of(self, name, lambda v: _is_int(v) and 0 <= v <= 9, "use a list of digits from 0 to 9, e.g. [5, 6, 7, 8, 9]")
        self._check_source()

    def _check_source(self) -> None:
        """The checks that tie settings together, for the chosen source only."""
        if self.source == "circle":
            _check(len(self.frequencies) >= 1 and len(set(self.frequencies)) == len(self.frequencies),
                   "data.frequencies", list(self.frequencies), "give at least one frequency, each once, e.g. [1, 3]")
            _check(len(self.amplitudes) == len(self.frequencies), "data.amplitudes", list(self.amplitudes),
                   f"give one amplitude per frequency ({len(self.frequencies)})")
            _check(len(self.sin_amplitudes) in (0, len(self.frequencies)), "data.sin_amplitudes",
                   list(self.sin_amplitudes), f"give one per frequency ({len(self.frequencies)}) or []")
        elif self.source == "expression":
            try:
                parse_expression(self.expression, self.dim)
            except ExpressionError as exc:
                raise SpecError(f"data.{exc}") from None
        elif self.source == "csv":
            _check(self.csv_path.strip() != "", "data.csv_path", self.csv_path,
                   "give the path of a CSV file (data.source = 'csv')")
            columns = list(self.input_columns)
            _check(len(set(columns)) == len(columns), "data.input_columns", columns, "name each column once")
            _check(self.target_column == "" or self.target_column not in columns, "data.target_column",
                   self.target_column, "use a column that is not among data.input_columns")
        elif self.source == "digits":
            pos, neg = self.digits_positive, self.digits_negative
            _check(len(pos) >= 1 and len(set(pos)) == len(pos), "data.digits_positive", list(pos),
                   "give at least one digit, each once")
            _check(len(neg) >= 1 and len(set(neg)) == len(neg) and not set(pos) & set(neg), "data.digits_negative",
                   list(neg), "give at least one digit, each once, none of them in data.digits_positive")


MAX_STEPS = 10**9
MAX_SNAPSHOTS = 100_000
MAX_SEED = 2**32 - 1
PRECISIONS = ("float32", "float64")


@dataclass(frozen=True)
class TrainSpec:
    """Full-batch gradient descent: ``steps`` steps of size ``learning_rate`` from the init of ``seed``.

    ``snapshots``: how many snapshots the run yields (besides step 0); ``kernel_every``: the empirical
    NTK on the training set, its change and its spectra are recomputed every that many snapshots
    (and at the last one); the default 4 of 200 snapshots is every 2% of the run. ``trainable``: which
    layers gradient descent moves (all, the readout only, the hidden layers only). ``precision``: the
    floating-point type of the whole run; the same seed gives the same initial network in both.
    ``linearization``: how the Taylor model is trained (function space: exact for gradient descent and
    O(n²) per step; parameter space: a JVP and its transpose per step).
    """

    learning_rate: float = 0.1
    steps: int = 2000
    seed: int = 0
    snapshots: int = 200
    kernel_every: int = 4
    trainable: str = "all"
    precision: str = "float32"
    linearization: str = "function"

    def __post_init__(self):
        _check(_is_real(self.learning_rate) and 0 < self.learning_rate <= 1e6, "train.learning_rate",
               self.learning_rate, "use a number > 0 (and at most 1e6)")
        _check(_is_int(self.steps) and 1 <= self.steps <= MAX_STEPS, "train.steps", self.steps,
               f"use an integer from 1 to {MAX_STEPS:,}")
        _check(_is_int(self.seed) and 0 <= self.seed <= MAX_SEED, "train.seed", self.seed,
               f"use an integer from 0 to {MAX_SEED} (2³² − 1)")
        _check(_is_int(self.snapshots) and 1 <= self.snapshots <= MAX_SNAPSHOTS, "train.snapshots",
               self.snapshots, f"use an integer from 1 to {MAX_SNAPSHOTS:,}")
        _check(_is_int(self.kernel_every) and 1 <= self.kernel_every <= MAX_SNAPSHOTS, "train.kernel_every",
               self.kernel_every, f"use an integer from 1 to {MAX_SNAPSHOTS:,}")
        _check(self.trainable in TRAINABLE, "train.trainable", self.trainable,
               f"use one of {', '.join(TRAINABLE)}")
        _check(self.precision in PRECISIONS, "train.precision", self.precision, "use float32 or float64")
        _check(self.linearization in LINEARIZATIONS, "train.linearization", self.linearization,
               f"use one of {', '.join(LINEARIZATIONS)}")


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


MAX_SWEEP_VALUES = 1000
MAX_SWEEP_SEEDS = 1000
MAX_SWEEP_POINTS = 100_000
SWEEP_SCALES = ("log", "linear")


@dataclass(frozen=True)
class SweepRange:
    """``count`` values from ``start`` to ``stop`` (both included), evenly spaced on a ``scale``
    ('log': geometric, 'linear': arithmetic); integer settings take them rounded, each once."""

    start: float
    stop: float
    count: int
    scale: str = "log"

    def __post_init__(self):
        _check(_is_real(self.start), "sweep.range.start", self.start, "use a finite number")
        _check(_is_real(self.stop), "sweep.range.stop", self.stop, "use a finite number")
        _check(_is_int(self.count) and 1 <= self.count <= MAX_SWEEP_VALUES, "sweep.range.count", self.count,
               f"use an integer from 1 to {MAX_SWEEP_VALUES}")
        _check(self.scale in SWEEP_SCALES, "sweep.range.scale", self.scale, "use 'log' or 'linear'")
        if self.scale == "log":
            _check(self.start > 0, "sweep.range.start", self.start, "use a number > 0 on a log scale "
                   "(or scale = 'linear')")
            _check(self.stop > 0, "sweep.range.stop", self.stop, "use a number > 0 on a log scale "
                   "(or scale = 'linear')")
        _check(self.count > 1 or self.start == self.stop, "sweep.range.count", self.count,
               "use count ≥ 2 to go from start to stop (or list the one value in sweep.values)")

    def points(self) -> list[float]:
        if self.count == 1:
            return [float(self.start)]
        if self.scale == "log":
            return [float(v) for v in np.geomspace(self.start, self.stop, self.count)]
        return [float(v) for v in np.linspace(self.start, self.stop, self.count)]


@dataclass(frozen=True)
class SweepSpec:
    """``[sweep]``: run the experiment at each value of one setting × init seeds (× data seeds).

    ``field``: a setting's dotted name (``model.width``, ``train.learning_rate``, …), numeric or a
    choice; ``values`` lists its values, or ``range`` spaces them (numeric settings). ``seeds``: init
    seeds 0 … seeds − 1 (``train.seed``); ``data_seeds``: when set, data seeds 0 … data_seeds − 1
    (``data.seed``), else the experiment's one. Checked against the experiment by :func:`sweep_values`.
    """

    field: str
    values: tuple = ()
    range: SweepRange | None = None
    seeds: int = 1
    data_seeds: int | None = None

    def __post_init__(self):
        _check(isinstance(self.field, str) and re.fullmatch(r"[a-z_]+\.[a-z_0-9]+", self.field or ""),
               "sweep.field", self.field, "name one setting as section.key, e.g. 'model.width'")
        values = self.values
        _check(isinstance(values, (list, tuple)) and len(values) <= MAX_SWEEP_VALUES
               and all(isinstance(v, (bool, int, float, str)) for v in values), "sweep.values", values,
               f"use a list of up to {MAX_SWEEP_VALUES} numbers or texts, e.g. [64, 256, 1024]")
        object.__setattr__(self, "values", tuple(values))
        rng = self.range
        if isinstance(rng, dict):
            unknown = sorted(set(map(str, rng)) - {"start", "stop", "count", "scale"})
            if unknown:
                raise SpecError(f"sweep.range.{short(unknown[0], 40)[1:-1]}: unknown key; use start, stop, count "
                                f"and scale ('log' or 'linear').")
            missing = [k for k in ("start", "stop", "count") if k not in rng]
            if missing:
                raise SpecError(f"sweep.range.{missing[0]}: missing; write range = {{start = 64, stop = 4096, "
                                f"count = 7, scale = \"log\"}}.")
            rng = SweepRange(**rng)
            object.__setattr__(self, "range", rng)
        _check(rng is None or isinstance(rng, SweepRange), "sweep.range", rng,
               "use a table {start = 64, stop = 4096, count = 7, scale = \"log\"}")
        if (rng is None) == (len(self.values) == 0):
            raise SpecError("sweep.values: give either values = [...] or range = {start, stop, count}, "
                            "not both and not neither.")
        _check(len(set(map(repr, self.values))) == len(self.values), "sweep.values", list(self.values),
               "list each value once")
        _check(_is_int(self.seeds) and 1 <= self.seeds <= MAX_SWEEP_SEEDS, "sweep.seeds", self.seeds,
               f"use an integer from 1 to {MAX_SWEEP_SEEDS} (init seeds 0 … seeds − 1)")
        _check(self.data_seeds is None or (_is_int(self.data_seeds) and 1 <= self.data_seeds <= MAX_SWEEP_SEEDS),
               "sweep.data_seeds", self.data_seeds,
               f"use an integer from 1 to {MAX_SWEEP_SEEDS} (data seeds 0 … data_seeds − 1), or leave it out")


@dataclass(frozen=True)
class ExperimentSpec:
    """Everything a run needs; a run never changes it (stop, build a new spec, restart).

    ``sweep``: None for one run; a :class:`SweepSpec` makes the file a sweep (``ntklab sweep``), whose
    points are this spec with the swept setting and the seeds changed (:func:`sweep_point_spec`).
    """

    model: MLPSpec = field(default_factory=MLPSpec)
    data: DataSpec = field(default_factory=DataSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    infinite: InfiniteSpec = field(default_factory=InfiniteSpec)
    spectra: SpectraSpec = field(default_factory=SpectraSpec)
    sweep: SweepSpec | None = None

    def with_changes(self, **sections: dict[str, Any]) -> "ExperimentSpec":
        """A copy with some fields of some sections replaced: ``spec.with_changes(model={"width": 64})``."""
        return spec_from_dict(_merge(spec_to_dict(self), sections))


_SECTIONS = {"model": MLPSpec, "data": DataSpec, "train": TrainSpec, "infinite": InfiniteSpec,
             "spectra": SpectraSpec}


def _merge(base: dict, changes: dict) -> dict:
    out = {k: dict(v) for k, v in base.items()}
    for section, values in changes.items():
        if section == "sweep":
            out.pop("sweep", None)
            if values is not None:
                out["sweep"] = dict(values)
            continue
        if section not in out:
            raise SpecError(f"{section!r}: unknown section; use one of {', '.join(_SECTIONS)}.")
        out[section].update(values)
    return out


def _sweep_to_dict(sweep: SweepSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"field": sweep.field}
    if sweep.range is not None:
        out["range"] = asdict(sweep.range)
    else:
        out["values"] = list(sweep.values)
    out["seeds"] = sweep.seeds
    if sweep.data_seeds is not None:
        out["data_seeds"] = sweep.data_seeds
    return out


def spec_to_dict(spec: ExperimentSpec) -> dict[str, dict[str, Any]]:
    """Nested dicts of the spec (TOML's shape); a ``sweep`` section only when the spec has one."""
    out = {name: asdict(getattr(spec, name)) for name in _SECTIONS}
    out["model"]["activation_params"] = dict(spec.model.activation_params)
    if spec.sweep is not None:
        out["sweep"] = _sweep_to_dict(spec.sweep)
    return out


# Ranges where the maths stays finite (beyond them kernels or data overflow); checked by name.
BOUNDS = {
    "model.w_std": (0.0, 100.0), "model.b_std": (0.0, 100.0), "model.output_scale": (1e-6, 1e6),
    "model.branch_scale": (0.0, 100.0), "data.x_min": (-1e6, 1e6), "data.x_max": (-1e6, 1e6),
    "data.noise": (0.0, 1e6), "data.seed": (0, MAX_SEED), "infinite.nngp_diag_reg": (0.0, 1e6),
}
TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a text in quotes",
              list: "a list [ … ]", tuple: "a list [ … ]", dict: "a table { … }"}


def _default(f):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def _check_types(section: str, cls, values: dict) -> None:
    """Each value has its setting's type (bool is not a number; an integer is a number)."""
    for f in fields(cls):
        if f.name not in values:
            continue
        value, default = values[f.name], _default(f)
        name = f"{section}.{f.name}"
        if default is None or isinstance(default, tuple) or "|" in str(f.type):
            continue  # optional, list-valued or several-typed settings check themselves
        kind = type(default)
        ok = (isinstance(value, bool) if kind is bool else
              isinstance(value, int) and not isinstance(value, bool) if kind is int else
              isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else
              isinstance(value, kind))
        if not ok:
            raise SpecError(f"{name}: {short(value)} is not valid; use {TYPE_NAMES.get(kind, kind.__name__)}.")
        if kind in (int, float) and name in BOUNDS:
            lo, hi = BOUNDS[name]
            if not (isinstance(value, int) or math.isfinite(value)) or not lo <= value <= hi:
                raise SpecError(f"{name}: {short(value)} is not valid; use a finite number from {lo:g} to {hi:g}.")


def _check_activation_params(values: dict) -> None:
    params = values.get("activation_params", {})
    if not isinstance(params, dict):
        raise SpecError(f"model.activation_params: {short(params)} is not valid; use a table like {{alpha = 0.1}}.")
    for key, value in params.items():
        ok = isinstance(value, bool) if key == "approximate" else (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and abs(value) <= 1e6)
        if not ok:
            want = "true or false" if key == "approximate" else "a finite number (|value| ≤ 1e6)"
            raise SpecError(f"model.activation_params.{key}: {short(value)} is not valid; use {want}.")


def spec_from_dict(data: dict[str, Any]) -> ExperimentSpec:
    """Builds a spec from nested dicts; unknown sections or keys raise a :class:`SpecError`."""
    if not isinstance(data, dict):
        raise SpecError(f"experiment: expected a table of sections ({', '.join(_SECTIONS)}).")
    unknown = set(data) - set(_SECTIONS) - {"sweep"}
    if unknown:
        raise SpecError(f"{short(sorted(unknown))}: unknown section(s); use {', '.join(_SECTIONS)} (and sweep).")
    parts = {}
    for name, cls in _SECTIONS.items():
        values = data.get(name, {})
        if not isinstance(values, dict):
            raise SpecError(f"[{name}]: expected a table of settings, got {short(values)}.")
        valid = {f.name for f in fields(cls)}
        bad = set(map(str, values)) - valid
        if bad:
            raise SpecError(
                f"{name}.{short(sorted(bad)[0], 40)[1:-1]}: unknown setting; valid settings of [{name}] are "
                f"{', '.join(sorted(valid))}."
            )
        _check_types(name, cls, values)
        if name == "model":
            _check_activation_params(values)
        try:
            parts[name] = cls(**values)
        except SpecError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            text = str(exc)
            raise SpecError(f"{name}.{text if len(text) < 400 else text[:200] + ' … ' + text[-160:]}") from None
    model = parts["model"]
    if model.w_std == 0 and model.b_std == 0:
        raise SpecError("model.w_std: with w_std = b_std = 0 the network is the constant 0 and its NTK is 0; "
                        "use w_std > 0.")
    spec = ExperimentSpec(**parts)
    if data.get("sweep") is not None:
        spec = replace(spec, sweep=_sweep_from_dict(data["sweep"]))
        sweep_values(spec)  # every value builds a valid spec
    return spec


def _sweep_from_dict(values: Any) -> SweepSpec:
    if not isinstance(values, dict):
        raise SpecError(f"[sweep]: expected a table of settings, got {short(values)}.")
    valid = {f.name for f in fields(SweepSpec)}
    bad = sorted(set(map(str, values)) - valid)
    if bad:
        raise SpecError(f"sweep.{short(bad[0], 40)[1:-1]}: unknown setting; valid settings of [sweep] are "
                        f"{', '.join(sorted(valid))}.")
    if "field" not in values:
        raise SpecError("sweep.field: missing; name the setting to sweep, e.g. field = \"model.width\".")
    try:
        return SweepSpec(**values)
    except SpecError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise SpecError(f"sweep: {short(str(exc), 300)[1:-1]}") from None


# --- sweeps: the points of a [sweep] ---------------------------------------------------------------


def _setting(section: str, key: str):
    """The dataclass field of ``section.key``, or None."""
    cls = _SECTIONS.get(section)
    return None if cls is None else next((f for f in fields(cls) if f.name == key), None)


def sweep_kind(spec: ExperimentSpec) -> type:
    """The type of the swept setting (int, float, str or bool), taken from the spec's default.

    Raises :class:`SpecError` naming ``sweep.field`` when it is not a numeric or choice setting."""
    sweep = spec.sweep
    if sweep is None:
        raise SpecError("sweep: this experiment has no [sweep] section; add one (see the README, Sweeps).")
    section, _, key = sweep.field.partition(".")
    f = _setting(section, key)
    if f is None:
        settings = [f"{name}.{g.name}" for name, cls in _SECTIONS.items() for g in fields(cls)]
        near = difflib.get_close_matches(sweep.field, settings, n=1)
        hint = f"did you mean {near[0]!r}?" if near else "use section.key of a setting, e.g. 'model.width'"
        raise SpecError(f"sweep.field: {sweep.field!r} is not a setting; {hint}")
    kind = type(_default(f))
    if kind not in (int, float, str, bool):
        raise SpecError(f"sweep.field: {sweep.field!r} is a list or table setting; sweep a numeric or choice "
                        f"setting (model.width, train.learning_rate, model.parameterization, …).")
    if sweep.field == "train.seed":
        raise SpecError("sweep.field: 'train.seed' is swept by sweep.seeds; sweep another setting.")
    if sweep.field == "data.seed" and sweep.data_seeds is not None:
        raise SpecError("sweep.field: 'data.seed' is swept by sweep.data_seeds; sweep another setting, or "
                        "leave data_seeds out.")
    return kind


def sweep_values(spec: ExperimentSpec) -> tuple:
    """The swept values, in order: ``sweep.values`` as given, or ``sweep.range`` spaced (rounded and
    each once for an integer setting). Every value is checked by building its point's spec."""
    kind = sweep_kind(spec)
    sweep = spec.sweep
    if sweep.range is not None:
        if kind not in (int, float):
            raise SpecError(f"sweep.range: {sweep.field!r} is a choice setting; list its values in "
                            f"sweep.values instead.")
        values = sweep.range.points()
        if kind is int:
            values = list(dict.fromkeys(int(round(v)) for v in values))
    else:
        values = [float(v) if kind is float and _is_int(v) else v for v in sweep.values]
    data_seeds = 1 if sweep.data_seeds is None else sweep.data_seeds
    total = len(values) * sweep.seeds * data_seeds
    if total > MAX_SWEEP_POINTS:
        raise SpecError(f"sweep.seeds: {len(values)} values × {sweep.seeds} seeds × {data_seeds} data seeds "
                        f"= {total:,} points is above the maximum {MAX_SWEEP_POINTS:,}; sweep fewer.")
    for i, value in enumerate(values):
        try:
            sweep_point_spec(spec, value)
        except SpecError as exc:
            where = f"sweep.range (value {value!r})" if sweep.range is not None else f"sweep.values[{i}]"
            raise SpecError(f"{where}: {exc}") from None
    return tuple(values)


def sweep_point_spec(spec: ExperimentSpec, value, seed: int | None = None,
                     data_seed: int | None = None) -> ExperimentSpec:
    """The spec of one point: the swept setting at ``value``, ``train.seed = seed`` and ``data.seed =
    data_seed`` where given; no [sweep] section."""
    section, _, key = spec.sweep.field.partition(".")
    changes: dict[str, dict[str, Any]] = {section: {key: value}, "sweep": None}
    if seed is not None:
        changes.setdefault("train", {})["seed"] = seed
    if data_seed is not None:
        changes.setdefault("data", {})["seed"] = data_seed
    return spec_from_dict(_merge(spec_to_dict(spec), changes))


def spec_hash(spec: ExperimentSpec) -> str:
    """SHA-256 of the spec's canonical TOML: the same spec, the same hash."""
    return hashlib.sha256(dump_spec(spec).encode("utf-8")).hexdigest()


def load_spec(path: str | Path) -> ExperimentSpec:
    """Reads a TOML experiment file; every problem (missing, not a file, too large, not UTF-8, bad TOML,
    nested too deep, a bad value, too large for this machine) gives a clear SpecError."""
    path = Path(path)
    try:
        if path.is_dir():
            raise SpecError(f"{path}: is a folder, not an experiment file; choose a .toml file.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"{path}: {size:,} bytes is too large for an experiment file (at most 1 MB); "
                            f"check that this is the right file.")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such experiment file; check the path.") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not a UTF-8 text file (byte {exc.start}); save it as UTF-8 TOML.") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({short(str(exc), 200)[1:-1]}); fix the file's syntax.") from None
    except RecursionError:
        raise SpecError(f"{path}: nested too deeply to be an experiment file; fix the file.") from None
    try:
        spec = spec_from_dict(data)
        from ntklab.session.resources import check_limits

        check_limits(spec)
        if spec.sweep is not None:
            for value in sweep_values(spec):
                try:
                    check_limits(sweep_point_spec(spec, value))
                except SpecError as exc:
                    raise SpecError(f"sweep (value {value!r}): {exc}") from None
        return spec
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    except RecursionError:
        raise SpecError(f"{path}: nested too deeply to be an experiment file; fix the file.") from None


def dump_spec(spec: ExperimentSpec) -> str:
    return tomli_w.dumps(spec_to_dict(spec))


def save_spec(spec: ExperimentSpec, path: str | Path) -> None:
    """Writes the spec as TOML, atomically (a temporary file renamed over ``path``)."""
    from ntklab.session.atomic import atomic_write_text

    atomic_write_text(path, dump_spec(spec))


__all__ = [
    "DataSpec", "ExperimentSpec", "InfiniteSpec", "MLPSpec", "SpecError", "SpectraSpec", "SweepRange", "SweepSpec",
    "TrainSpec", "dump_spec", "load_spec", "replace", "save_spec", "spec_from_dict", "spec_hash", "spec_to_dict",
    "sweep_kind", "sweep_point_spec", "sweep_values",
]

"""Data sets in d ≥ 1: targets, noisy training points, clean test points and what a viewer needs.

Sources: 1-D presets on [x_min, x_max]; 2-D presets on [x_min, x_max]²; the circle S¹ and the
sphere S² (radius √d, see :mod:`ntklab.core.spherical`); a typed expression of x1 … x_d; and
tables (the user's CSV, the digits) split and scaled here after the session has read them.
Everything is pure: arrays and settings in, a :class:`Dataset` out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ntklab.core.expression import Expression
from ntklab.core.spherical import circle_points, legendre, sphere_points

PRESETS = {
    "sin": lambda x: np.sin(2.0 * x),
    "step": lambda x: np.where(x >= 0.0, 1.0, -1.0),
    "polynomial": lambda x: 0.5 * x**3 - x,
    "multi_sine": lambda x: np.sin(x) + 0.5 * np.sin(4.0 * x) + 0.25 * np.sin(9.0 * x),
}
PRESET_FORMULAS = {
    "sin": "sin(2x)",
    "step": "sign(x)",
    "polynomial": "x³/2 − x",
    "multi_sine": "sin x + ½ sin 4x + ¼ sin 9x",
}

# 2-D targets of (x1, x2): a bump, a ridge along the diagonal, rings, and a ±1 checker.
PLANE_PRESETS = {
    "bump": lambda x1, x2: np.exp(-(x1**2 + x2**2)),
    "ridge": lambda x1, x2: np.exp(-0.5 * (x1 - x2) ** 2),
    "radial": lambda x1, x2: np.cos(2.0 * np.sqrt(x1**2 + x2**2)),
    "checker": lambda x1, x2: np.where(x1 * x2 >= 0.0, 1.0, -1.0),
}
PLANE_FORMULAS = {
    "bump": "exp(−x1² − x2²)",
    "ridge": "exp(−(x1 − x2)²/2)",
    "radial": "cos(2‖x‖)",
    "checker": "sign(x1·x2)",
}
PLANE_CLASSIFICATION = frozenset({"checker"})

VIEWS = ("line", "plane", "circle", "points")
LABEL_KINDS = ("sign", "gaussian")


@dataclass(frozen=True)
class Dataset:
    """Host arrays: x_* (n, d), y_* (n,). Test and grid targets are noiseless (the target itself).

    view: how a window draws it: 'line' (d = 1: f over ``grid_axis`` = x), 'plane' (d = 2: an image,
    ``x_grid`` is the row-major flattening of a ``grid_shape`` = (rows, cols) grid, rows along x2
    upwards, columns along x1), 'circle' (f over ``grid_axis`` = the angle θ in [0, 2π]) or 'points'
    (no natural grid: ``x_grid`` and ``y_grid`` are the test points, drawn as predicted vs true).
    classification: the training targets are ±1 labels; accuracy = sign agreement with y_test.
    description: one line for plot titles. source_settings: what an export records to rebuild
    the data (a CSV file's path and SHA-256 among them).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_grid: np.ndarray
    y_grid: np.ndarray
    view: str = "line"
    grid_shape: tuple[int, ...] = ()
    grid_axis: np.ndarray | None = None
    classification: bool = False
    description: str = ""
    source_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])


def sign_accuracy(f, y) -> float:
    """Fraction of points where sign(f) = sign(y) (0 counts as +1): the accuracy of ±1 labels."""
    f, y = np.asarray(f), np.asarray(y)
    return float(np.mean((f >= 0) == (y >= 0)))


def _col(x, dtype) -> np.ndarray:
    return np.asarray(x).reshape(len(x), -1).astype(dtype)


def _noise_word(noise: float, classification: bool) -> str:
    return "" if classification or noise == 0 else f", noise {noise:g}"


def make_dataset(
    preset: str,
    n_train: int,
    n_test: int,
    noise: float,
    seed: int,
    x_min: float,
    x_max: float,
    n_grid: int = 200,
    dtype=np.float32,
) -> Dataset:
    """Training inputs uniform in [x_min, x_max] (sorted), y = target + N(0, noise²)."""
    target = PRESETS[preset]
    rng = np.random.default_rng(seed)
    x_train = np.sort(rng.uniform(x_min, x_max, n_train))
    y_train = target(x_train) + noise * rng.standard_normal(n_train)
    x_test = rng.uniform(x_min, x_max, n_test)
    x_grid = np.linspace(x_min, x_max, n_grid)

    def col(x):
        return x.reshape(-1, 1).astype(dtype)

    return Dataset(
        x_train=col(x_train),
        y_train=y_train.astype(dtype),
        x_test=col(x_test),
        y_test=target(x_test).astype(dtype),
        x_grid=col(x_grid),
        y_grid=target(x_grid).astype(dtype),
        view="line",
        grid_axis=x_grid.astype(dtype),
        description=f"{PRESET_FORMULAS[preset]} on [{x_min:g}, {x_max:g}], {n_train} points"
                    f"{_noise_word(noise, False)}",
        source_settings={"source": "preset", "preset": preset},
    )


def plane_grid(x_min: float, x_max: float, n_grid: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The plane's grid: s = max(2, ⌊√n_grid⌋) points per side, s² in all, row-major with rows
    along x2 (upwards) and columns along x1. Returns ((s², 2) float64, (s, s))."""
    side = max(2, math.isqrt(n_grid))
    axis = np.linspace(x_min, x_max, side)
    x1, x2 = np.meshgrid(axis, axis)  # x1 varies along columns, x2 along rows
    return np.stack([x1.ravel(), x2.ravel()], axis=1), (side, side)


def make_plane_dataset(
    target: str,
    n_train: int,
    n_test: int,
    noise: float,
    seed: int,
    x_min: float,
    x_max: float,
    n_grid: int = 200,
    dtype=np.float32,
) -> Dataset:
    """A 2-D preset on [x_min, x_max]², inputs uniform; 'checker' gives ±1 labels (noise ignored)."""
    if target not in PLANE_PRESETS:
        raise ValueError(f"plane_target: {target!r} is not valid; choose one of {', '.join(PLANE_PRESETS)}.")
    fn = PLANE_PRESETS[target]
    classification = target in PLANE_CLASSIFICATION
    rng = np.random.default_rng(seed)
    x_train = rng.uniform(x_min, x_max, (n_train, 2))
    y_train = fn(x_train[:, 0], x_train[:, 1])
    if not classification:
        y_train = y_train + noise * rng.standard_normal(n_train)
    x_test = rng.uniform(x_min, x_max, (n_test, 2))
    x_grid, shape = plane_grid(x_min, x_max, n_grid)
    return Dataset(
        x_train=_col(x_train, dtype), y_train=y_train.astype(dtype),
        x_test=_col(x_test, dtype), y_test=fn(x_test[:, 0], x_test[:, 1]).astype(dtype),
        x_grid=_col(x_grid, dtype), y_grid=fn(x_grid[:, 0], x_grid[:, 1]).astype(dtype),
        view="plane", grid_shape=shape, classification=classification,
        description=f"{PLANE_FORMULAS[target]} on [{x_min:g}, {x_max:g}]², {n_train} points"
                    f"{_noise_word(noise, classification)}",
        source_settings={"source": "plane", "plane_target": target},
    )


def circle_target(theta, frequencies: Sequence[int], amplitudes: Sequence[float],
                  sin_amplitudes: Sequence[float] = ()) -> np.ndarray:
    """Σ_k a_k cos(kθ) + b_k sin(kθ) over the given frequencies k (b_k = 0 when not given)."""
    theta = np.asarray(theta, np.float64)
    b = list(sin_amplitudes) or [0.0] * len(frequencies)
    out = np.zeros_like(theta)
    for k, a_k, b_k in zip(frequencies, amplitudes, b):
        out = out + a_k * np.cos(k * theta) + b_k * np.sin(k * theta)
    return out


def _circle_formula(frequencies, amplitudes, sin_amplitudes) -> str:
    b = list(sin_amplitudes) or [0.0] * len(frequencies)
    terms = []
    for k, a_k, b_k in zip(frequencies, amplitudes, b):
        angle = "" if k == 0 else ("θ" if k == 1 else f"{k}θ")
        for coef, fn in ((a_k, "cos"), (b_k, "sin")):
            if coef == 0 or (k == 0 and fn == "sin"):
                continue
            term = f"{coef:g}" if k == 0 else (("" if coef == 1 else "−" if coef == -1 else f"{coef:g} ") + f"{fn} {angle}")
            terms.append(term)
    return " + ".join(terms).replace("+ −", "− ").replace("+ -", "− ") or "0"


def make_circle_dataset(
    frequencies: Sequence[int],
    amplitudes: Sequence[float],
    sin_amplitudes: Sequence[float],
    n_train: int,
    n_test: int,
    noise: float,
    seed: int,
    n_grid: int = 200,
    dtype=np.float32,
) -> Dataset:
    """Points √2(cos θ, sin θ), θ uniform in [0, 2π) (training angles sorted); the grid has n_grid
    angles from 0 to 2π, both ends included."""
    if len(amplitudes) != len(frequencies) or (sin_amplitudes and len(sin_amplitudes) != len(frequencies)):
        raise ValueError(
            f"amplitudes: {len(amplitudes)} amplitudes for {len(frequencies)} frequencies; give one per frequency "
            "(and sin_amplitudes empty or one per frequency)."
        )
    rng = np.random.default_rng(seed)
    theta_train = np.sort(rng.uniform(0.0, 2 * np.pi, n_train))
    y_train = circle_target(theta_train, frequencies, amplitudes, sin_amplitudes)
    y_train = y_train + noise * rng.standard_normal(n_train)
    theta_test = rng.uniform(0.0, 2 * np.pi, n_test)
    theta_grid = np.linspace(0.0, 2 * np.pi, n_grid)

    def target(theta):
        return circle_target(theta, frequencies, amplitudes, sin_amplitudes).astype(dtype)

    return Dataset(
        x_train=_col(circle_points(theta_train), dtype), y_train=y_train.astype(dtype),
        x_test=_col(circle_points(theta_test), dtype), y_test=target(theta_test),
        x_grid=_col(circle_points(theta_grid), dtype), y_grid=target(theta_grid),
        view="circle", grid_axis=theta_grid.astype(dtype),
        description=f"circle: {_circle_formula(frequencies, amplitudes, sin_amplitudes)}, {n_train} points"
                    f"{_noise_word(noise, False)}",
        source_settings={"source": "circle", "frequencies": list(frequencies), "amplitudes": list(amplitudes),
                         "sin_amplitudes": list(sin_amplitudes)},
    )


def make_sphere_dataset(
    degree: int,
    n_train: int,
    n_test: int,
    noise: float,
    seed: int,
    dtype=np.float32,
) -> Dataset:
    """Points uniform on the sphere of radius √3 in ℝ³; target the zonal harmonic P_ℓ(x₃/‖x‖)
    (degree ℓ, axis e₃, P_ℓ(1) = 1). No natural grid: view 'points' on the test points."""
    rng = np.random.default_rng(seed)
    x_train = sphere_points(n_train, rng)
    y_train = legendre(degree, x_train[:, 2] / np.sqrt(3.0)) + noise * rng.standard_normal(n_train)
    x_test = sphere_points(n_test, rng)
    y_test = legendre(degree, x_test[:, 2] / np.sqrt(3.0)).astype(dtype)
    x_test = _col(x_test, dtype)
    return Dataset(
        x_train=_col(x_train, dtype), y_train=y_train.astype(dtype),
        x_test=x_test, y_test=y_test, x_grid=x_test, y_grid=y_test,
        view="points",
        description=f"sphere: P_{degree}(cos polar angle), {n_train} points{_noise_word(noise, False)}",
        source_settings={"source": "sphere", "degree": degree},
    )


def make_expression_dataset(
    expression: Expression,
    n_train: int,
    n_test: int,
    noise: float,
    seed: int,
    x_min: float,
    x_max: float,
    n_grid: int = 200,
    dtype=np.float32,
) -> Dataset:
    """A typed target of x1 … x_d, inputs uniform on [x_min, x_max]^d. d = 1 draws as the 1-D
    presets do (so "sin(2*x)" gives the preset 'sin' exactly), d = 2 on the plane's grid, d > 2 as
    points. A target that is NaN or infinite on any point raises ValueError naming the expression."""
    dim = expression.dim
    rng = np.random.default_rng(seed)
    if dim == 1:
        x_train = np.sort(rng.uniform(x_min, x_max, n_train))[:, None]
    else:
        x_train = rng.uniform(x_min, x_max, (n_train, dim))
    y_train = _finite_target(expression, x_train, "training") + noise * rng.standard_normal(n_train)
    x_test = rng.uniform(x_min, x_max, n_test)[:, None] if dim == 1 else rng.uniform(x_min, x_max, (n_test, dim))
    y_test = _finite_target(expression, x_test, "test")
    view, shape, axis = "points", (), None
    x_grid, y_grid = x_test, y_test
    if dim == 1:
        view, x_grid = "line", np.linspace(x_min, x_max, n_grid)[:, None]
        axis = x_grid[:, 0].astype(dtype)
    elif dim == 2:
        view, (x_grid, shape) = "plane", plane_grid(x_min, x_max, n_grid)
    if view != "points":
        y_grid = _finite_target(expression, x_grid, "grid")
    box = f"[{x_min:g}, {x_max:g}]" + ("" if dim == 1 else f"^{dim}" if dim > 3 else "²" if dim == 2 else "³")
    return Dataset(
        x_train=_col(x_train, dtype), y_train=y_train.astype(dtype),
        x_test=_col(x_test, dtype), y_test=y_test.astype(dtype),
        x_grid=_col(x_grid, dtype), y_grid=y_grid.astype(dtype),
        view=view, grid_shape=shape, grid_axis=axis,
        description=f"{expression.text} on {box}, {n_train} points{_noise_word(noise, False)}",
        source_settings={"source": "expression", "expression": expression.text, "dim": dim},
    )


def _finite_target(expression: Expression, x: np.ndarray, where: str) -> np.ndarray:
    y = np.asarray(expression(x), np.float64)
    bad = ~np.isfinite(y)
    if bad.any():
        i = int(np.argmax(bad))
        point = ", ".join(f"{v:.4g}" for v in x[i])
        raise ValueError(
            f"expression: {expression.text!r} is {y[i]} at {int(bad.sum())} of the {len(y)} {where} points "
            f"(first at x = ({point})); change the expression or the input range (data.x_min, data.x_max)."
        )
    return y


def split_rows(n_rows: int, n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test) of a table: a permutation from ``seed``; its first n_train rows
    train, the next min(n_test, n_rows − n_train) test. Needs n_train < n_rows."""
    if n_train >= n_rows:
        raise ValueError(
            f"n_train: {n_train} is not valid for a table of {n_rows} rows; use at most {n_rows - 1} "
            "(at least one row is kept for testing)."
        )
    order = np.random.default_rng(seed).permutation(n_rows)
    return order[:n_train], order[n_train : n_train + n_test]


def standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Columns to zero mean and unit standard deviation, with the training rows' statistics (so the
    test rows tell nothing to the scaling); a constant column is only centred. Returns the scaled
    arrays and (mean, std)."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in (x_train, *others)], mean, std


def project_to_sphere(x: np.ndarray) -> np.ndarray:
    """Each row scaled to norm √d (d = number of columns), so that ⟨x, x⟩/d = 1; a zero row stays 0."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.sqrt(x.shape[1]) * x / np.where(norms > 0, norms, 1.0)


def make_table_dataset(
    x: np.ndarray,
    y: np.ndarray,
    n_train: int,
    n_test: int,
    seed: int,
    *,
    standardize_inputs: bool = True,
    standardize_target: bool = False,
    sphere: bool = False,
    classification: bool = False,
    description: str = "",
    source_settings: dict[str, Any] | None = None,
    dtype=np.float32,
) -> Dataset:
    """A data set from a table of rows x (R, d) and targets y (R,): rows split by :func:`split_rows`,
    inputs standardized with the training rows' statistics and (``sphere``) projected on the sphere
    of radius √d; a regression target optionally standardized too (its mean and std are recorded in
    ``source_settings``). View 'points': the grid is the test set."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    train, test = split_rows(len(x), n_train, n_test, seed)
    x_train, x_test = x[train], x[test]
    settings = dict(source_settings or {})
    if standardize_inputs:
        (x_train, x_test), _, _ = standardize(x_train, x_test)
    if sphere:
        x_train, x_test = project_to_sphere(x_train), project_to_sphere(x_test)
    y_train, y_test = y[train], y[test]
    if standardize_target:
        (y_train, y_test), y_mean, y_std = standardize(y_train, y_test)
        settings.update(target_mean=float(y_mean), target_std=float(y_std))
    settings.update(train_rows=train.tolist(), test_rows=test.tolist())
    return Dataset(
        x_train=_col(x_train, dtype), y_train=y_train.astype(dtype),
        x_test=_col(x_test, dtype), y_test=y_test.astype(dtype),
        x_grid=_col(x_test, dtype), y_grid=y_test.astype(dtype),
        view="points", classification=classification, description=description, source_settings=settings,
    )


def with_random_labels(data: Dataset, seed: int, kind: str = "sign") -> Dataset:
    """The training targets replaced by labels drawn from ``seed`` (a stream apart from the inputs'):
    'sign': ±1 with probability ½ each; 'gaussian': N(0, 1). Test and grid keep the clean target,
    so a network that fits the training set shows chance-level test error (Zhang et al. 2017)."""
    if kind not in LABEL_KINDS:
        raise ValueError(f"label_kind: {kind!r} is not valid; use one of {', '.join(LABEL_KINDS)}.")
    rng = np.random.default_rng([seed, 0x5EED])
    n = len(data.y_train)
    labels = rng.choice([-1.0, 1.0], n) if kind == "sign" else rng.standard_normal(n)
    word = "±1" if kind == "sign" else "Gaussian"
    return replace(
        data,
        y_train=labels.astype(data.y_train.dtype),
        classification=data.classification or kind == "sign",
        description=f"{data.description} · random {word} training labels",
        source_settings={**data.source_settings, "random_labels": True, "label_kind": kind},
    )

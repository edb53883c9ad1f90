"""1-D regression data sets: a target function, noisy training points, clean test points, a grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class Dataset:
    """Host arrays; x_*: (n, 1), y_*: (n,). Test targets are noiseless (generalization to the target)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_grid: np.ndarray
    y_grid: np.ndarray


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
    )

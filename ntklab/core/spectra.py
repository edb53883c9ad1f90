"""Eigen-structure of a kernel on the training set, and what it predicts about training.

Conventions: the loss is C = ‖f − y‖²/(2n) (n training outputs), gradient descent with step η, and
time t = step·η. For the linearized network f_{k+1} − y = (I − ηΘ/n)(f_k − y), so the residual's
component along the i-th eigenvector of Θ scales by (1 − ηλ_i/n) per step (Lee et al. 2019, eq. 8);
in gradient flow dC/dt = −‖∂C/∂f‖²_Θ = −rᵀΘr/n² with r = f − y (Jacot et al. 2018).
Eigendecompositions run on JAX's default device in JAX's float precision (a float32 kernel is
only float32-accurate anyway; below n·ε·λ_max eigenvalues are rounding); the other functions are
host NumPy in float64. All return host NumPy arrays in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class Eigen:
    """Eigenvalues (n,), largest first, and the matching orthonormal eigenvectors as columns (n, n)."""

    values: np.ndarray
    vectors: np.ndarray

    @property
    def condition(self) -> float:
        """λ_max/λ_min; inf when λ_min ≤ 0 (not positive definite at this precision)."""
        lo = self.values[-1]
        return float(self.values[0] / lo) if lo > 0 else float("inf")


@jax.jit
def _eigh_descending(k):
    values, vectors = jnp.linalg.eigh(0.5 * (k + k.T))
    return values[::-1], vectors[:, ::-1]


def eigen(k) -> Eigen:
    """One symmetric eigendecomposition of (K + Kᵀ)/2, sorted largest first.

    Through XLA rather than NumPy's LAPACK: on a GPU it runs there, and on a CPU NumPy's BLAS
    threads would keep spinning after the call, beside XLA's training threads (measured: 0.25 s
    per update of a 1000 × 1000 kernel against 0.1 s for the eigh alone).
    """
    values, vectors = _eigh_descending(jnp.asarray(k))
    return Eigen(np.asarray(values, np.float64), np.asarray(vectors, np.float64))


def mode_residuals(eig: Eigen, residual: np.ndarray) -> np.ndarray:
    """The residual f − y in the eigenbasis: Vᵀ(f − y), (n,)."""
    return eig.vectors.T @ np.asarray(residual, np.float64)


def linear_mode_factors(eigvals: np.ndarray, learning_rate: float, n: int, steps) -> np.ndarray:
    """(1 − ηλ_i/n)^steps: how much of mode i's residual the linearized model keeps after ``steps``.

    ``steps`` a scalar gives (n_modes,); an array of steps (T,) gives (T, n_modes).
    """
    factor = 1.0 - learning_rate * np.asarray(eigvals, np.float64) / n
    steps = np.asarray(steps, np.float64)
    return np.power(factor[None, :], steps.reshape(-1, 1)).reshape(steps.shape + factor.shape)


def loss_rate(k: np.ndarray, residual: np.ndarray) -> float:
    """‖∂C/∂f‖²_Θ = rᵀΘr/n²: minus the gradient-flow rate dC/dt of C = ‖r‖²/(2n) under kernel Θ."""
    r = np.asarray(residual, np.float64)
    return float(r @ (np.asarray(k, np.float64) @ r)) / len(r) ** 2


def target_energy(eig: Eigen, y: np.ndarray) -> np.ndarray:
    """Cumulative fraction of ‖y‖² in the top-k eigenvectors, k = 1…n (the last entry is 1)."""
    proj = eig.vectors.T @ np.asarray(y, np.float64)
    energy = np.cumsum(proj**2)
    return energy / energy[-1] if energy[-1] > 0 else energy


def kernel_target_alignment(k: np.ndarray, y: np.ndarray) -> float:
    """⟨K, yyᵀ⟩_F / (‖K‖_F ‖y‖²) (Cristianini et al. 2002): 1 when K ∝ yyᵀ."""
    k, y = np.asarray(k, np.float64), np.asarray(y, np.float64)
    return float(y @ k @ y) / (np.linalg.norm(k) * float(y @ y))


def kernel_velocity(k_a: np.ndarray, k_b: np.ndarray) -> float:
    """1 − cos(K_a, K_b) in the Frobenius inner product (Fort et al. 2020): 0 when K only rescales."""
    a, b = np.asarray(k_a, np.float64).ravel(), np.asarray(k_b, np.float64).ravel()
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def nystrom_eigenfunctions(eig: Eigen, k_x_train: np.ndarray, count: int, y: np.ndarray | None = None) -> np.ndarray:
    """The top ``count`` eigenfunctions φ_i(x) = √n K(x, X) v_i / λ_i at new points x, (count, m).

    The Nyström extension of the training-set eigenvectors: φ_i equals √n v_i on the training
    points, so (1/n) Σ φ_i(x_j)² = 1. Signs are fixed so that φ_i correlates positively with ``y``
    (with the sum of v_i when y is None or orthogonal).
    """
    n = eig.vectors.shape[0]
    count = min(count, n)
    v = eig.vectors[:, :count]
    ref = np.asarray(y, np.float64) @ v if y is not None else np.zeros(count)
    ref = np.where(np.abs(ref) > 1e-12, ref, v.sum(axis=0))
    v = v * np.where(ref < 0, -1.0, 1.0)
    safe = np.where(eig.values[:count] > 0, eig.values[:count], np.inf)
    return (np.sqrt(n) * (np.asarray(k_x_train, np.float64) @ v) / safe).T


def block_average(k: np.ndarray, order: np.ndarray, size: int = 256) -> np.ndarray:
    """K with rows and columns put in ``order`` and averaged in blocks to at most ``size`` × ``size``.

    A heatmap has a few hundred pixels: a 1000 × 1000 kernel is shown (and kept per snapshot) as
    250 × 250 block means.
    """
    k = np.asarray(k, np.float64)[np.ix_(order, order)]
    n = k.shape[0]
    if n <= size:
        return k
    edges = np.linspace(0, n, size + 1).round().astype(int)
    rows = np.add.reduceat(k, edges[:-1], axis=0)
    blocks = np.add.reduceat(rows, edges[:-1], axis=1)
    counts = np.diff(edges)
    return blocks / np.outer(counts, counts)


DEFINITENESS = ("positive", "unresolved", "indefinite")


def definiteness(eigvals, eps: float) -> str:
    """Whether a symmetric matrix is positive definite beyond rounding, from its spectrum (any order).

    With tol = n·ε·λ_max (n eigenvalues, ε of the dtype the matrix was computed in; Higham 2002,
    §10.1: a backward-stable eigensolver is exact for K + E, ‖E‖ ≲ n·ε·‖K‖): ``'positive'`` when
    λ_min > tol, ``'unresolved'`` when |λ_min| ≤ tol (rounding may hide the sign), ``'indefinite'`` when
    λ_min < −tol (negative beyond rounding: not a valid kernel at this precision).
    """
    values = np.asarray(eigvals, np.float64)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"eigvals: expected a non-empty 1-D array of finite numbers; got {values!r}.")
    tol = values.size * float(eps) * float(np.max(np.abs(values)))
    lo = float(values.min())
    if lo > tol:
        return "positive"
    return "unresolved" if lo >= -tol else "indefinite"

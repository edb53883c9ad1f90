"""Learning curves of kernel regression from the kernel's spectrum (Bordelon, Canatar & Pehlevan 2020).

For inputs x ~ p(x), a kernel with Mercer decomposition K(x, x') = Σ_k η_k φ_k(x) φ_k(x') (φ_k
orthonormal in L²(p)) and a target f*(x) = Σ_k a_k φ_k(x), kernel ridge regression from P samples
with label noise of variance σ² and ridge λ has, averaged over the training sets, the test error

    E_g(P) = [Σ_k κ² a_k² / (P η_k + κ)² + σ² γ] / (1 − γ),    γ = Σ_k P η_k² / (P η_k + κ)²,

where κ solves κ = λ + κ Σ_k η_k / (P η_k + κ) (Bordelon, Canatar & Pehlevan 2020, "Spectrum dependent
learning curves in kernel regression and wide neural networks", ICML; written with the target's
coefficients a_k in the orthonormal basis as in Canatar, Bordelon & Pehlevan 2021, "Spectral bias
and task-model alignment explain generalization in kernel regression", Nat. Commun. 12:2914). Gradient flow to convergence is λ = 0. The spectrum is estimated from M
samples of p(x): the eigenvalues of K/M and the eigenvectors √M·u_k as φ_k on the samples
(Nyström).
"""

from __future__ import annotations

import numpy as np


def sample_spectrum(k_samples: np.ndarray, f_samples: np.ndarray | None = None,
                    cov_samples: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(η (M,), a² (M,)) from the kernel on M samples of p(x) (M, M), largest η first.

    a² is the power of the target per mode, (u_k·f)²/M for the target's values f (M,), plus
    u_kᵀ C u_k/M for a random function of covariance C on the samples (the network's own output at
    initialization, which gradient flow from f(θ0) regresses along with the target).
    """
    k = np.asarray(k_samples, np.float64)
    m = k.shape[0]
    values, vectors = np.linalg.eigh(0.5 * (k + k.T) / m)
    values, vectors = np.maximum(values[::-1], 0.0), vectors[:, ::-1]
    power = np.zeros(m)
    if f_samples is not None:
        power += (vectors.T @ np.asarray(f_samples, np.float64)) ** 2 / m
    if cov_samples is not None:
        c = np.asarray(cov_samples, np.float64)
        power += np.sum(vectors * (c @ vectors), axis=0) / m
    return values, power


def solve_kappa(eigvals: np.ndarray, n_train, ridge: float = 0.0) -> np.ndarray:
    """κ(P) > 0 solving κ = λ + κ Σ_k η_k/(P η_k + κ), for each P in ``n_train``; NaN where none exists
    (λ = 0 and P at or above the number of positive eigenvalues: the regression interpolates
    a finite-rank kernel exactly)."""
    eta = np.asarray(eigvals, np.float64)
    eta = eta[eta > 0]
    ps = np.atleast_1d(np.asarray(n_train, np.float64))
    out = np.full(ps.shape, np.nan)
    for i, p in enumerate(ps):
        if ridge == 0.0 and p >= len(eta):
            continue

        def excess(kappa):  # λ/κ + Σ η/(Pη + κ) − 1: decreasing in κ, > 0 near 0, ≤ 0 at λ + Ση
            return ridge / kappa + np.sum(eta / (p * eta + kappa)) - 1.0

        lo, hi = np.log(1e-300), np.log(ridge + eta.sum())
        for _ in range(200):  # bisection in log κ: to double-precision resolution of κ
            mid = 0.5 * (lo + hi)
            if excess(np.exp(mid)) > 0:
                lo = mid
            else:
                hi = mid
        out[i] = np.exp(0.5 * (lo + hi))
    return out


def learning_curve(eigvals: np.ndarray, power: np.ndarray, n_train, noise_var: float = 0.0,
                   ridge: float = 0.0) -> np.ndarray:
    """E_g(P) for each P in ``n_train`` (see the module's docstring); ``power`` = a_k² per mode."""
    eta, a2 = np.asarray(eigvals, np.float64), np.asarray(power, np.float64)
    ps = np.atleast_1d(np.asarray(n_train, np.float64))
    kappa = solve_kappa(eta, ps, ridge)
    out = np.full(ps.shape, np.nan)
    for i, (p, k) in enumerate(zip(ps, kappa)):
        if not np.isfinite(k):
            continue
        d = p * eta + k
        gamma = np.sum(p * eta**2 / d**2)
        out[i] = (np.sum(k**2 * a2 / d**2) + noise_var * gamma) / (1.0 - gamma)
    return out


__all__ = ["learning_curve", "sample_spectrum", "solve_kappa"]

"""The NTK's eigenvalue per frequency on the circle S¹ and per degree on the sphere S².

A kernel of a rotation-invariant network on a sphere depends on the angle between its two points
only, so its eigenfunctions are known: Fourier modes cos kθ, sin kθ on the circle (2 per k ≥ 1),
spherical harmonics of degree ℓ on S² (2ℓ+1 per ℓ). Only the eigenvalues need computing:
Fourier coefficients on S¹, the Funk–Hecke formula on S² (Bach 2017, JMLR 18, §4; Bietti &
Mairal 2019, NeurIPS, "On the inductive bias of neural tangent kernels").

Normalization: μ are the eigenvalues of the integral operator (T f)(x) = E_{x' uniform}[k(x, x') f(x')]
(the uniform *probability* measure). The n×n kernel matrix on n uniform points then has
eigenvalues ≈ n·μ, and gradient flow on ‖f − y‖²/(2n) shrinks the residual's component in an
eigenspace as e^{−μ t} (t = steps × learning rate; Jacot et al. 2018, Arora et al. 2019).

Points lie on the sphere of radius √d in ℝ^d (d = 2: circle, d = 3: sphere), so the input kernel
⟨x, x'⟩/d of :func:`ntklab.core.stax.input_kernel` is the cosine of the angle, as for unit vectors in
the papers.
"""

from __future__ import annotations

import numpy as np

from ntklab.core.analytic import analytic_kernels
from ntklab.core.network import MLPSpec

KERNELS = ("ntk", "nngp")


def circle_points(theta) -> np.ndarray:
    """Points √2 (cos θ, sin θ) on the circle of radius √2: (n, 2), float64."""
    theta = np.asarray(theta, np.float64)
    return np.sqrt(2.0) * np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def sphere_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniform on the sphere of radius √3 in ℝ³ (normalized Gaussians): (n, 3), float64."""
    z = rng.standard_normal((n, 3))
    return np.sqrt(3.0) * z / np.linalg.norm(z, axis=1, keepdims=True)


def legendre(degree: int, t) -> np.ndarray:
    """The Legendre polynomial P_ℓ(t), P_ℓ(1) = 1, by Bonnet's recurrence (float64)."""
    t = np.asarray(t, np.float64)
    p_prev, p = np.ones_like(t), t
    if degree == 0:
        return p_prev
    for n in range(1, degree):
        p_prev, p = p, ((2 * n + 1) * t * p - n * p_prev) / (n + 1)
    return p


def kernel_along_angle(spec: MLPSpec, theta, dim: int, kernel: str = "ntk", trainable: str = "all") -> np.ndarray:
    """k(θ): the analytic kernel between a point at angle θ from the pole and the pole (n,), float64.

    Both points lie on the sphere of radius √dim in ℝ^dim (dim = 2 or 3). ``trainable``: which layers
    the NTK counts (as in :func:`ntklab.core.analytic.analytic_kernels`).
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel: {kernel!r} is not valid; use 'ntk' or 'nngp'.")
    if dim not in (2, 3):
        raise ValueError(f"dim: {dim!r} is not valid; use 2 (circle) or 3 (sphere).")
    theta = np.asarray(theta, np.float64)
    x = np.zeros((len(theta), dim))
    x[:, 0], x[:, -1] = np.sin(theta), np.cos(theta)
    pole = np.zeros((1, dim))
    pole[0, -1] = 1.0
    k = analytic_kernels(spec, np.sqrt(dim) * x, np.sqrt(dim) * pole, trainable=trainable)
    return np.asarray(getattr(k, kernel), np.float64)[:, 0]


def _angle_quadrature(n_quad: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [0, π]. k(θ) is smooth on [0, π] as a function of θ
    (its kink at θ = 0 is in cos θ, not in θ), so the rule converges quickly in θ."""
    nodes, weights = np.polynomial.legendre.leggauss(n_quad)
    return 0.5 * np.pi * (nodes + 1.0), 0.5 * np.pi * weights


def circle_eigenvalues(spec: MLPSpec, k_max: int, *, kernel: str = "ntk", n_quad: int = 512,
                       trainable: str = "all") -> np.ndarray:
    """μ_k, k = 0 … k_max: the eigenvalue of cos kθ and sin kθ (multiplicity 1 for k = 0, else 2).

    μ_k = (1/2π) ∫ k(θ) cos kθ dθ = (1/π) ∫₀^π k(θ) cos kθ dθ (k is even in θ), by Gauss–Legendre.
    """
    _check_order("k_max", k_max)
    theta, w = _angle_quadrature(n_quad)
    k = kernel_along_angle(spec, theta, 2, kernel, trainable)
    ks = np.arange(k_max + 1)
    return (np.cos(np.outer(ks, theta)) * (w * k)).sum(axis=1) / np.pi


def sphere_eigenvalues(spec: MLPSpec, l_max: int, *, kernel: str = "ntk", n_quad: int = 512,
                       trainable: str = "all") -> np.ndarray:
    """μ_ℓ, ℓ = 0 … l_max: the eigenvalue of the degree-ℓ spherical harmonics on S² (multiplicity 2ℓ+1).

    Funk–Hecke: μ_ℓ = ½ ∫_{−1}^{1} k(t) P_ℓ(t) dt, t = cos θ, computed as ½ ∫₀^π k(θ) P_ℓ(cos θ) sin θ dθ.
    """
    _check_order("l_max", l_max)
    theta, w = _angle_quadrature(n_quad)
    k = kernel_along_angle(spec, theta, 3, kernel, trainable)
    t = np.cos(theta)
    return np.array([0.5 * np.sum(w * k * legendre(l, t) * np.sin(theta)) for l in range(l_max + 1)])


def multiplicities(order_max: int, dim: int) -> np.ndarray:
    """How many eigenfunctions share each eigenvalue: circle 1, 2, 2, …; sphere 2ℓ+1."""
    orders = np.arange(order_max + 1)
    if dim == 2:
        return np.where(orders == 0, 1, 2)
    return 2 * orders + 1


def _check_order(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value <= 1000:
        raise ValueError(f"{name}: {value!r} is not valid; use an integer from 0 to 1000.")

"""Activations: the finite map φ and its infinite-width kernel map, side by side.

Each entry gives, for one activation,

* ``fn(x, **params)``: the elementwise nonlinearity of the finite network;
* ``kernel(q11, q22, q12, **params) -> (q12_new, dot)``: with (u, v) ~ N(0, [[q11, q12], [q12, q22]]),
  ``q12_new = E[φ(u) φ(v)]`` (the NNGP map) and ``dot = E[φ'(u) φ'(v)]`` (the factor the NTK is
  multiplied by). Arguments broadcast; the diagonal is the same map with q12 = q11 = q22.

The closed forms and their conventions are those of neural-tangents (Novak et al. 2020,
``stax/elementwise.py``), written out in ``shared/reference/README.md``. ``tanh`` has no closed form:
tanh is a scale mixture of erf functions, so its kernel is a 24 × 24-term sum of Williams' erf
kernels, accurate to ~1e-13 in float64 for every variance from 0 to beyond 1e6 and every
correlation (:func:`_tanh_kernel`); in float32 within 6e-7 of the float64 value at the same inputs
(mostly the rounding of ρ near ±1 at large variances; ~1e-7 elsewhere).
:func:`gaussian_expectations` (2-D Gauss–Hermite) stays for checking the closed forms of smooth
activations at moderate variances.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

# Nodes of the Kolmogorov Gauss rule per scale of the tanh kernel (cost ∝ order²). Absolute error of
# E[φφ] and E[φ'φ'] against adaptive quadrature, variances 1e-8 … 1e6, every correlation: order 16:
# 6e-10, 20: 2e-11, 24: 1e-13 (float64). tests/core/test_tanh_kernel.py checks it and Monte Carlo.
TANH_MIXTURE_ORDER = 24
# Correlations within this many ε of ±1 count as ±1 in the ReLU family, erf, GELU and tanh (see _gram).
COLLINEAR_EPS = 2


@dataclass(frozen=True)
class Activation:
    """One activation: its finite map, its kernel map and the parameters they take."""

    name: str
    fn: Callable[..., Array]
    kernel: Callable[..., tuple[Array, Array]]
    defaults: Mapping[str, Any]
    description: str
    quadrature_order: int = 0  # > 0 when the kernel is computed by quadrature (cost ∝ order²)

    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``params``; unknown names raise a ValueError that lists the valid ones."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(
                f"activation_params: {sorted(unknown)} not understood by activation "
                f"{self.name!r}; valid parameters: {valid}."
            )
        return {**self.defaults, **params}


# --- arctan ---------------------------------------------------------------------------------------

# arctan(t) ≈ t + t·z·Q(z), z = t², on [0, 1], Q of degree 7: relative error 1.7e-8 in float64 arithmetic,
# within 1.1 ulp in float32 (XLA's CPU arctan: 5.3 ulp on [0, 1], and 6× slower); bench/fit_atan.py fits it.
_ATAN_COEFFS = (-0.33333152690839807, 0.19993771819565154, -0.14211047390623729, 0.10665974930118341,
                -0.075521540618993105, 0.043211185328229693, -0.016367533342241683, 0.0029205984654005201)


def _atan_unit(t):
    """arctan(t) for |t| ≤ 1: the polynomial of ``_ATAN_COEFFS`` in float32, ``jnp.arctan`` in float64.

    XLA's CPU arctan costs ~10 ns per float32 element and was most of an analytic ReLU kernel's time;
    the polynomial is 8 multiply-adds (bench/fit_atan.py measures both)."""
    t = jnp.asarray(t)
    if t.dtype != jnp.float32:
        return jnp.arctan(t)
    z = t * t
    q = jnp.float32(_ATAN_COEFFS[-1])
    for coeff in _ATAN_COEFFS[-2::-1]:
        q = q * z + jnp.float32(coeff)
    return t + (t * z) * q


def _atan(x):
    """arctan(x) for any x: :func:`_atan_unit` of x or of 1/x (arctan x = π/2 − arctan(1/x), x > 0)."""
    x = jnp.asarray(x)
    if x.dtype != jnp.float32:
        return jnp.arctan(x)
    a = jnp.abs(x)
    big = a > 1
    p = _atan_unit(jnp.where(big, 1 / a, a))
    return jnp.copysign(jnp.where(big, jnp.float32(math.pi / 2) - p, p), x)


# --- ReLU family: ABReLU(a, b) = a·min(x, 0) + b·max(x, 0) ------------------------------------


def _abrelu_fn(x, a=0.0, b=1.0):
    return jnp.where(x > 0, b * x, a * x)


def _abrelu_kernel(q11, q22, q12, a=0.0, b=1.0):
    """Arc-cosine kernel of ABReLU, without the factor 2 (Cho & Saul 2009; nt's convention).

    s = √(q11·q22 − q12²) is computed as √((g − q12)(g + q12)) with g = √(q11·q22), i.e. g·√((1 − ρ)(1 + ρ))
    through the correlation ρ = q12/g: the difference of products cancels (in float32 it cost
    ~3e-5·max|K| on the default NTK), and a point with itself (q11 = q22 = q12) gets s = 0 and θ = 0 exactly.
    """
    g, lo, hi = _gram(q11, q22, q12)
    s = jnp.sqrt(lo * hi)
    theta = _angle(s, q12, g)
    f = (a - b) ** 2 / (2 * math.pi)
    dot = (a * a + b * b) / 2 - f * theta
    return f * s + dot * q12, dot


def _gram(q11, q22, q12):
    """``(g, g − q12, g + q12)`` with g = √(q11·q22): their product is q11·q22 − q12² = g²(1 − ρ)(1 + ρ)
    without cancellation (each factor is exact where it is small).

    A factor below ``COLLINEAR_EPS``·ε·g is set to 0 (|ρ| = 1): the rounding of q11, q22 and q12 cannot
    tell such a ρ from ±1, and exactly collinear inputs (a point with itself, 1-D inputs without bias,
    x and 2x) then get θ = 0 or π exactly instead of θ ≈ √(2ε), a relative error √ε (3e-4 in float32)
    per layer. Where |ρ| truly is that close to 1, θ moves by at most √(2·2ε), about what the rounding does.
    """
    g = jnp.sqrt(q11 * q22)
    tol = COLLINEAR_EPS * jnp.finfo(g.dtype).eps * g
    lo, hi = g - q12, g + q12
    return g, jnp.where(lo > tol, lo, 0.0), jnp.where(hi > tol, hi, 0.0)


def _angle(s, c, r):
    """arctan2(s, c) for s ≥ 0 (c = ±0 included), given r = √(s² + c²); in [0, π], and π/2 at s = c = 0
    as nt fills it.

    By the half angle, θ/2 = arctan(s/(r + c)) for c > 0 and π/2 − arctan(s/(r − c)) otherwise: each
    form without cancellation, with its argument in [0, 1] (:func:`_atan_unit`, a short polynomial in
    float32). This angle is the hot loop of every ReLU-family kernel. c = ±0, s > 0 gives θ = π/2.
    """
    positive = c > 0
    half = _atan_unit(s / jnp.where(positive, r + c, r - c))
    theta = jnp.where(positive, 2 * half, math.pi - 2 * half)
    return jnp.where(r > 0, theta, math.pi / 2)


def _relu_fn(x):
    return _abrelu_fn(x, 0.0, 1.0)


def _relu_kernel(q11, q22, q12):
    return _abrelu_kernel(q11, q22, q12, 0.0, 1.0)


def _leaky_relu_fn(x, alpha=0.01):
    return _abrelu_fn(x, alpha, 1.0)


def _leaky_relu_kernel(q11, q22, q12, alpha=0.01):
    return _abrelu_kernel(q11, q22, q12, alpha, 1.0)


# --- Erf: a·erf(b·x) + c ----------------------------------------------------------------------


def _erf_fn(x, a=1.0, b=1.0, c=0.0):
    return a * jax.scipy.special.erf(b * x) + c


def _erf_kernel(q11, q22, q12, a=1.0, b=1.0, c=0.0):
    """Williams (1997): E[erf(u) erf(v)] = (2/π) arcsin(2 q12 / √((1+2q11)(1+2q22)))."""
    b2 = b * b
    q11, q22, q12 = b2 * q11, b2 * q22, b2 * q12
    _, lo, hi = _gram(q11, q22, q12)
    r = jnp.sqrt(1 + 2 * (q11 + q22) + 4 * (lo * hi))  # (1 + 2q11)(1 + 2q22) − 4q12², positive terms only
    q12_new = (2 / math.pi) * _atan(2 * q12 / r)  # = arctan2(2 q12, r) as r > 0
    dot = 4 / (math.pi * r)
    return a * a * q12_new + c * c, a * a * b2 * dot


# --- GELU: x·Φ(x) -----------------------------------------------------------------------------


def _gelu_fn(x, approximate=False):
    return jax.nn.gelu(x, approximate=bool(approximate))


def _gelu_kernel(q11, q22, q12, approximate=False):
    """Kernel of the exact GELU x·Φ(x) (Tsuchida et al. 2021); ``approximate`` changes only φ."""
    del approximate
    p = q11 * q22
    p1 = (1 + q11) * (1 + q22)
    _, lo, hi = _gram(q11, q22, q12)
    delta2 = 1 + (q11 + q22) + lo * hi  # (1 + q11)(1 + q22) − q12², positive terms only
    delta = jnp.sqrt(delta2)
    angle = _atan(q12 / delta)  # = arctan2(q12, Δ) as Δ > 0
    q12_new = q12 / 4 + ((q12 * q12 + p * delta2) / (p1 * delta) + q12 * angle) / (2 * math.pi)
    dot = 0.25 + angle / (2 * math.pi) + q12 / (2 * math.pi * delta) * (1 / delta2 + (1 - p) / p1 + 1)
    return q12_new, dot


# --- Sin: a·sin(b·x + c) ----------------------------------------------------------------------


def _sin_fn(x, a=1.0, b=1.0, c=0.0):
    return a * jnp.sin(b * x + c)


def _sin_kernel(q11, q22, q12, a=1.0, b=1.0, c=0.0):
    """E[sin(bu+c) sin(bv+c)] = ½(e^{-b²(S/2-q12)} − e^{-b²(S/2+q12)} cos 2c), S = q11 + q22."""
    b2 = b * b
    half_s = (q11 + q22) / 2
    plus = jnp.exp(b2 * (q12 - half_s))
    minus = jnp.exp(-b2 * (q12 + half_s)) * math.cos(2 * c)
    return a * a / 2 * (plus - minus), a * a * b2 / 2 * (plus + minus)


# --- Identity -----------------------------------------------------------------------------------


def _identity_fn(x):
    return x


def _identity_kernel(q11, q22, q12):
    return q12, jnp.ones_like(q12)


# --- Tanh: a scale mixture of erf, summed over a Gauss rule -------------------------------------


def _tanh_fn(x):
    return jnp.tanh(x)


def _tanh_kernel(q11, q22, q12):
    """E[tanh u tanh v] and E[sech²u sech²v] through tanh(x) = E_K[erf(x/(K√2))], K ~ Kolmogorov.

    The logistic distribution is a scale mixture of normals, N(0, 4K²) with K Kolmogorov-distributed
    (Andrews & Mallows 1974; Stefanski 1991), so tanh(x) = 2·logistic_cdf(2x) − 1 = E_K[erf(x/(K√2))].
    For each pair of scales Williams' (1997) erf kernel is closed: with
    D = (K₁² + q11)(K₂² + q22) − q12²,

        E[erf(u/(K₁√2)) erf(v/(K₂√2))] = (2/π)·arctan(q12/√D),
        E[∂ᵤerf(u/(K₁√2)) ∂ᵥerf(v/(K₂√2))] = (2/π)/√D,

    and the expectation over (K₁, K₂) is a Gauss rule of the Kolmogorov distribution
    (:func:`kolmogorov_rule`). The summands are smooth in K for every q and ρ — large variances make
    them flatter, not sharper — so the error is ~1e-13 in float64 for variances 1e-8 … 1e6 and every
    correlation (tests/core/test_tanh_kernel.py). D is summed from positive terms,
    K₁²K₂² + K₁²q22 + K₂²q11 + q11q22(1 − ρ)(1 + ρ), without cancellation.
    """
    nodes, weights = kolmogorov_rule(TANH_MIXTURE_ORDER)
    dtype = jnp.result_type(q11, q22, q12)
    k2, w = jnp.asarray(nodes * nodes, dtype), jnp.asarray(weights, dtype)
    q11, q22, q12 = jnp.broadcast_arrays(q11, q22, q12)
    # q11 takes the larger variance: then k(x, x') and k(x', x) are the same sum, exactly symmetric.
    q11, q22 = jnp.maximum(q11, q22), jnp.minimum(q11, q22)
    _, lo, hi = _gram(q11, q22, q12)
    det = lo * hi  # q11·q22 − q12², without cancellation
    inner_q11, inner_q12 = q11[..., None], q12[..., None]

    def outer(carry, node):
        k2_1, w_1 = node
        d = (k2_1 * q22 + det)[..., None] + k2 * (k2_1 + inner_q11)  # (..., order)
        r = 1 / jnp.sqrt(d)
        acc_f, acc_d = carry
        return (acc_f + w_1 * jnp.sum(w * _atan(inner_q12 * r), axis=-1),
                acc_d + w_1 * jnp.sum(w * r, axis=-1)), None

    zeros = jnp.zeros_like(q12)
    (e_ff, e_dd), _ = jax.lax.scan(outer, (zeros, zeros), (k2, w))
    return (2 / math.pi) * e_ff, (2 / math.pi) * e_dd


def _kolmogorov_pdf(x):
    """Density of the Kolmogorov distribution P(K ≤ x) = 1 − 2Σ(−1)^{k−1}e^{−2k²x²}, x > 0 (NumPy).

    The alternating series above x = 1, its Jacobi-theta dual √(2π)/x·Σe^{−(2k−1)²π²/(8x²)} below."""
    x = np.asarray(x, np.float64)
    k = np.arange(1, 8)[:, None]
    a = (2 * k - 1) ** 2 * math.pi**2 / 8
    small = np.minimum(x, 1.0)
    dual = math.sqrt(2 * math.pi) * np.sum(np.exp(-a / small**2) * (2 * a / small**4 - 1 / small**2), axis=0)
    large = np.maximum(x, 1.0)
    series = 8 * large * np.sum((-1.0) ** (k - 1) * k**2 * np.exp(-2 * k**2 * large**2), axis=0)
    return np.where(x < 1.0, dual, series)


@functools.cache
def kolmogorov_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rule of the Kolmogorov distribution: ``order`` nodes K_i > 0 and weights w_i > 0 (sum 1)
    with Σ w_i f(K_i) = E[f(K)] exactly for polynomials f of degree < 2·order.

    Stieltjes' procedure on a trapezoidal discretization of the density on (0, 6] (spectrally
    accurate: the density vanishes with all its derivatives at 0 and is below 1e-29 beyond 6),
    then the eigenvalues of the Jacobi matrix (Golub & Welsch 1969; Gautschi 2004, §2.2.3).
    """
    x = np.linspace(0.0, 6.0, 2401)[1:]
    m = _kolmogorov_pdf(x) * (x[1] - x[0])
    alpha, beta = np.zeros(order), np.zeros(order)
    p_prev, p = np.zeros_like(x), np.full_like(x, 1 / math.sqrt(m.sum()))
    for k in range(order):
        alpha[k] = np.sum(m * x * p * p)
        q = (x - alpha[k]) * p - (beta[k - 1] if k else 0.0) * p_prev
        beta[k] = math.sqrt(np.sum(m * q * q))
        p_prev, p = p, q / beta[k]
    jacobi = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    nodes, vectors = np.linalg.eigh(jacobi)
    return nodes, vectors[0] ** 2


def derivative(fn: Callable[[Array], Array]) -> Callable[[Array], Array]:
    """Elementwise derivative φ'(x) of an elementwise ``fn``, by forward-mode differentiation."""

    def dfn(x):
        return jax.jvp(fn, (x,), (jnp.ones_like(x),))[1]

    return dfn


def gaussian_expectations(fn, q11, q22, q12, *, order: int):
    """``(E[φ(u)φ(v)], E[φ'(u)φ'(v)])`` for (u, v) ~ N(0, [[q11, q12], [q12, q22]]) by 2-D Gauss–Hermite.

    u = √q11·z1 and v = ρ√q22·z1 + √(q22(1−ρ²))·z2 with z1, z2 iid N(0, 1); ``order`` nodes per axis.
    The error falls geometrically with ``order`` for analytic φ (tanh: poles at ±iπ/2), more slowly
    as the variances grow. Memory is O(broadcast shape × order): the outer axis is a ``lax.scan``.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    weights = weights / math.sqrt(2 * math.pi)
    dtype = jnp.result_type(q11, q22, q12)
    nodes, weights = jnp.asarray(nodes, dtype), jnp.asarray(weights, dtype)
    dfn = derivative(fn)
    q11, q22, q12 = jnp.broadcast_arrays(q11, q22, q12)
    # u takes the larger variance: then k(x, x') and k(x', x) are the same sum, exactly symmetric.
    q11, q22 = jnp.maximum(q11, q22), jnp.minimum(q11, q22)
    sd1 = jnp.sqrt(q11)
    safe_sd1 = jnp.where(sd1 > 0, sd1, 1.0)
    slope = jnp.where(sd1 > 0, q12 / safe_sd1, 0.0)  # coefficient of z1 in v
    rest = jnp.sqrt(jnp.maximum(q22 - slope * slope, 0.0))  # coefficient of z2 in v

    def outer(carry, node_weight):
        z1, w1 = node_weight
        u = sd1 * z1
        v = slope[..., None] * z1 + rest[..., None] * nodes  # (..., order)
        inner_f = jnp.sum(weights * fn(v), axis=-1)
        inner_d = jnp.sum(weights * dfn(v), axis=-1)
        acc_f, acc_d = carry
        return (acc_f + w1 * fn(u) * inner_f, acc_d + w1 * dfn(u) * inner_d), None

    zeros = jnp.zeros_like(q12)
    (e_ff, e_dd), _ = jax.lax.scan(outer, (zeros, zeros), (nodes, weights))
    return e_ff, e_dd


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", _relu_fn, _relu_kernel, {}, "max(x, 0)"),
        Activation("leaky_relu", _leaky_relu_fn, _leaky_relu_kernel, {"alpha": 0.01}, "max(x, αx)"),
        Activation("abrelu", _abrelu_fn, _abrelu_kernel, {"a": 0.0, "b": 1.0}, "a·min(x,0) + b·max(x,0)"),
        Activation("erf", _erf_fn, _erf_kernel, {"a": 1.0, "b": 1.0, "c": 0.0}, "a·erf(b·x) + c"),
        Activation("gelu", _gelu_fn, _gelu_kernel, {"approximate": False}, "x·Φ(x)"),
        Activation("sin", _sin_fn, _sin_kernel, {"a": 1.0, "b": 1.0, "c": 0.0}, "a·sin(b·x + c)"),
        Activation("tanh", _tanh_fn, _tanh_kernel, {}, "tanh(x) (kernel by a Gauss rule of erf kernels)",
                   TANH_MIXTURE_ORDER),
        Activation("identity", _identity_fn, _identity_kernel, {}, "x (a linear network)"),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; a ValueError lists the valid names otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation: {name!r} is not known; choose one of {', '.join(ACTIVATIONS)}."
        ) from None
